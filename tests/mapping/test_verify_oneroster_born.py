"""`gateway mapping verify` on records born in OneRoster: their Ed-Fi projection is checked too
(missing, different in a projected field, or left without its OneRoster source) and `--repair`
re-runs the projection where that fixes it."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.verify import check
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district

do_import = csv_suite.do_import
STUDENT = "604822"  # the CSV student u-s1's identifier, its Ed-Fi studentUniqueId


def imported(tmp_path, do_import) -> None:
    report = do_import(write_package(tmp_path, district()))
    assert report.status == "applied", report.as_dict()


def student_row(db_session) -> dict:
    return dict(
        db_session.execute(
            sa.text("SELECT * FROM students WHERE student_unique_id = :s"), {"s": STUDENT}
        )
        .mappings()
        .one()
    )


def test_a_clean_import_verifies_clean(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    drift = check(db_session)
    assert drift.clean, drift.lines()
    assert "Ed-Fi records of OneRoster origin: none drifted" in drift.lines()
    # the check rolled back its re-run: nothing it wrote stays
    cv = db_session.scalar(sa.text("SELECT max(change_version) FROM students"))
    assert check(db_session).clean
    assert db_session.scalar(sa.text("SELECT max(change_version) FROM students")) == cv
    # a repair of a clean database does not echo the Ed-Fi copies back over the CSV records
    users = "SELECT sourced_id, origin, given_name, status FROM users ORDER BY 1"
    before = db_session.execute(sa.text(users)).all()
    assert check(db_session, repair=True).clean
    assert db_session.execute(sa.text(users)).all() == before
    assert {origin for _, origin, _, _ in before} == {"oneroster-csv"}


def test_a_changed_edfi_field_of_a_csv_born_student_is_drift_and_repaired(
    tmp_path, do_import, db_session
):
    imported(tmp_path, do_import)
    first_name = student_row(db_session)["first_name"]
    db_session.execute(
        sa.text("UPDATE students SET first_name = 'Changed' WHERE student_unique_id = :s"),
        {"s": STUDENT},
    )
    drift = check(db_session)
    assert not drift.clean
    assert drift.edfi_differing == {"students": 1}
    assert drift.edfi_missing == {"students": 0}
    assert drift.edfi_orphaned == {"students": []}
    assert "Ed-Fi students: 0 missing, 1 different, 0 without a OneRoster source" in drift.lines()
    # a plain check changes nothing
    assert student_row(db_session)["first_name"] == "Changed"
    repaired = check(db_session, repair=True)
    assert repaired.edfi_differing == {"students": 1} and repaired.unrepairable == 0
    assert student_row(db_session)["first_name"] == first_name
    assert check(db_session).clean


def test_a_field_oneroster_does_not_carry_is_not_drift(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    db_session.execute(
        sa.text("UPDATE students SET generation_code_suffix = 'Jr' WHERE student_unique_id = :s"),
        {"s": STUDENT},
    )
    assert check(db_session).clean
    assert student_row(db_session)["generation_code_suffix"] == "Jr"


def test_a_deleted_projected_edfi_row_is_missing_and_repaired(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    table = "student_education_organization_associations"
    count = f"SELECT count(*) FROM {table} WHERE student_unique_id = :s"  # noqa: S608
    before = db_session.scalar(sa.text(count), {"s": STUDENT})
    assert before >= 1
    db_session.execute(
        sa.text(f"DELETE FROM {table} WHERE student_unique_id = :s"),  # noqa: S608
        {"s": STUDENT},
    )
    drift = check(db_session)
    assert drift.edfi_missing == {"studentEducationOrganizationAssociations": before}
    assert not drift.clean
    assert db_session.scalar(sa.text(count), {"s": STUDENT}) == 0
    check(db_session, repair=True)
    assert db_session.scalar(sa.text(count), {"s": STUDENT}) == before
    assert check(db_session).clean


def test_an_edfi_row_whose_oneroster_source_is_gone_is_reported_not_deleted(
    tmp_path, do_import, db_session
):
    imported(tmp_path, do_import)
    row_id = student_row(db_session)["id"]
    # the OneRoster record goes away without its projection running (as a hand edit would)
    db_session.execute(sa.text("UPDATE users SET status = 'tobedeleted' WHERE sourced_id = 'u-s1'"))
    drift = check(db_session)
    assert drift.edfi_orphaned["students"] == [str(row_id)]
    assert f"  orphaned Ed-Fi students {row_id}" in drift.lines()
    repaired = check(db_session, repair=True)
    assert repaired.edfi_orphaned["students"] == [str(row_id)]
    assert repaired.unrepairable >= 1
    assert student_row(db_session)["id"] == row_id  # deleting Ed-Fi data is not the repair's call


def test_rest_gradebook_writes_are_checked_against_their_edfi_entries(
    rostered, client, auth_headers, db_session
):
    from tests.mapping.conftest import OR
    from tests.mapping.test_reverse import _category_and_term, line_item

    cat, term = _category_and_term(db_session)
    body = line_item("Quiz 7", cat, term)
    r = client.put(f"{OR}/lineItems/quiz-7", json=body, headers=auth_headers())
    assert r.status_code == 201, r.get_json()
    assert check(db_session).clean
    entry = "SELECT title FROM gradebook_entries WHERE gradebook_entry_identifier = 'quiz-7'"
    db_session.execute(
        sa.text(
            "UPDATE gradebook_entries SET title = 'Edited' "
            "WHERE gradebook_entry_identifier = 'quiz-7'"
        )
    )
    assert check(db_session).edfi_differing == {"gradebookEntries": 1}
    db_session.execute(
        sa.text("DELETE FROM gradebook_entries WHERE gradebook_entry_identifier = 'quiz-7'")
    )
    drift = check(db_session)
    assert drift.edfi_missing == {"gradebookEntries": 1} and not drift.clean
    check(db_session, repair=True)
    assert db_session.scalar(sa.text(entry)) == "Quiz 7"
    assert check(db_session).clean


def test_the_cli_verdict_says_what_repair_left(tmp_path, do_import, db_session):
    from gateway.mapping.cli import outcome

    imported(tmp_path, do_import)
    assert outcome(check(db_session), repair=False) == ("no drift", 0)
    db_session.execute(
        sa.text("UPDATE students SET first_name = 'Changed' WHERE student_unique_id = :s"),
        {"s": STUDENT},
    )
    assert outcome(check(db_session), repair=False) == ("drift found", 1)
    assert outcome(check(db_session, repair=True), repair=True) == ("repaired", 0)
    db_session.execute(sa.text("UPDATE users SET status = 'tobedeleted' WHERE sourced_id = 'u-s1'"))
    verdict, code = outcome(check(db_session, repair=True), repair=True)
    assert code == 1
    assert (
        verdict.startswith("repaired, except ") and "delete them through the Ed-Fi API" in verdict
    )


def test_every_drifting_edfi_record_is_named_with_field_and_both_values(
    tmp_path, do_import, db_session
):
    imported(tmp_path, do_import)
    first_name = student_row(db_session)["first_name"]
    db_session.execute(
        sa.text("UPDATE students SET first_name = 'Changed' WHERE student_unique_id = :s"),
        {"s": STUDENT},
    )
    lines = check(db_session).lines()
    assert (
        f"  different Ed-Fi students (u-s1) first_name: 'Changed' stored, {first_name!r} projected"
        in lines
    ), lines


def test_repair_never_merges_two_people(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    name = student_row(db_session)["first_name"]
    _add_twin(db_session)
    drift = check(db_session, repair=True)
    assert student_row(db_session)["first_name"] == name  # not the twin's 'Other'
    assert not check(db_session).clean, drift.lines()  # reported, not silently resolved


def _add_twin(db_session) -> None:
    """A second person with u-s1's identifier, stored before the import refused such packages."""
    db_session.execute(
        sa.text(
            "INSERT INTO users (sourced_id, status, role, username, given_name, family_name, "
            "identifier, org_ids, origin, enabled_user) VALUES ('u-s9', 'active', 'student', "
            "'twin', 'Other', 'Person', :s, '[\"org-s1\"]', 'oneroster-csv', true)"
        ),
        {"s": STUDENT},
    )


