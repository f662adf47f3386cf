"""DS5 resources with a place in OneRoster 1.1: grading periods are academicSessions of type
gradingPeriod under the session that contains them, a section's class periods are its class's
`periods`, and a staff member's school associations are among the staff user's `orgs`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.mapping.identifiers import sourced_id
from gateway.mapping.verify import check
from tests.mapping.conftest import ED, LEA_ID, SCHOOL_ID, SECTION

TERM = sourced_id("sessions", {k: SECTION[k] for k in ("schoolId", "schoolYear", "sessionName")})
YEAR = sourced_id("schoolYears", {"schoolYear": 2022})
CLASS = sourced_id("sections", SECTION)
PERIOD = ED + "GradingPeriodDescriptor#First Six Weeks"


def grading_period(
    name: str = "First Six Weeks", begin: str = "2021-08-23", end: str = "2021-10-01"
):
    return {
        "gradingPeriodDescriptor": PERIOD,
        "gradingPeriodName": name,
        "schoolReference": {"schoolId": SCHOOL_ID},
        "schoolYearTypeReference": {"schoolYear": 2022},
        "beginDate": begin,
        "endDate": end,
        "totalInstructionalDays": 29,
    }


def grading_period_id(name: str = "First Six Weeks") -> str:
    key = {
        "gradingPeriodDescriptor": PERIOD,
        "gradingPeriodName": name,
        "schoolId": SCHOOL_ID,
        "schoolYear": 2022,
    }
    return sourced_id("gradingPeriods", key)


def _body(edfi, resource: str, id_: str) -> dict:
    doc = edfi.get(f"{resource}/{id_}").get_json()
    return {k: v for k, v in doc.items() if k != "id" and not k.startswith("_")}


@pytest.fixture
def gp(rostered, edfi):
    return edfi.create("gradingPeriods", grading_period())


def test_a_grading_period_is_a_grading_period_session_under_its_session(rostered, edfi, oneroster):
    # dated outside the fall semester: under the school year until the term lists it
    edfi.create("gradingPeriods", grading_period(begin="2022-01-10", end="2022-02-18"))
    record = oneroster(f"/gradingPeriods/{grading_period_id()}")["academicSession"]
    assert record["parent"]["sourcedId"] == YEAR
    session = _body(edfi, "sessions", rostered["sessions"])
    reference = {
        "gradingPeriodDescriptor": PERIOD,
        "gradingPeriodName": "First Six Weeks",
        "schoolId": SCHOOL_ID,
        "schoolYear": 2022,
    }
    session["gradingPeriods"] = [{"gradingPeriodReference": reference}]
    assert edfi.put("sessions", rostered["sessions"], session).status_code == 204
    record = oneroster(f"/gradingPeriods/{grading_period_id()}")["academicSession"]
    assert {k: record[k] for k in ("title", "type", "startDate", "endDate", "schoolYear")} == {
        "title": "First Six Weeks",
        "type": "gradingPeriod",
        "startDate": "2022-01-10",
        "endDate": "2022-02-18",
        "schoolYear": "2022",
    }
    assert record["parent"]["sourcedId"] == TERM
    listed = oneroster(f"/terms/{TERM}/gradingPeriods")["academicSessions"]
    assert [s["sourcedId"] for s in listed] == [grading_period_id()]
    term = oneroster(f"/academicSessions/{TERM}")["academicSession"]
    assert grading_period_id() in [c["sourcedId"] for c in term["children"]]


def test_a_grading_period_no_session_lists_goes_under_the_one_whose_dates_contain_it(
    rostered, gp, oneroster
):
    record = oneroster(f"/gradingPeriods/{grading_period_id()}")["academicSession"]
    assert record["parent"]["sourcedId"] == TERM  # 2021-08-23..10-01 is in the fall semester


def test_a_grading_period_outside_every_session_goes_under_its_school_year(
    rostered, edfi, oneroster
):
    edfi.create("gradingPeriods", grading_period("Summer", "2022-06-01", "2022-07-01"))
    record = oneroster(f"/gradingPeriods/{grading_period_id('Summer')}")["academicSession"]
    assert record["parent"]["sourcedId"] == YEAR


def test_a_deleted_grading_period_is_tobedeleted(rostered, gp, edfi, db_session):
    status = sa.text("SELECT status FROM academic_sessions WHERE sourced_id = :s")
    assert db_session.scalar(status, {"s": grading_period_id()}) == "active"
    assert edfi.delete("gradingPeriods", gp).status_code == 204
    assert db_session.scalar(status, {"s": grading_period_id()}) == "tobedeleted"
    assert edfi.create("gradingPeriods", grading_period())  # back, with its sourcedId
    assert db_session.scalar(status, {"s": grading_period_id()}) == "active"
    assert check(db_session).clean


def test_a_sections_class_periods_are_its_class_periods(rostered, edfi, oneroster):
    for name in ("Period 1", "Period 2"):
        edfi.create(
            "classPeriods", {"classPeriodName": name, "schoolReference": {"schoolId": SCHOOL_ID}}
        )
    section = _body(edfi, "sections", rostered["sections"])
    section["classPeriods"] = [
        {"classPeriodReference": {"classPeriodName": n, "schoolId": SCHOOL_ID}}
        for n in ("Period 1", "Period 2")
    ]
    assert edfi.put("sections", rostered["sections"], section).status_code == 204
    assert oneroster(f"/classes/{CLASS}")["class"]["periods"] == ["Period 1", "Period 2"]


def test_a_staff_school_association_puts_the_school_among_the_users_orgs(rostered, edfi, oneroster):
    superintendent = sourced_id("staffs", {"staffUniqueId": "207220"})
    lea_org = sourced_id("educationOrganizations", {"educationOrganizationId": LEA_ID})
    school_org = sourced_id("educationOrganizations", {"educationOrganizationId": SCHOOL_ID})

    def orgs() -> list[str]:
        return [o["sourcedId"] for o in oneroster(f"/users/{superintendent}")["user"]["orgs"]]

    assert orgs() == [lea_org]
    association = edfi.create(
        "staffSchoolAssociations",
        {
            "staffReference": {"staffUniqueId": "207220"},
            "schoolReference": {"schoolId": SCHOOL_ID},
            "programAssignmentDescriptor": ED + "ProgramAssignmentDescriptor#Regular Education",
        },
    )
    assert orgs() == [lea_org, school_org]
    assert edfi.delete("staffSchoolAssociations", association).status_code == 204
    assert orgs() == [lea_org]
