"""The hook point where a CSV import projects its changes into the Ed-Fi side.

The mapping layer (gateway/mapping, issue 5) owns the translation. When it provides a projection
service for OneRoster writes, it is called here, inside the import's transaction, so the two models
commit (or roll back) together.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def project_import(session: Session, typed_tables: dict[str, str]) -> None:
    """Project an applied import into Ed-Fi.

    `typed_tables` maps each imported file ("users", "classes" …) to a temporary table (or, for
    a first load, a view) of the rows the import wrote, columns named as in the OneRoster tables,
    plus `kind`: new | changed | delete (unchanged rows are left out; NULL: not written).
    """
    try:
        from gateway.mapping import projection  # type: ignore[attr-defined]
    except ImportError:
        return  # the mapping layer has no projection service yet
    project = getattr(projection, "project_oneroster_import", None)
    if project is not None:
        project(session, typed_tables)
