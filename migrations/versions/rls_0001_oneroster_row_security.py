"""Tenant isolation in the database (compliance rule 2): row-level security on OneRoster reads.

OneRoster REST reads of a client limited to some organizations run as the NOLOGIN role
`gateway_reader`, with the client's organizations (their sourcedIds, descendants included) in the
transaction-local setting `gateway.org_ids` as a text[] literal. The policies below give that role
only the rows of those organizations, each table by the same rule as the application's filter
(routes.json `reach`, gateway/oneroster/relations.py reach_in). An unset, empty or malformed
setting shows no rows. Tables stay open to their owner (RLS is enabled, not forced), so writers
(CSV import, Ed-Fi writes, projection, purge) and clients that reach every organization read and
write as before.

A server where the migrating user may neither create that role nor use an existing one (no
CREATEROLE) gets no policies: a warning is logged and the application's filter alone applies.

Revision ID: rls_0001
Revises: edfi_0003
"""

import logging

from alembic import op

revision = "rls_0001"
down_revision = "edfi_0003"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

ROLE = "gateway_reader"

# Every table a OneRoster REST read touches: entities.json tables, their link tables, and the
# stored counts (whole collections of catalogue data with no organization, such as /terms).
READ_TABLES = (
    "oneroster_counts",
    "academic_sessions",
    "categories",
    "class_resources",
    "classes",
    "course_resources",
    "demographics",
    "enrollments",
    "line_items",
    "oneroster_courses",
    "organizations",
    "resources",
    "results",
    "users",
)

# The request's organizations; an InitPlan `(SELECT …)` in each policy, so it runs once per
# statement and the policy stays an index condition (col = ANY($n)), never a per-row call.
_ORG_IDS_FUNCTION = """
CREATE FUNCTION gateway_request_org_ids() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN current_setting('gateway.org_ids', true) LIKE '{%}'
                THEN current_setting('gateway.org_ids', true)::text[]
                ELSE '{}'::text[] END
$$
"""
_IDS = "(SELECT gateway_request_org_ids())"
# The cast makes it `= ANY (array)`: a bare `= ANY ((SELECT …))` parses as `= ANY (subquery)`.
_IN_IDS = f"= ANY ({_IDS}::text[])"
_CLASSES_IN_REACH = f"SELECT c.sourced_id FROM classes c WHERE c.school_sourced_id {_IN_IDS}"

# table → the rows of the request's organizations (routes.json `reach` of its entity).
POLICIES = {
    "organizations": f"sourced_id {_IN_IDS}",  # self
    "users": f"org_ids ?| {_IDS}",  # overlaps orgs
    "classes": f"school_sourced_id {_IN_IDS}",  # in school
    "oneroster_courses": f"org_sourced_id {_IN_IDS}",  # in org
    "enrollments": f"school_sourced_id {_IN_IDS}",  # in school
    # user_of_reach
    "demographics": f"sourced_id IN (SELECT u.sourced_id FROM users u WHERE u.org_ids ?| {_IDS})",
    "line_items": f"class_sourced_id IN ({_CLASSES_IN_REACH})",  # class_of_reach
    # line_item_of_reach
    "results": "line_item_sourced_id IN (SELECT li.sourced_id FROM line_items li "
    f"WHERE li.class_sourced_id IN ({_CLASSES_IN_REACH}))",
}


def _scalar(sql: str) -> object:
    return op.get_bind().exec_driver_sql(sql).scalar()


def _role_usable() -> bool:
    """Create the role when missing and make the migrating user a member (to SET ROLE to it);
    False when this server does not let the migrating user do either."""
    me = "FROM pg_roles WHERE rolname = current_user"
    if not _scalar(f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'"):
        if not _scalar(f"SELECT rolsuper OR rolcreaterole {me}"):
            return False
        op.execute(f"CREATE ROLE {ROLE} NOLOGIN")
    if _scalar(f"SELECT pg_has_role(current_user, '{ROLE}', 'MEMBER')"):
        return True
    # A CREATEROLE user holds ADMIN OPTION on the roles it creates, so it may grant itself one.
    if not _scalar(
        f"SELECT rolsuper OR pg_has_role(current_user, '{ROLE}', 'MEMBER WITH ADMIN OPTION') {me}"
    ):
        return False
    op.execute(f"GRANT {ROLE} TO current_user")
    return True


def upgrade() -> None:
    if not _role_usable():
        log.warning(
            "row-level security left off: the migrating user may not create or use role %s "
            "(grant it CREATEROLE, or create the role and grant it to that user, then run "
            "`gateway migrate` again after a downgrade to edfi_0003); the application's "
            "organization filter still applies",
            ROLE,
        )
        return
    schema = _scalar("SELECT current_schema()")
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {ROLE}')
    op.execute(f"GRANT SELECT ON {', '.join(READ_TABLES)} TO {ROLE}")
    op.execute(_ORG_IDS_FUNCTION)
    for table, condition in POLICIES.items():
        op.execute(f"CREATE POLICY reach ON {table} FOR SELECT TO {ROLE} USING ({condition})")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in POLICIES:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY IF EXISTS reach ON {table}")
    op.execute("DROP FUNCTION IF EXISTS gateway_request_org_ids()")
    if not _scalar(f"SELECT count(*) FROM pg_roles WHERE rolname = '{ROLE}'"):
        return
    schema = _scalar("SELECT current_schema()")
    op.execute(f"REVOKE SELECT ON {', '.join(READ_TABLES)} FROM {ROLE}")
    op.execute(f'REVOKE USAGE ON SCHEMA "{schema}" FROM {ROLE}')
    # The role is the server's, not this database's: another database may still grant it.
    op.execute(
        f"""
        DO $$ BEGIN
            DROP ROLE {ROLE};
        EXCEPTION WHEN dependent_objects_still_exist OR insufficient_privilege THEN
            RAISE NOTICE 'role {ROLE} kept: %', SQLERRM;
        END $$
        """
    )
