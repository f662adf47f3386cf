"""The demo district's OneRoster-only records (gateway/oneroster/demo/): grading periods and
resources the Ed-Fi sample cannot give, so every collection of the demo holds records and the
conformance suite can exercise every check on it."""

from __future__ import annotations

import datetime as dt

from gateway.oneroster import models as m
from gateway.oneroster.demo_seed import seed_demo
from tests.oneroster.conftest import ids

SESSION = "ses-66747110-0623-5d21-a06f-3fb72cee8a96"  # Grand Bend's 2021-2022 Fall Semester
CLASS = "cls-57b40d92-2ed5-530f-bb05-68662067a35b"
COURSE = "crs-73e016f7-59d7-53df-b110-dff42a2262b0"


def _ed_fi_born_rows(session) -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    session.add_all(
        [
            m.Organization(
                sourced_id="org-s", name="School", type="school", date_last_modified=when
            ),
            m.AcademicSession(
                sourced_id=SESSION,
                title="2021-2022 Fall Semester",
                type="term",
                start_date=dt.date(2021, 8, 23),
                end_date=dt.date(2021, 12, 17),
                school_year="2022",
                date_last_modified=when,
            ),
            m.Course(
                sourced_id=COURSE, title="Algebra 1", course_code="ALG-1", date_last_modified=when
            ),
            m.Class(
                sourced_id=CLASS,
                title="Algebra 1",
                school_sourced_id="org-s",
                course_sourced_id=COURSE,
                term_sourced_ids=[SESSION],
                date_last_modified=when,
            ),
        ]
    )
    session.commit()


def test_the_seed_fills_grading_periods_and_resources_once(app, db_session, get):
    with app.app_context():
        seed_demo()  # the Ed-Fi sample is not there: nothing to attach to, nothing imported
    assert ids(get("/resources"), "resources") == []
    _ed_fi_born_rows(db_session)
    with app.app_context():
        seed_demo()
        seed_demo()  # once only
    periods = get(f"/terms/{SESSION}/gradingPeriods").get_json()["academicSessions"]
    assert [p["sourcedId"] for p in periods] == ["demo-gp-2021-fall-q1", "demo-gp-2021-fall-q2"]
    assert ids(get("/resources"), "resources") == ["demo-res-algebra-text", "demo-res-graphing"]
    assert ids(get(f"/classes/{CLASS}/resources"), "resources") == ["demo-res-algebra-text"]
    assert ids(get(f"/courses/{COURSE}/resources"), "resources") == ["demo-res-graphing"]
