"""Mapping under change: a CSV import that moves a record to another parent (an enrollment to
another class, a class to another term) moves or replaces its Ed-Fi record instead of keeping
the old one next to the new."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from gateway.mapping.verify import check
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district

do_import = csv_suite.do_import


def roster() -> dict:
    """The test district with identifiers and birth dates for everyone and a second Algebra
    class."""
    files = district()
    for user, identifier in zip(files["users"], ("207219", "604822", "604823", "C-1"), strict=True):
        user["identifier"] = identifier
    files["demographics"].append({**files["demographics"][0], "sourcedId": "u-s2"})
    files["classes"].append(
        {**files["classes"][0], "sourcedId": "cls-3", "classCode": "ALG1-2", "title": "P2"}
    )
    return files


def sections_of(db_session, student: str) -> list[str]:
    return list(
        db_session.scalars(
            sa.text(
                "SELECT section_identifier FROM student_section_associations "
                "WHERE student_unique_id = :s ORDER BY 1"
            ),
            {"s": student},
        )
    )


# the organizations people's Ed-Fi associations name
PEOPLE_ORGS = (
    "SELECT 'ssa', school_id FROM student_school_associations UNION "
    "SELECT 'seoa', education_organization_id FROM student_education_organization_associations "
    "UNION SELECT 'staff', education_organization_id "
    "FROM staff_education_organization_assignment_associations ORDER BY 1, 2"
)


def applied(report) -> None:
    assert report.status == "applied", report.as_dict()


def assert_clean(db_session) -> None:
    drift = check(db_session)
    assert drift.clean, drift.lines()


def edfi_keys(db_session, sql: str) -> list[tuple]:
    return [tuple(r) for r in db_session.execute(sa.text(sql))]


def test_an_enrollment_moved_to_another_class_moves_its_section_association(
    tmp_path, do_import, db_session
):
    files = roster()
    assert do_import(write_package(tmp_path, files)).status == "applied"
    assert sections_of(db_session, "604822") == ["ALG1-1"]
    moved = {**files["enrollments"][1], "classSourcedId": "cls-3"}  # enr-2, same sourcedId
    applied(do_import(write_package(tmp_path, {"enrollments": [moved]}, {"enrollments": "delta"})))
    assert sections_of(db_session, "604822") == ["ALG1-2"]
    assert sections_of(db_session, "604823") == ["ALG1-1"]
    assert_clean(db_session)


def test_a_bulk_move_back_and_forth_keeps_one_association(tmp_path, do_import, db_session):
    files = roster()
    assert do_import(write_package(tmp_path, files)).status == "applied"
    for target in ("cls-3", "cls-1", "cls-3"):
        files["enrollments"][1]["classSourcedId"] = target
        report = do_import(write_package(tmp_path, files))
        assert report.status == "applied", report.as_dict()
    assert sections_of(db_session, "604822") == ["ALG1-2"]
    assert check(db_session).clean


def test_a_class_moved_to_another_term_replaces_its_section(tmp_path, do_import, db_session):
    files = roster()
    files["academicSessions"].append(
        {
            **files["academicSessions"][1],
            "sourcedId": "as-t2",
            "title": "Spring 2026",
            "startDate": "2026-01-05",
            "endDate": "2026-06-01",
        }
    )
    assert do_import(write_package(tmp_path, files)).status == "applied"
    files["classes"][0]["termSourcedIds"] = "as-t2"  # cls-1 re-parented
    applied(do_import(write_package(tmp_path, files)))
    sessions = db_session.execute(
        sa.text(
            "SELECT section_identifier, session_name FROM sections "
            "WHERE section_identifier = 'ALG1-1'"
        )
    ).all()
    assert sessions == [("ALG1-1", "Spring 2026")]
    assert sections_of(db_session, "604822") == ["ALG1-1"]
    assert_clean(db_session)


def test_a_school_whose_identifier_changes_moves_its_edfi_records(tmp_path, do_import, db_session):
    files = roster()
    files["enrollments"][1]["beginDate"] = "2025-08-20"  # u-s1's school association's entry
    assert do_import(write_package(tmp_path, files)).status == "applied"
    assert edfi_keys(db_session, PEOPLE_ORGS) == [
        ("seoa", 255901001),
        ("ssa", 255901001),
        ("staff", 255901001),
    ]
    files["orgs"][1]["identifier"] = "255901009"  # org-s1: same sourcedId, another Ed-Fi key
    applied(do_import(write_package(tmp_path, files)))
    assert edfi_keys(db_session, "SELECT school_id FROM schools") == [(255901009,)]
    assert edfi_keys(
        db_session, "SELECT DISTINCT school_id FROM sections UNION SELECT school_id FROM sessions"
    ) == [(255901009,)]
    assert edfi_keys(db_session, PEOPLE_ORGS) == [
        ("seoa", 255901009),
        ("ssa", 255901009),
        ("staff", 255901009),
    ]
    assert sections_of(db_session, "604822") == ["ALG1-1"]
    assert_clean(db_session)


def test_a_district_whose_identifier_changes_moves_its_schools(tmp_path, do_import, db_session):
    files = roster()
    assert do_import(write_package(tmp_path, files)).status == "applied"
    files["orgs"][0]["identifier"] = "255909"  # org-d1
    applied(do_import(write_package(tmp_path, files)))
    assert edfi_keys(
        db_session, "SELECT local_education_agency_id FROM local_education_agencies"
    ) == [(255909,)]
    assert edfi_keys(db_session, "SELECT local_education_agency_id FROM schools") == [(255909,)]
    assert_clean(db_session)


def test_a_person_moved_to_another_school_leaves_the_old_one(tmp_path, do_import, db_session):
    files = roster()
    files["orgs"].append(
        {
            **files["orgs"][1],
            "sourcedId": "org-s2",
            "name": "Grand Bend Middle School",
            "identifier": "255901002",
        }
    )
    assert do_import(write_package(tmp_path, files)).status == "applied"
    files["users"][1]["orgSourcedIds"] = "org-s2"  # u-s1
    applied(do_import(write_package(tmp_path, files)))
    people = edfi_keys(
        db_session,
        "SELECT 'seoa', student_unique_id, education_organization_id "
        "FROM student_education_organization_associations UNION "
        "SELECT 'staff', staff_unique_id, education_organization_id "
        "FROM staff_education_organization_assignment_associations ORDER BY 1, 2, 3",
    )
    assert people == [
        ("seoa", "604822", 255901002),
        ("seoa", "604823", 255901001),
        ("staff", "207219", 255901001),
    ]
    assert_clean(db_session)


def test_a_moved_enrollment_whose_old_association_has_a_grade_keeps_it_and_says_so(
    tmp_path, do_import, edfi, db_session, caplog
):
    files = roster()
    assert do_import(write_package(tmp_path, files)).status == "applied"
    (ssa,) = edfi.get("studentSectionAssociations?studentUniqueId=604822").get_json()
    period = {
        "gradingPeriodDescriptor": "uri://ed-fi.org/GradingPeriodDescriptor#First Six Weeks",
        "gradingPeriodName": "First Six Weeks",
        "schoolReference": {"schoolId": 255901001},
        "schoolYearTypeReference": {"schoolYear": 2026},
        "beginDate": "2025-08-15",
        "endDate": "2025-09-26",
        "totalInstructionalDays": 30,
    }
    edfi.create("gradingPeriods", period)
    edfi.create(
        "grades",
        {
            "gradeTypeDescriptor": "uri://ed-fi.org/GradeTypeDescriptor#Grading Period",
            "gradingPeriodReference": {
                "gradingPeriodDescriptor": period["gradingPeriodDescriptor"],
                "gradingPeriodName": "First Six Weeks",
                "schoolId": 255901001,
                "schoolYear": 2026,
            },
            "studentSectionAssociationReference": ssa["sectionReference"]
            | {"beginDate": ssa["beginDate"], "studentUniqueId": "604822"},
            "letterGradeEarned": "B",
        },
    )
    moved = {**files["enrollments"][1], "classSourcedId": "cls-3"}  # enr-2
    caplog.set_level(logging.INFO, logger="gateway.mapping.to_edfi.bulk")
    applied(do_import(write_package(tmp_path, {"enrollments": [moved]}, {"enrollments": "delta"})))
    said = [r.getMessage() for r in caplog.records if "enr-2" in r.getMessage()]
    assert said == [
        "not projected to Ed-Fi: enrollment enr-2: moved to its new Ed-Fi record; the Ed-Fi "
        "StudentSectionAssociation stays: The requested action cannot be performed because this "
        "item is referenced by an existing 'Grade' item."
    ], said
    # the new association is the enrollment's; the old one stays for the grade that names it
    assert sections_of(db_session, "604822") == ["ALG1-1", "ALG1-2"]
    link = db_session.execute(
        sa.text(
            "SELECT a.section_identifier FROM mapping_links l JOIN student_section_associations a "
            "ON a.id = l.edfi_id WHERE l.sourced_id = 'enr-2'"
        )
    ).all()
    assert link == [("ALG1-2",)]
    # verify names it: an Ed-Fi record of OneRoster origin without its OneRoster source
    lines = check(db_session).lines()
    old = uuid.UUID(ssa["id"])
    assert f"  orphaned Ed-Fi studentSectionAssociations {old}" in lines, lines
