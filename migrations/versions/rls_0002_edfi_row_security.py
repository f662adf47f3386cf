"""Tenant isolation in the database (compliance rule 2): row-level security on Ed-Fi reads.

Ed-Fi reads of a client limited to some education organizations run as the NOLOGIN role
`gateway_reader` of rls_0001, with the client's Ed-Fi education organization ids (descendants
included) in the transaction-local setting `gateway.edorg_ids` as a bigint[] literal. The policies
below give that role only the rows those organizations reach, each table by the rule of
schemas/edfi/authorization.json that the application's filter (gateway/edfi/security.py) applies:
the row's own education organization column, or chains of related rows ending at one (a student
through a studentSchoolAssociation at one of the client's schools). An unset, empty or malformed
setting shows no rows of these tables. PostgreSQL applies a chain's tables' own policies inside
the chain too; with these rules they only repeat the chain's condition (and no chain loops back).

Readable by the role whatever the setting (SELECT granted, no policy): the descriptors (shared
catalogue data, as in the Ed-Fi API where every client reads every descriptor). Tombstones and key
changes (edfi_tracked_changes) are kept with the organizations their record reached when it was
deleted or re-keyed; a row of a resource these rules do not govern is readable, as its resource is.

The rules are frozen below (gateway.edfi.security.table_rules printed them when this revision was
written): a later change to authorization.json needs a revision of its own, and
tests/edfi/test_row_security_migration.py says so when they differ.

A server where the migrating user may neither create the reader role nor use it gets no policies,
as with rls_0001: a warning is logged and the application's filter alone applies.

Revision ID: rls_0002
Revises: oneroster_0004
"""

import logging

from alembic import op

revision = "rls_0002"
down_revision = "oneroster_0004"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

ROLE = "gateway_reader"
POLICY = "edorg_reach"

# table → {"edorg": its own education organization column, "via": chains of hops}; a hop is
# [table, {column of the previous hop: column of this table}, education organization column].
RULES: dict[str, dict] = {
    "calendar_dates": {"edorg": "school_id"},
    "calendars": {"edorg": "school_id"},
    "contacts": {
        "via": [
            [
                ["student_contact_associations", {"contact_unique_id": "contact_unique_id"}, None],
                [
                    "student_school_associations",
                    {"student_unique_id": "student_unique_id"},
                    "school_id",
                ],
            ]
        ]
    },
    "course_offerings": {"edorg": "school_id"},
    "courses": {"edorg": "education_organization_id"},
    "gradebook_entries": {"edorg": "school_id"},
    "local_education_agencies": {"edorg": "local_education_agency_id"},
    "schools": {"edorg": "school_id"},
    "sections": {"edorg": "school_id"},
    "sessions": {"edorg": "school_id"},
    "staff_education_organization_assignment_associations": {"edorg": "education_organization_id"},
    "staff_section_associations": {"edorg": "school_id"},
    "staffs": {
        "via": [
            [
                [
                    "staff_education_organization_assignment_associations",
                    {"staff_unique_id": "staff_unique_id"},
                    "education_organization_id",
                ]
            ],
            [["staff_section_associations", {"staff_unique_id": "staff_unique_id"}, "school_id"]],
        ]
    },
    "student_contact_associations": {
        "via": [
            [
                [
                    "student_school_associations",
                    {"student_unique_id": "student_unique_id"},
                    "school_id",
                ]
            ]
        ]
    },
    "student_education_organization_associations": {"edorg": "education_organization_id"},
    "student_gradebook_entries": {
        "via": [
            [
                [
                    "gradebook_entries",
                    {
                        "gradebook_entry_identifier": "gradebook_entry_identifier",
                        "namespace": "namespace",
                    },
                    "school_id",
                ]
            ]
        ]
    },
    "student_school_associations": {"edorg": "school_id"},
    "student_section_associations": {"edorg": "school_id"},
    "students": {
        "via": [
            [
                [
                    "student_school_associations",
                    {"student_unique_id": "student_unique_id"},
                    "school_id",
                ]
            ]
        ]
    },
}

# The resources those tables serve, as edfi_tracked_changes.resource names them.
GOVERNED_RESOURCES = (
    "calendarDates",
    "calendars",
    "contacts",
    "courseOfferings",
    "courses",
    "gradebookEntries",
    "localEducationAgencies",
    "schools",
    "sections",
    "sessions",
    "staffEducationOrganizationAssignmentAssociations",
    "staffSectionAssociations",
    "staffs",
    "studentContactAssociations",
    "studentEducationOrganizationAssociations",
    "studentGradebookEntries",
    "studentSchoolAssociations",
    "studentSectionAssociations",
    "students",
)

TRACKED = "edfi_tracked_changes"
SHARED = ("descriptors",)  # readable by every client: no policy
READ_TABLES = (*sorted(RULES), TRACKED, *SHARED)

