"""Every users lookup (REST collections, filters and nested paths, an organization's reach, the
import's key joins) still has an index after csv_0003 trimmed the set a bulk load rebuilds: the
plan of each query shape, on an analysed table, names the index that serves it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.csv.conftest import assert_uses_index

LOOKUPS = [
    # /teachers (and any role but the students that fill most of the table)
    (
        "SELECT * FROM users WHERE role = 'teacher' ORDER BY sourced_id LIMIT 100",
        "ix_users_role_not_student",
    ),
    # /students: most of the table, read in the primary key's order
    (
        "SELECT * FROM users WHERE role = 'student' ORDER BY sourced_id LIMIT 100",
        "pk_users",
    ),
    # /schools/{id}/students, /schools/{id}/teachers, filter=orgs.sourcedId=…
    (
        "SELECT * FROM users WHERE org_ids @> '[\"s1\"]'::jsonb AND role = 'student'",
        "ix_users_org_ids",
    ),
    # an organization's reach (gateway.oneroster.relations.reach_condition)
    ("SELECT * FROM users WHERE org_ids ?| ARRAY['s1', 's2']", "ix_users_org_ids"),
    # filter=grades='09' (any element of a list field)
    ("SELECT * FROM users WHERE grades @> '[\"09\"]'::jsonb", "ix_users_grades"),
    # filter=status='tobedeleted'
    (
        "SELECT * FROM users WHERE status = 'tobedeleted' ORDER BY sourced_id LIMIT 100",
        "ix_users_tobedeleted",
    ),
    # filter=dateLastModified>'…' with the delta sync's order
    (
        "SELECT * FROM users WHERE date_last_modified > '2026-01-01' "
        "ORDER BY date_last_modified, sourced_id LIMIT 100",
        "ix_users_date_last_modified",
    ),
    # filter=identifier=…, filter=email=…, filter=username=… (SIS matching)
    ("SELECT * FROM users WHERE identifier = 'id-1'", "ix_users_identifier"),
    ("SELECT * FROM users WHERE email = 'u1@example.org'", "idx_users_email"),
    ("SELECT * FROM users WHERE username = 'user1'", "uq_users_username"),
    # by id, /classes/{id}/students (the enrolled ids), the import's joins on sourcedId
    ("SELECT * FROM users WHERE sourced_id = ANY(ARRAY['u1', 'u2'])", "pk_users"),
]


@pytest.fixture
def district_users(db_session):
    """5,000 users (in the test's transaction): 3% teachers, 5 schools, grades, a few deleted;
    analysed, so the planner weighs real selectivities."""
    db_session.execute(
        text(
            "INSERT INTO users (sourced_id, status, role, username, identifier, email, org_ids, "
            "grades) SELECT 'u' || n, "
            "CASE WHEN n % 1000 = 0 THEN 'tobedeleted' ELSE 'active' END, "
            "CASE WHEN n % 33 = 0 THEN 'teacher' ELSE 'student' END, 'user' || n, 'id-' || n, "
            "'u' || n || '@example.org', jsonb_build_array('s' || n % 5), "
            "jsonb_build_array(to_char(n % 12 + 1, 'FM00')) FROM generate_series(0, 4999) n"
        )
    )
    db_session.execute(text("ANALYZE users"))


@pytest.mark.parametrize(("query", "index"), LOOKUPS)
def test_user_lookup_uses_an_index(db_session, district_users, query, index):
    assert_uses_index(db_session, query, index)


def test_users_indexes_are_the_ones_the_lookups_need(db_session):
    # A new users index costs every bulk load its build: it needs a lookup above that uses it.
    names = set(
        db_session.execute(
            text("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")
        ).scalars()
    )
    needed = {index for _query, index in LOOKUPS} | {"ix_users_metadata_profile_id"}
    assert names == needed
