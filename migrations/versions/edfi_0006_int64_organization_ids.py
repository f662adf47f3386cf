"""Education organization ids are 64-bit everywhere, as the DS5 OpenAPI declares them (int64).

edfi_0001 gave three of them 32-bit columns: schools.school_id, schools.local_education_agency_id
and student_school_associations.school_id; a school with an id beyond 2,147,483,647 (the ODS/API's
own suite posts 9007199254740991) could not be stored. PostgreSQL will not change the type of a
column a row-level security policy names, so the policies that name these columns are read back
from the catalogue, dropped, and created again exactly as they were around the change.

Revision ID: edfi_0006
Revises: rls_0004
"""

from alembic import op

revision = "edfi_0006"
down_revision = "rls_0004"
branch_labels = None
depends_on = None

COLUMNS = {
    "schools": ("school_id", "local_education_agency_id"),
    "student_school_associations": ("school_id",),
}

_DEPENDENT_POLICIES = """
SELECT DISTINCT pc.relname, p.polname
FROM pg_depend d
JOIN pg_policy p ON d.classid = 'pg_policy'::regclass AND p.oid = d.objid
JOIN pg_class pc ON pc.oid = p.polrelid
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE a.attrelid = %(table)s::regclass AND a.attname = ANY(%(columns)s)
"""

_DEFINITION = """
SELECT permissive, roles, cmd, qual, with_check FROM pg_policies
WHERE schemaname = current_schema() AND tablename = %(table)s AND policyname = %(name)s
"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _change(to: str) -> None:
    bind = op.get_bind()
    found: set[tuple[str, str]] = set()
    for table, columns in COLUMNS.items():
        found |= {
            (t, n)
            for t, n in bind.exec_driver_sql(
                _DEPENDENT_POLICIES, {"table": table, "columns": list(columns)}
            )
        }
    saved = []
    for table, name in sorted(found):
        permissive, roles, cmd, qual, with_check = bind.exec_driver_sql(
            _DEFINITION, {"table": table, "name": name}
        ).one()
        saved.append((table, name, permissive, roles, cmd, qual, with_check))
        op.execute(f"DROP POLICY {_quoted(name)} ON {_quoted(table)}")
    for table, columns in COLUMNS.items():
        changes = ", ".join(f"ALTER COLUMN {c} TYPE {to}" for c in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
    for table, name, permissive, roles, cmd, qual, with_check in saved:
        clauses = [
            f"CREATE POLICY {_quoted(name)} ON {_quoted(table)} AS {permissive} FOR {cmd}",
            "TO " + ", ".join(r if r == "public" else _quoted(r) for r in roles),
        ]
        if qual is not None:
            clauses.append(f"USING ({qual})")
        if with_check is not None:
            clauses.append(f"WITH CHECK ({with_check})")
        op.execute(" ".join(clauses))


def upgrade() -> None:
    _change("bigint")


def downgrade() -> None:
    # fails, leaving everything as it was, when an id no longer fits in 32 bits
    _change("integer")