# The request's education organizations, as an InitPlan `(SELECT …)` in each policy (as in
# rls_0001): it runs once per statement and the policy stays an index condition.
_EDORG_IDS_FUNCTION = r"""
CREATE FUNCTION gateway_request_edorg_ids() RETURNS bigint[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN current_setting('gateway.edorg_ids', true)
                     ~ '^\{(-?[0-9]{1,18}(,-?[0-9]{1,18})*)?\}$'
                THEN current_setting('gateway.edorg_ids', true)::bigint[]
                ELSE '{}'::bigint[] END
$$
"""
# The cast makes it `= ANY (array)`: a bare `= ANY ((SELECT …))` parses as `= ANY (subquery)`.
_IN_IDS = "= ANY ((SELECT gateway_request_edorg_ids())::bigint[])"


def _chain(table: str, hops: list) -> str:
    """The row's columns of the chain's first hop IN the chain's rows that reach one of the
    request's organizations.

    IN over an uncorrelated subquery, not a correlated EXISTS: PostgreSQL never turns a policy's
    subquery into a join, and as IN it can hash the subquery's rows once per statement (the
    organization's students, say) instead of probing the index per row of the table read. With
    the application's own EXISTS (a join the planner may drive from the organization's side),
    a limited client's page costs about what it cost before the policies."""
    froms, conditions = [], []
    for n, (hop_table, on, edorg) in enumerate(hops, start=1):
        alias = f"h{n}"
        froms.append(f"{hop_table} {alias}")
        if n > 1:
            conditions += [f"{alias}.{there} = h{n - 1}.{here}" for here, there in on.items()]
        if edorg is not None:
            conditions.append(f"{alias}.{edorg} {_IN_IDS}")
    first = hops[0][1]
    mine = ", ".join(f"{table}.{here}" for here in first)
    theirs = ", ".join(f"h1.{there}" for there in first.values())
    if len(first) > 1:
        mine = f"({mine})"
    where = " AND ".join(conditions) if conditions else "true"
    return f"{mine} IN (SELECT {theirs} FROM {', '.join(froms)} WHERE {where})"


def condition(table: str, rule: dict) -> str:
    """A table's policy: any of its rule's alternatives reaches one of the request's
    organizations."""
    alternatives = [f"{table}.{rule['edorg']} {_IN_IDS}"] if "edorg" in rule else []
    alternatives += [_chain(table, hops) for hops in rule.get("via", [])]
    return " OR ".join(f"({a})" for a in alternatives) if alternatives else "false"


def tracked_condition() -> str:
    governed = ", ".join(f"'{name}'" for name in GOVERNED_RESOURCES)
    # jsonb_array_elements_text fails on a scalar, a cast on a non-number: CASE guards both
    # (AND does not fix an order of evaluation).
    return (
        f"resource NOT IN ({governed}) OR CASE WHEN jsonb_typeof(edorg_ids) = 'array' THEN "
        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(edorg_ids) AS e(value) "
        "WHERE CASE WHEN e.value ~ '^-?[0-9]{1,18}$' THEN e.value::bigint END "
        f"{_IN_IDS}) ELSE false END"
    )


def policies() -> dict[str, str]:
    found = {table: condition(table, rule) for table, rule in RULES.items()}
    found[TRACKED] = tracked_condition()
    return found


def _scalar(sql: str) -> object:
    return op.get_bind().exec_driver_sql(sql).scalar()


def _role_usable() -> bool:
    """As rls_0001: the role exists (or may be created) and the migrating user may take it."""
    me = "FROM pg_roles WHERE rolname = current_user"
    if not _scalar(f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'"):
        if not _scalar(f"SELECT rolsuper OR rolcreaterole {me}"):
            return False
        op.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    if _scalar(f"SELECT pg_has_role(current_user, '{ROLE}', 'MEMBER')"):
        return True
    if not _scalar(
        f"SELECT rolsuper OR pg_has_role(current_user, '{ROLE}', 'MEMBER WITH ADMIN OPTION') {me}"
    ):
        return False
    op.execute(f"GRANT {ROLE} TO current_user")
    return True


def upgrade() -> None:
    if not _role_usable():
        log.warning(
            "row-level security left off for Ed-Fi reads: the migrating user may not create or "
            "use role %s (grant it CREATEROLE, or create the role and grant it to that user, "
            "then run `gateway migrate` again after a downgrade to edfi_0004); the application's "
            "education organization filter still applies",
            ROLE,
        )
        return
    schema = _scalar("SELECT current_schema()")
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {ROLE}')
    op.execute(f"GRANT SELECT ON {', '.join(READ_TABLES)} TO {ROLE}")
    op.execute(_EDORG_IDS_FUNCTION)
    for table, using in policies().items():
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR SELECT TO {ROLE} USING ({using})")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in policies():
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS gateway_request_edorg_ids()")
    if not _scalar(f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'"):
        return
    # The schema's USAGE and the role itself are rls_0001's: they stay for its policies.
    op.execute(f"REVOKE SELECT ON {', '.join(READ_TABLES)} FROM {ROLE}")
