"""Reads the ODS/API authorizes with an …Inverted strategy reach up the hierarchy (issue 15).

Ed-Fi Sandbox reads courses, programs and charts of accounts with
RelationshipsWithEdOrgsAndPeopleInverted besides the usual strategy: a school's client reads the
courses its LEA defines. The request then carries the organizations above the client's in the
setting `gateway.edorg_ancestor_ids` (empty for every other read: the application sets it only
where the claim set's strategy is inverted), and these tables' policies admit a row whose own
organization is among them, besides what rls_0002 and rls_0003 admit.

The tables are those of the resources some claim set reads with an inverted strategy (frozen
below; tests/edfi/test_row_security_migration.py compares them with the security metadata).

Revision ID: rls_0005
Revises: edfi_0006
"""

import runpy
from pathlib import Path
from types import SimpleNamespace

from alembic import op

revision = "rls_0005"
down_revision = "edfi_0006"
branch_labels = None
depends_on = None


# rls_0004 loads the revisions whose conditions these policies extend
RLS_0004 = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).with_name("rls_0004_staff_employment.py")))
)
RLS_0002, RLS_0003 = RLS_0004.RLS_0002, RLS_0004.RLS_0003
ROLE, POLICY = RLS_0002.ROLE, RLS_0002.POLICY

# table → its own education organization column
INVERTED_TABLES = {
    "chart_of_accounts": "education_organization_id",
    "courses": "education_organization_id",
    "programs": "education_organization_id",
}

# rls_0002's function and test over another setting: the organizations above the client's
_ANCESTOR_IDS_FUNCTION = RLS_0002._EDORG_IDS_FUNCTION.replace(
    "gateway_request_edorg_ids", "gateway_request_edorg_ancestor_ids"
).replace("gateway.edorg_ids", "gateway.edorg_ancestor_ids")
_IN_ANCESTORS = RLS_0002._IN_IDS.replace(
    "gateway_request_edorg_ids", "gateway_request_edorg_ancestor_ids"
)


def _rules() -> dict[str, dict]:
    return {**RLS_0002.RULES, **RLS_0003.RULES}


def _policy(table: str, using: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute(f"CREATE POLICY {POLICY} ON {table} FOR SELECT TO {ROLE} USING ({using})")


def upgrade() -> None:
    if not RLS_0003.enabled():
        return
    op.execute(_ANCESTOR_IDS_FUNCTION)
    for table, column in INVERTED_TABLES.items():
        usual = RLS_0002.condition(table, _rules()[table])
        _policy(table, f"({usual}) OR ({table}.{column} {_IN_ANCESTORS})")


def downgrade() -> None:
    if not RLS_0003.enabled():
        return
    for table in INVERTED_TABLES:
        _policy(table, RLS_0002.condition(table, _rules()[table]))
    op.execute("DROP FUNCTION IF EXISTS gateway_request_edorg_ancestor_ids()")
