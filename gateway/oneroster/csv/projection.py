"""The hook point where a CSV import projects its changes into the Ed-Fi side.

The mapping layer owns the translation (gateway.mapping.to_edfi.bulk); it is called here, inside
the import's transaction, so the two models commit (or roll back) together.
"""

from __future__ import annotations

from sqlalchemy.orm import Session


def project_import(session: Session, typed_tables: dict[str, str]) -> None:
    """Project an applied import into Ed-Fi.

    `typed_tables` maps each imported file ("users", "classes" …) to a temporary table (or, for
    a first load, a view) of the rows the import wrote, columns named as in the OneRoster tables,
    plus `kind`: new | changed | delete (unchanged rows are left out; NULL: not written).
    """
    from gateway.mapping.to_edfi.bulk import project_oneroster_import

    project_oneroster_import(session, typed_tables)
