"""Every enrollment lookup of the REST provider (nested paths, reach, common filters, delta sync)
still has an index after csv_0002 trimmed the set a bulk load rebuilds: the plan of each query
shape, on an analysed table, names the index that serves it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.csv.conftest import assert_uses_index

# ANALYZE, which only the owner may run, gives the planner the statistics these plans need
pytestmark = pytest.mark.as_owner

LOOKUPS = [
    # /classes/{id}/students, /classes/{id}/teachers (enrolled_in_class)
    (
        "SELECT user_sourced_id FROM enrollments "
        "WHERE class_sourced_id = 'c1' AND role = 'student'",
        "ix_enrollments_class",
    ),
    # /schools/{sid}/classes/{cid}/enrollments
    (
        "SELECT * FROM enrollments WHERE class_sourced_id = 'c1' ORDER BY sourced_id LIMIT 100",
        "ix_enrollments_class",
    ),
    # /users/{id}/classes, /students/{id}/classes, /teachers/{id}/classes (classes_of_user)
    (
        "SELECT class_sourced_id FROM enrollments WHERE user_sourced_id = 'u1'",
        "ix_enrollments_user",
    ),
    # /schools/{id}/enrollments and an organization's reach
    ("SELECT * FROM enrollments WHERE school_sourced_id IN ('s1', 's2')", "ix_enrollments_school"),
    # filter=status='tobedeleted'
    (
        "SELECT * FROM enrollments WHERE status = 'tobedeleted' ORDER BY sourced_id LIMIT 100",
        "ix_enrollments_tobedeleted",
    ),
    # filter=role='teacher' (any role but the students that fill most of the table)
    (
        "SELECT * FROM enrollments WHERE role = 'teacher' ORDER BY sourced_id LIMIT 100",
        "ix_enrollments_role_not_student",
    ),
    # filter=dateLastModified>'…' with the delta sync's order
    (
        "SELECT * FROM enrollments WHERE date_last_modified > '2026-01-01' "
        "ORDER BY date_last_modified, sourced_id LIMIT 100",
        "ix_enrollments_date_last_modified",
    ),
    # by id, and the bulk import's "what the file lacks"
    ("SELECT * FROM enrollments WHERE sourced_id = 'e1'", "enrollments_pkey"),
]


@pytest.fixture
def district_enrollments(db_session):
    """20,000 enrollments (in the test's transaction): 200 classes of 100, 5 schools, a teacher
    per class, a few deleted; analysed, so the planner weighs real selectivities."""
    db_session.execute(
        text(
            "INSERT INTO enrollments (sourced_id, status, class_sourced_id, school_sourced_id, "
            "user_sourced_id, role) SELECT 'e' || n, "
            "CASE WHEN n % 1000 = 0 THEN 'tobedeleted' ELSE 'active' END, "
            "'c' || n % 200, 's' || n % 5, 'u' || n / 10, "
            "CASE WHEN n < 200 THEN 'teacher' ELSE 'student' END "
            "FROM generate_series(0, 19999) n"
        )
    )
    db_session.execute(text("ANALYZE enrollments"))


@pytest.mark.parametrize(("query", "index"), LOOKUPS)
def test_enrollment_lookup_uses_an_index(db_session, district_enrollments, query, index):
    assert_uses_index(db_session, query, index)


def test_sourced_ids_compare_bytewise(db_session):
    collations = dict(
        db_session.execute(
            text(
                "SELECT column_name, collation_name FROM information_schema.columns "
                "WHERE table_name = 'enrollments' AND column_name LIKE '%sourced_id'"
            )
        ).all()
    )
    assert collations == dict.fromkeys(
        ("sourced_id", "class_sourced_id", "school_sourced_id", "user_sourced_id"), "C"
    )


def test_links_join_the_oneroster_tables_through_their_key(db_session):
    # Both sides compare in the same collation, so mapping_links' primary key can serve a join.
    db_session.execute(text("SET LOCAL enable_seqscan = off"))
    db_session.execute(text("SET LOCAL enable_hashjoin = off"))
    db_session.execute(text("SET LOCAL enable_mergejoin = off"))
    plan = "\n".join(
        db_session.execute(
            text(
                "EXPLAIN SELECT l.edfi_id FROM users u JOIN mapping_links l "
                "ON l.sourced_id = u.sourced_id WHERE u.role = 'teacher'"
            )
        ).scalars()
    )
    assert re.search(r"using \w+ on mapping_links", plan), plan
