"""The Grand Bend demo district, loaded through the Ed-Fi service, is readable through OneRoster."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from gateway.edfi.demo import load_demo
from gateway.mapping.verify import check


@pytest.mark.timeout(900)  # the whole sample district through the Ed-Fi loader
def test_demo_district_projects_to_oneroster(edfi, db_session, oneroster):
    started = time.perf_counter()
    report = load_demo(db_session)
    print(f"\nloaded with projection in {time.perf_counter() - started:.1f}s")
    assert report.rejected == []
    count = lambda sql: db_session.scalar(sa.text(sql))  # noqa: E731
    assert count("SELECT count(*) FROM users WHERE role = 'student' AND status = 'active'") == 960
    assert count("SELECT count(*) FROM demographics") == 960
    assert count("SELECT count(*) FROM organizations WHERE type = 'school'") == count(
        "SELECT count(*) FROM schools"
    )
    assert count("SELECT count(*) FROM classes") == 532
    assert count("SELECT count(*) FROM enrollments WHERE role = 'student'") == count(
        "SELECT count(*) FROM student_section_associations"
    )
    print(
        db_session.execute(
            sa.text("SELECT role, count(*) FROM users GROUP BY role ORDER BY role")
        ).all()
    )
    students = oneroster("/students", query_string={"limit": 1})
    assert students["users"][0]["grades"] and students["users"][0]["orgs"]
    started = time.perf_counter()
    drift = check(db_session)
    print(f"verify {time.perf_counter() - started:.1f}s", drift.lines())
    assert drift.clean, drift.lines()
