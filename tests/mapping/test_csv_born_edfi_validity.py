"""Ed-Fi validity of CSV-born records: every Ed-Fi document the gateway serves passes the Ed-Fi
schema, so a client can GET it and PUT it back unchanged. A CSV-born student with no birth date
(Ed-Fi requires one) stays OneRoster-only until its demographics give one; organizations, sessions
and courses get the documented values of what Ed-Fi requires and OneRoster never carries."""

from __future__ import annotations

import sqlalchemy as sa

from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district

do_import = csv_suite.do_import
SERVER_FIELDS = ("id", "_etag", "_lastModifiedDate")
# the rostering resources a CSV import writes, people and their associations
ORGANIZATIONS = (
    "localEducationAgencies",
    "schools",
    "sessions",
    "courses",
    "courseOfferings",
    "classPeriods",
    "sections",
)
RESOURCES = (
    "students",
    "studentSchoolAssociations",
    "studentEducationOrganizationAssociations",
    "staffs",
    "staffEducationOrganizationAssignmentAssociations",
    "contacts",
    "studentContactAssociations",
    "studentSectionAssociations",
    "staffSectionAssociations",
)


def roster() -> dict:
    files = district()
    for user, identifier in zip(files["users"], ("207219", "604822", "604823", "C-1"), strict=True):
        user["identifier"] = identifier
    return files  # demographics (and so a birth date) only for u-s1 (604822)


def _round_trip(edfi, resource: str) -> list[str]:
    """GET every document of `resource` and PUT it back unchanged: the failures."""
    response = edfi.get(resource)
    assert response.status_code == 200, response.get_json()
    failures = []
    for doc in response.get_json():
        body = {k: v for k, v in doc.items() if k not in SERVER_FIELDS and not k.startswith("_")}
        put = edfi.put(resource, doc["id"], body)
        if put.status_code != 204:
            failures.append(f"{resource} {doc['id']}: {put.status_code} {put.get_json()}")
    return failures


def test_csv_born_people_served_by_edfi_pass_its_schema(tmp_path, do_import, edfi, db_session):
    assert do_import(write_package(tmp_path, roster())).status == "applied"
    students = db_session.scalars(
        sa.text("SELECT student_unique_id FROM students ORDER BY 1")
    ).all()
    assert students == ["604822"]  # 604823 has no birth date: OneRoster-only for now
    failures = [f for resource in RESOURCES for f in _round_trip(edfi, resource)]
    assert failures == []


def test_csv_born_organizations_sessions_and_courses_pass_its_schema(
    tmp_path, do_import, edfi, db_session
):
    assert do_import(write_package(tmp_path, roster())).status == "applied"
    counts = {
        resource: len(edfi.get(resource).get_json()) for resource in ORGANIZATIONS
    }  # every one of them reached Ed-Fi
    assert all(counts.values()), counts
    failures = [f for resource in ORGANIZATIONS for f in _round_trip(edfi, resource)]
    assert failures == []


def test_a_student_reaches_edfi_once_demographics_give_a_birth_date(
    tmp_path, do_import, db_session
):
    assert do_import(write_package(tmp_path, roster())).status == "applied"
    demographics = {**district()["demographics"][0], "sourcedId": "u-s2", "cityOfBirth": ""}
    delta = write_package(tmp_path, {"demographics": [demographics]}, {"demographics": "delta"})
    report = do_import(delta)
    assert report.status == "applied", report.as_dict()
    rows = db_session.execute(
        sa.text("SELECT student_unique_id, birth_date::text FROM students ORDER BY 1")
    ).all()
    assert rows == [("604822", "2010-03-04"), ("604823", "2010-03-04")]
    sections = db_session.scalar(
        sa.text(
            "SELECT count(*) FROM student_section_associations WHERE student_unique_id = '604823'"
        )
    )
    assert sections == 1


def test_a_period_longer_than_edfi_holds_is_left_out_of_the_section(
    tmp_path, do_import, edfi, db_session
):
    files = roster()
    long_period = "P" * 61  # Ed-Fi's classPeriodName holds 60 characters; OneRoster sets no limit
    files["classes"][0]["periods"] = f"1,{long_period}"
    report = do_import(write_package(tmp_path, files))
    assert report.status == "applied", report.as_dict()
    names = db_session.scalars(sa.text("SELECT class_period_name FROM class_periods")).all()
    assert names == ["1"]
    assert _round_trip(edfi, "sections") == []
