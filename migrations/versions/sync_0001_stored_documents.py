"""Stored OneRoster documents (issue 19): each user's and enrollment's JSON on its row.

A `document` column on users and enrollments, written by a BEFORE INSERT OR UPDATE trigger with
the expression the read path builds (gateway.oneroster.documents), so every writer keeps it; a
full sync then reads the documents instead of building 220,000 of them. Existing rows get theirs
by an UPDATE that only sets the column (the trigger fills it; nothing else about the rows changes,
dateLastModified included).

The functions are frozen below (`python -m gateway.oneroster.documents` printed them);
tests/oneroster/test_stored_documents.py compares them with what the application builds.

Revision ID: sync_0001
Revises: rls_0005
"""

# ruff: noqa: E501  (the frozen SQL of the functions)
from alembic import op

revision = "sync_0001"
down_revision = "rls_0005"
branch_labels = None
depends_on = None

FUNCTIONS = {
    "users": """CREATE OR REPLACE FUNCTION oneroster_users_document() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    built text;
BEGIN
    NEW.document := NULL;
    IF jsonb_typeof(coalesce(NEW.agents, '[]')) = 'array' AND jsonb_typeof(coalesce(NEW.org_ids, '[]')) = 'array' THEN
        built := json_object('sourcedId' VALUE "new".sourced_id,
        'status' VALUE "new".status,
        'dateLastModified' VALUE to_char(timezone('UTC', "new".date_last_modified), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'metadata' VALUE nullif("new".metadata, 'null'::jsonb),
        'username' VALUE "new".username,
        'userIds' VALUE "new".user_ids,
        'enabledUser' VALUE CASE WHEN ("new".enabled_user IS true) THEN 'true' WHEN ("new".enabled_user IS false) THEN 'false' END,
        'givenName' VALUE "new".given_name,
        'familyName' VALUE "new".family_name,
        'middleName' VALUE "new".middle_name,
        'role' VALUE "new".role,
        'identifier' VALUE "new".identifier,
        'email' VALUE "new".email,
        'sms' VALUE "new".sms,
        'phone' VALUE "new".phone,
        'agents' VALUE CASE jsonb_array_length(coalesce("new".agents, '[]'::jsonb)) WHEN 0 THEN '[]'::json WHEN 1 THEN json_build_array(json_build_object('href', chr(1) || '/users/' || ("new".agents ->> 0), 'sourcedId', "new".agents ->> 0, 'type', 'user')) ELSE (SELECT coalesce(json_agg(json_build_object('href', chr(1) || '/users/' || e_agents.value, 'sourcedId', e_agents.value, 'type', 'user') ORDER BY e_agents.n), '[]'::json) AS coalesce_1
FROM jsonb_array_elements_text("new".agents) WITH ORDINALITY AS e_agents(value, n)) END,
        'orgs' VALUE CASE jsonb_array_length(coalesce("new".org_ids, '[]'::jsonb)) WHEN 0 THEN '[]'::json WHEN 1 THEN json_build_array(json_build_object('href', chr(1) || '/orgs/' || ("new".org_ids ->> 0), 'sourcedId', "new".org_ids ->> 0, 'type', 'org')) ELSE (SELECT coalesce(json_agg(json_build_object('href', chr(1) || '/orgs/' || e_orgs.value, 'sourcedId', e_orgs.value, 'type', 'org') ORDER BY e_orgs.n), '[]'::json) AS coalesce_2
FROM jsonb_array_elements_text("new".org_ids) WITH ORDINALITY AS e_orgs(value, n)) END,
        'grades' VALUE "new".grades ABSENT ON NULL RETURNING text);
        IF length(built) - length(replace(built, chr(92) || 'u0001', ''))
           = 6 * (jsonb_array_length(coalesce(NEW.agents, '[]')) + jsonb_array_length(coalesce(NEW.org_ids, '[]'))) THEN
            NEW.document := replace(built, chr(92) || 'u0001', chr(1));
        END IF;
    END IF;
    RETURN NEW;
END $$""",
    "enrollments": """CREATE OR REPLACE FUNCTION oneroster_enrollments_document() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    built text;
BEGIN
    NEW.document := NULL;
    IF true THEN
        built := json_object('sourcedId' VALUE "new".sourced_id,
        'status' VALUE "new".status,
        'dateLastModified' VALUE to_char(timezone('UTC', "new".date_last_modified), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'metadata' VALUE nullif("new".metadata, 'null'::jsonb),
        'user' VALUE CASE WHEN ("new".user_sourced_id IS NULL) THEN NULL ELSE json_build_object('href', chr(1) || '/users/' || "new".user_sourced_id, 'sourcedId', "new".user_sourced_id, 'type', 'user') END,
        'class' VALUE CASE WHEN ("new".class_sourced_id IS NULL) THEN NULL ELSE json_build_object('href', chr(1) || '/classes/' || "new".class_sourced_id, 'sourcedId', "new".class_sourced_id, 'type', 'class') END,
        'school' VALUE CASE WHEN ("new".school_sourced_id IS NULL) THEN NULL ELSE json_build_object('href', chr(1) || '/orgs/' || "new".school_sourced_id, 'sourcedId', "new".school_sourced_id, 'type', 'org') END,
        'role' VALUE "new".role,
        'primary' VALUE CASE WHEN ("new"."primary" IS true) THEN 'true' WHEN ("new"."primary" IS false) THEN 'false' END,
        'beginDate' VALUE "new".begin_date,
        'endDate' VALUE "new".end_date ABSENT ON NULL RETURNING text);
        IF length(built) - length(replace(built, chr(92) || 'u0001', ''))
           = 6 * ((NEW.user_sourced_id IS NOT NULL)::int + (NEW.class_sourced_id IS NOT NULL)::int + (NEW.school_sourced_id IS NOT NULL)::int) THEN
            NEW.document := replace(built, chr(92) || 'u0001', chr(1));
        END IF;
    END IF;
    RETURN NEW;
END $$""",
}


def upgrade() -> None:
    for table, function in FUNCTIONS.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN document text")
        op.execute(function)
        op.execute(
            f"CREATE TRIGGER oneroster_document BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION oneroster_{table}_document()"
        )
        op.execute(f"UPDATE {table} SET document = NULL")


def downgrade() -> None:
    for table in FUNCTIONS:
        op.execute(f"DROP TRIGGER oneroster_document ON {table}")
        op.execute(f"DROP FUNCTION oneroster_{table}_document()")
        op.execute(f"ALTER TABLE {table} DROP COLUMN document")
