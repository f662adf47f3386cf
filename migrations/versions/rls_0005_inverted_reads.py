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

import importlib.util
from pathlib import Path

from alembic import op

revision = "rls_0005"
down_revision = "edfi_0006"
branch_labels = None
depends_on = None


def _load(name: str):
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RLS_0002 = _load("rls_0002_edfi_row_security")
RLS_0003 = _load("rls_0003_all_resources_row_security")
ROLE, POLICY = RLS_0002.ROLE, RLS_0002.POLICY

# table → its own education organization column
INVERTED_TABLES = {
    "chart_of_accounts": "education_organization_id",
    "courses": "education_organization_id",
    "programs": "education_organization_id",
}

_ANCESTOR_IDS_FUNCTION = r"""
CREATE FUNCTION gateway_request_edorg_ancestor_ids() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN current_setting('gateway.edorg_ancestor_ids', true)
                     ~ '^\{(-?[0-9]{1,18}(,-?[0-9]{1,18})*)?\}$'
                THEN current_setting('gateway.edorg_ancestor_ids', true)::bigint[]
                ELSE '{}'::bigint[] END
$$
"""
_IN_ANCESTORS = "= ANY ((SELECT gateway_request_edorg_ancestor_ids())::bigint[])"


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
