"""Updates, deletes and key changes on the Ed-Fi side reach OneRoster in the same transaction;
sourcedIds survive them; a projection that fails rolls the Ed-Fi write back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.mapping.identifiers import sourced_id
from gateway.mapping.verify import check
from tests.mapping.conftest import SCHOOL_ID, SECTION, bodies

STUDENT = sourced_id("students", {"studentUniqueId": "604822"})
CLASS = sourced_id("sections", SECTION)
SESSION = sourced_id("sessions", {k: SECTION[k] for k in ("schoolId", "schoolYear", "sessionName")})


def body_of(resource: str) -> dict:
    return next(b for r, b in bodies() if r == resource)


def row(db_session, table: str, sid: str):
    return (
        db_session.execute(sa.text(f"SELECT * FROM {table} WHERE sourced_id = :s"), {"s": sid})
        .mappings()
        .first()
    )


def test_update_changes_the_record_not_its_sourced_id(rostered, edfi, db_session):
    before = row(db_session, "users", STUDENT)
    assert (
        edfi.put(
            "students", rostered["students"], {**body_of("students"), "firstName": "Lise"}
        ).status_code
        == 204
    )
    after = row(db_session, "users", STUDENT)
    assert (
        after["given_name"] == "Lise" and after["date_last_modified"] > before["date_last_modified"]
    )


def test_rewriting_the_same_values_leaves_date_last_modified(rostered, edfi, db_session):
    before = row(db_session, "users", STUDENT)
    assert edfi.put("students", rostered["students"], body_of("students")).status_code == 204
    assert row(db_session, "users", STUDENT)["date_last_modified"] == before["date_last_modified"]


def test_delete_marks_tobedeleted_and_recreate_restores_the_sourced_id(rostered, edfi, db_session):
    enrollment = sourced_id(
        "studentSectionAssociations",
        {**SECTION, "studentUniqueId": "604822", "beginDate": "2021-08-23"},
    )
    assert row(db_session, "enrollments", enrollment)["status"] == "active"
    assert (
        edfi.delete(
            "studentSectionAssociations", rostered["studentSectionAssociations"]
        ).status_code
        == 204
    )
    assert row(db_session, "enrollments", enrollment)["status"] == "tobedeleted"
    edfi.create("studentSectionAssociations", body_of("studentSectionAssociations"))
    assert row(db_session, "enrollments", enrollment)["status"] == "active"
    assert check(db_session).clean


def test_removing_the_only_association_changes_the_user(rostered, edfi, db_session):
    assert (
        edfi.delete(
            "studentContactAssociations", rostered["studentContactAssociations"]
        ).status_code
        == 204
    )
    contact = sourced_id("contacts", {"contactUniqueId": "C-1"})
    assert row(db_session, "users", contact)["status"] == "tobedeleted"  # no OneRoster role left
    assert row(db_session, "users", STUDENT)["agents"] == []


def test_key_change_keeps_sourced_ids_and_cascades(rostered, edfi, db_session):
    renamed = {**body_of("sessions"), "sessionName": "Fall 2021"}
    assert edfi.put("sessions", rostered["sessions"], renamed).status_code == 204
    term = row(db_session, "academic_sessions", SESSION)
    assert term["title"] == "Fall 2021" and term["status"] == "active"
    # the section's key changed by cascade: same class, still in the same term
    klass = row(db_session, "classes", CLASS)
    assert klass["status"] == "active" and klass["term_sourced_ids"] == [SESSION]
    section_body = {
        "sectionIdentifier": "ALG-1-99",
        "courseOfferingReference": {
            "localCourseCode": "ALG-1",
            "schoolId": SCHOOL_ID,
            "schoolYear": 2022,
            "sessionName": "Fall 2021",
        },
        "sectionName": "Algebra I, period 9",
    }
    assert edfi.put("sections", rostered["sections"], section_body).status_code == 204
    klass = row(db_session, "classes", CLASS)
    assert (klass["class_code"], klass["title"]) == ("ALG-1-99", "Algebra I, period 9")
    assert db_session.scalar(sa.text("SELECT count(*) FROM classes")) == 1
    assert check(db_session).clean


@pytest.mark.as_owner  # the constraint is added in the test's transaction: by the owner
def test_failed_projection_rolls_the_edfi_write_back(rostered, edfi, db_session):
    # A constraint the OneRoster side cannot satisfy (added in this test's own transaction, so it
    # is rolled back with it) makes the projection fail inside the Ed-Fi write's transaction.
    db_session.execute(
        sa.text("ALTER TABLE users ADD CONSTRAINT test_projection_fails CHECK (phone IS NULL)")
    )
    seoa = {
        **body_of("studentEducationOrganizationAssociations"),
        "telephones": [
            {
                "telephoneNumber": "+1 (512) 555-0100 x1234",
                "telephoneNumberTypeDescriptor": "uri://ed-fi.org/TelephoneNumberTypeDescriptor#Home",
            }
        ],
    }
    r = edfi.post("studentEducationOrganizationAssociations", seoa)
    assert 400 <= r.status_code < 500, r.get_json()
    stored = edfi.get(
        "studentEducationOrganizationAssociations", query_string={"studentUniqueId": "604822"}
    ).get_json()
    assert stored[0].get("telephones", []) == []
    assert row(db_session, "users", STUDENT)["phone"] is None


def test_a_24_character_edfi_telephone_reaches_oneroster(rostered, edfi, db_session):
    number = "+1 (512) 555-0100 x1234"  # 23 characters: Ed-Fi allows 24
    seoa = {
        **body_of("studentEducationOrganizationAssociations"),
        "telephones": [
            {
                "telephoneNumber": number,
                "telephoneNumberTypeDescriptor": "uri://ed-fi.org/TelephoneNumberTypeDescriptor#Home",
            }
        ],
    }
    assert edfi.post("studentEducationOrganizationAssociations", seoa).status_code in (200, 201)
    assert row(db_session, "users", STUDENT)["phone"] == number


def test_verify_reports_drift(rostered, db_session):
    assert check(db_session).clean
    db_session.execute(
        sa.text("UPDATE users SET given_name = 'X' WHERE sourced_id = :s"), {"s": STUDENT}
    )
    db_session.execute(
        sa.text(
            "INSERT INTO organizations (sourced_id, name, type, identifier, origin) "
            "VALUES ('org-lost', 'Lost', 'school', '1', 'edfi')"
        )
    )
    drift = check(db_session)
    assert drift.differing["user"] == 1 and drift.orphaned["org"] == ["org-lost"]
    assert not drift.clean
    check(db_session, repair=True)
    assert check(db_session).clean
    assert row(db_session, "users", STUDENT)["given_name"] == "Lisa"


def test_bootstrap_projects_edfi_data_stored_before_the_mapping(app, rostered, db_session):
    from gateway import mapping

    before = db_session.execute(
        sa.text("SELECT sourced_id, given_name FROM users ORDER BY 1")
    ).all()
    for table in ("mapping_links", "users", "organizations", "classes", "enrollments"):
        db_session.execute(sa.text(f"DELETE FROM {table}"))
    with app.app_context():
        mapping.bootstrap(app, demo=False)
    after = db_session.execute(sa.text("SELECT sourced_id, given_name FROM users ORDER BY 1")).all()
    assert after == before
    assert check(db_session).clean


def test_oneroster_import_reports_what_edfi_cannot_take_and_propagates_deletes(
    rostered, edfi, db_session
):
    from gateway.mapping.to_edfi.bulk import project_import

    db_session.execute(
        sa.text(
            "INSERT INTO organizations (sourced_id, name, type, identifier, origin) "
            "VALUES ('lms-dept', 'Maths', 'department', 'MATH', 'csv')"
        )
    )
    enrollment = sourced_id(
        "studentSectionAssociations",
        {**SECTION, "studentUniqueId": "604822", "beginDate": "2021-08-23"},
    )
    db_session.execute(
        sa.text("UPDATE enrollments SET status = 'tobedeleted' WHERE sourced_id = :s"),
        {"s": enrollment},
    )
    skipped = project_import(db_session, {"org": ["lms-dept"], "enrollment": [enrollment]})
    assert [(e, s) for e, s, _ in skipped] == [("org", "lms-dept")]
    assert edfi.get("studentSectionAssociations").get_json() == []
    deletes = edfi.get("studentSectionAssociations/deletes").get_json()
    assert [d["keyValues"]["studentUniqueId"] for d in deletes] == ["604822"]


def test_verify_names_each_drifting_record_field_and_values(rostered, db_session):
    db_session.execute(
        sa.text("UPDATE users SET given_name = 'X' WHERE sourced_id = :s"), {"s": STUDENT}
    )
    lines = check(db_session).lines()
    assert f"  different user {STUDENT} givenName: 'X' stored, 'Lisa' projected" in lines, lines
