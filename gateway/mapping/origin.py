"""Where an Ed-Fi row was born, and the guard that keeps a projection from echoing into its source.

Both directions use it: the OneRoster → Ed-Fi side marks what it writes (`origin`) and writes under
`projecting`; the Ed-Fi → OneRoster side skips what is so marked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

# The `origin` of Ed-Fi rows the OneRoster → Ed-Fi projection writes.
EDFI_FROM_ONEROSTER = "oneroster"

# session.info flag: set while the mapping layer itself writes Ed-Fi rows (OneRoster-born data),
# so those writes are not projected back into OneRoster.
PROJECTING = "gateway.mapping.projecting"


@contextmanager
def projecting(session: Session) -> Iterator[None]:
    """The mapping's own Ed-Fi writes within: not projected back into OneRoster."""
    session.info[PROJECTING] = True
    try:
        yield
    finally:
        session.info.pop(PROJECTING, None)
