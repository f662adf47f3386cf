"""A student a client is responsible for relates records, where the claim set says so (issue 15).

The ODS/API authorizes special education eligibility associations with
RelationshipsWithEdOrgsAndPeople or RelationshipsWithStudentsOnlyThroughResponsibility (its
security metadata, 2150): a school responsible for a student (a
StudentEducationOrganizationResponsibilityAssociation) reads the student's eligibility wherever it
was recorded. rls_0003 admitted an eligibility row by its own organization only, so the database
withheld what the application allows. This revision replaces the policy of the tables of the
resources some claim set authorizes with a …ThroughResponsibility strategy: a row is admitted by its
own organization, or by its student's responsibility associations with the request's
organizations. (The application still requires what the client's claim set asks: the database
admits a superset.)

The rules are frozen below (gateway.edfi.security.table_rules printed them);
tests/edfi/test_row_security_migration.py compares every revision's rules, the latest winning, with
the application's.

Revision ID: rls_0006
Revises: sync_0001
"""

import runpy
from pathlib import Path
from types import SimpleNamespace

revision = "rls_0006"
down_revision = "sync_0001"
branch_labels = None
depends_on = None

RLS_0004 = SimpleNamespace(
    **runpy.run_path(str(Path(__file__).with_name("rls_0004_staff_employment.py")))
)
RLS_0002, RLS_0003 = RLS_0004.RLS_0002, RLS_0004.RLS_0003

RESPONSIBILITY = [
    [
        "student_education_organization_responsibility_associations",
        {"student_unique_id": "student_unique_id"},
        "education_organization_id",
    ]
]
# table → its rule now
RULES: dict[str, dict] = {
    "student_special_education_program_eligibility_associations": {
        "edorg": "education_organization_id",
        "via": [RESPONSIBILITY],
    },
}


def upgrade() -> None:
    if not RLS_0003.enabled():
        return
    RLS_0004._replace(RULES)


def downgrade() -> None:
    if not RLS_0003.enabled():
        return
    before = {**RLS_0002.RULES, **RLS_0003.RULES, **RLS_0004.RULES}
    RLS_0004._replace({table: before[table] for table in RULES})
