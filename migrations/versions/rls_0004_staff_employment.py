"""Staff reach the organizations that employ them, as in the ODS/API (issue 15).

The ODS/API relates a staff member to an education organization through an employment or an
assignment association (StaffEducationOrganizationEmploymentAssociation,
StaffEducationOrganizationAssignmentAssociation); rls_0002 froze assignments and staff section
associations. This revision replaces the policies of the staff table and of every table reaching
organizations through a staff member (leaves, absence events, survey response targets) with the
rule schemas/edfi/authorization.json gives now: employment, else assignment. rls_0002's conditions
(and its functions) build them.

The rules are frozen below (gateway.edfi.security.table_rules printed them);
tests/edfi/test_row_security_migration.py compares every revision's rules, the latest winning, with
the application's.

Revision ID: rls_0004
Revises: tok_0002
"""

import importlib.util
import logging
from pathlib import Path

from alembic import op

revision = "rls_0004"
down_revision = "tok_0002"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def _load(name: str):
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RLS_0002 = _load("rls_0002_edfi_row_security")
RLS_0003 = _load("rls_0003_all_resources_row_security")
ROLE, POLICY, TRACKED = RLS_0002.ROLE, RLS_0002.POLICY, RLS_0002.TRACKED

EMPLOYMENT = [
    [
        "staff_education_organization_employment_associations",
        {"staff_unique_id": "staff_unique_id"},
        "education_organization_id",
    ]
]
ASSIGNMENT = [
    [
        "staff_education_organization_assignment_associations",
        {"staff_unique_id": "staff_unique_id"},
        "education_organization_id",
    ]
]
STAFF_RULE = {"via": [EMPLOYMENT, ASSIGNMENT]}
# table → its rule now (every one reaches organizations as the staff member it names does)
RULES: dict[str, dict] = {
    "staff_absence_events": STAFF_RULE,
    "staff_leaves": STAFF_RULE,
    "staffs": STAFF_RULE,
    "survey_response_staff_target_associations": STAFF_RULE,
    "survey_section_response_staff_target_associations": STAFF_RULE,
}


def _replace(rules: dict[str, dict]) -> None:
    for table, rule in rules.items():
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        using = RLS_0002.condition(table, rule)
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR SELECT TO {ROLE} USING ({using})")


def upgrade() -> None:
    if not RLS_0003.enabled():
        log.warning("row-level security is off (see rls_0002): no policies to replace")
        return
    _replace(RULES)


def downgrade() -> None:
    if not RLS_0003.enabled():
        return
    before = {**RLS_0002.RULES, **RLS_0003.RULES}
    _replace({table: before[table] for table in RULES})
