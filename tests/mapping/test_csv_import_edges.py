"""Edges of the set-based CSV → Ed-Fi projection: classes Ed-Fi cannot place next to ones it can,
re-imports that change nothing in Ed-Fi, a delta that deletes (tracked, dependents first, a record
Ed-Fi must keep left with its reason), and two classes that share one Ed-Fi section."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.to_edfi.bulk import project_import
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district

do_import = csv_suite.do_import
LATER = "2026-02-01T08:00:00.000Z"


def roster() -> dict:
    """The test district with identifiers for everyone, and a second class whose course has no
    courseCode (Ed-Fi cannot place it) with one student enrolled."""
    files = district()
    for user, identifier in zip(files["users"], ("207219", "604822", "604823", "C-1"), strict=True):
        user["identifier"] = identifier
    # a birth date for u-s2 too: a student reaches Ed-Fi with one
    files["demographics"].append({**files["demographics"][0], "sourcedId": "u-s2"})
    files["courses"].append(
        {**files["courses"][0], "sourcedId": "crs-2", "courseCode": "", "title": "Study hall"}
    )
    files["classes"].append(
        {
            **files["classes"][0],
            "sourcedId": "cls-2",
            "classCode": "SH-1",
            "courseSourcedId": "crs-2",
            "title": "Study hall",
        }
    )
    files["enrollments"].append(
        {**files["enrollments"][2], "sourcedId": "enr-4", "classSourcedId": "cls-2"}
    )
    return files


def count(db_session, table: str, where: str = "true") -> int:
    return db_session.scalar(sa.text(f"SELECT count(*) FROM {table} WHERE {where}"))


def links(db_session) -> dict[str, tuple]:
    rows = db_session.execute(
        sa.text("SELECT sourced_id, edfi_resource, edfi_id FROM mapping_links ORDER BY 1")
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def test_a_class_without_course_code_stays_oneroster_only_with_its_enrollments(
    tmp_path, do_import, db_session
):
    report = do_import(write_package(tmp_path, roster()))
    assert report.status == "applied", report.as_dict()
    sections = db_session.execute(sa.text("SELECT section_identifier FROM sections")).all()
    assert sections == [("ALG1-1",)]
    assert count(db_session, "student_section_associations") == 2
    assert (
        count(
            db_session,
            "staff_section_associations",
            "classroom_position_descriptor LIKE '%#Teacher of Record'",
        )
        == 1
    )
    # the contact reaches its student, both born in the same import
    assert count(db_session, "student_contact_associations", "contact_unique_id = 'C-1'") == 1
    skipped = project_import(
        db_session, {"course": ["crs-2"], "class": ["cls-2", "cls-1"], "enrollment": ["enr-4"]}
    )
    assert skipped == [
        ("course", "crs-2", "no courseCode, or its org is not an Ed-Fi education organization"),
        ("class", "cls-2", "needs an Ed-Fi school, a term and a course with a courseCode"),
        ("enrollment", "enr-4", "its class or user is not in Ed-Fi"),
    ]


def test_reimporting_the_same_package_changes_nothing_in_edfi(tmp_path, do_import, db_session):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert do_import(write_package(first, roster())).status == "applied"
    tables = (
        "students",
        "staffs",
        "contacts",
        "sections",
        "student_section_associations",
        "student_school_associations",
        "student_education_organization_associations",
    )
    before = {
        t: db_session.execute(sa.text(f"SELECT id, change_version FROM {t} ORDER BY id")).all()
        for t in tables
    }
    linked = links(db_session)
    assert do_import(write_package(second, roster())).status == "applied"
    after = {
        t: db_session.execute(sa.text(f"SELECT id, change_version FROM {t} ORDER BY id")).all()
        for t in tables
    }
    assert after == before
    assert links(db_session) == linked
    # projecting the same records again rewrites them in place: same rows, same links
    project_import(db_session, {"user": ["u-s1", "u-s2"], "enrollment": ["enr-2", "enr-3"]})
    assert count(db_session, "students") == 2
    assert count(db_session, "student_section_associations") == 2
    assert links(db_session) == linked


def test_a_changed_name_reaches_edfi_and_an_empty_field_keeps_the_edfi_value(
    tmp_path, do_import, db_session
):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert do_import(write_package(first, roster())).status == "applied"
    files = roster()
    files["users"][2]["givenName"] = "Sean"
    files["users"][2]["middleName"] = ""
    assert do_import(write_package(second, files)).status == "applied"
    name = db_session.execute(
        sa.text("SELECT first_name, middle_name FROM students WHERE student_unique_id = '604823'")
    ).one()
    assert tuple(name) == ("Sean", "בן-ציון")


def test_a_delta_deletes_dependents_first_and_tracks_the_deletes(tmp_path, do_import, db_session):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert do_import(write_package(first, roster())).status == "applied"
    section_id = links(db_session)["cls-1"][1]
    gone = {"status": "tobedeleted", "dateLastModified": LATER}
    files = roster()
    changes = {
        "enrollments": [{**e, **gone} for e in files["enrollments"]],
        "classes": [{**files["classes"][0], **gone}],
        "users": [{**files["users"][2], **gone}],
    }
    modes = {"enrollments": "delta", "classes": "delta", "users": "delta"}
    report = do_import(write_package(second, changes, modes))
    assert report.status == "applied", report.as_dict()
    assert count(db_session, "student_section_associations") == 0
    assert count(db_session, "staff_section_associations") == 0
    assert count(db_session, "sections") == 0  # its associations went first
    tracked = db_session.execute(
        sa.text(
            "SELECT resource, old_key_values, edorg_ids FROM edfi_tracked_changes "
            "WHERE kind = 'delete' ORDER BY change_version"
        )
    ).all()
    resources = [r[0] for r in tracked]
    assert sorted(resources[:3]) == [
        "staffSectionAssociations",
        "studentSectionAssociations",
        "studentSectionAssociations",
    ]
    assert resources[3:] == ["sections"]
    # key values as the Ed-Fi service records them: JSON values, dates as ISO text
    student_keys = [
        keys for resource, keys, _ in tracked if resource == "studentSectionAssociations"
    ]
    assert {k["studentUniqueId"]: k["beginDate"] for k in student_keys} == {
        "604822": "2025-08-15",
        "604823": "2025-08-15",
    }
    assert tracked[3][1] == {
        "sectionIdentifier": "ALG1-1",
        "localCourseCode": "ALG1",
        "schoolId": 255901001,
        "schoolYear": 2026,
        "sessionName": "Fall 2025",
    }
    assert tracked[3][2] == [255901001]
    # the link keeps the sourcedId for the natural key, without a row
    assert links(db_session)["cls-1"] == ("sections", None)
    assert section_id is not None
    # the student has school and organization associations: Ed-Fi keeps it, and says why
    assert count(db_session, "students", "student_unique_id = '604823'") == 1
    skipped = project_import(db_session, {"user": ["u-s2"]})
    assert skipped == [
        (
            "user",
            "u-s2",
            "the Ed-Fi Student stays: The requested action cannot be performed because this "
            "item is referenced by an existing 'StudentEducationOrganizationAssociation' item.",
        )
    ]


def test_two_classes_sharing_one_section_link_one_and_log_the_other(
    tmp_path, do_import, db_session
):
    files = roster()
    files["classes"][1]["courseSourcedId"] = "crs-1"
    files["classes"][1]["classCode"] = "ALG1-1"  # the same section key as cls-1
    report = do_import(write_package(tmp_path, files))
    assert report.status == "applied", report.as_dict()
    assert count(db_session, "sections") == 1
    linked = [sid for sid in ("cls-1", "cls-2") if links(db_session).get(sid, (0, None))[1]]
    assert len(linked) == 1
    # both classes' enrollments are in the one section
    assert count(db_session, "student_section_associations") == 2