def test_verify_names_both_people_sharing_an_identifier(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    _add_twin(db_session)
    lines = check(db_session).lines()
    assert any("u-s1" in line and "u-s9" in line for line in lines), lines


def test_a_merged_person_given_its_own_identifier_splits_into_two(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    name = student_row(db_session)["first_name"]
    _add_twin(db_session)
    check(db_session, repair=True)
    # the district fixes its data: the twin gets its own identifier and a birth date
    files = district()
    twin = {
        **files["users"][1],
        "sourcedId": "u-s9",
        "username": "twin",
        "givenName": "Other",
        "familyName": "Person",
        "identifier": "604899",
        "userIds": "",
        "agentSourcedIds": "",
    }
    demographics = {**files["demographics"][0], "sourcedId": "u-s9", "birthDate": "2011-05-06"}
    delta = write_package(
        tmp_path,
        {"users": [twin], "demographics": [demographics]},
        {"users": "delta", "demographics": "delta"},
    )
    report = do_import(delta)
    assert report.status == "applied", report.as_dict()
    rows = db_session.execute(
        sa.text("SELECT student_unique_id, first_name FROM students ORDER BY 1")
    ).all()
    assert rows == [(STUDENT, name), ("604899", "Other")]
    drift = check(db_session)
    assert drift.clean, drift.lines()
