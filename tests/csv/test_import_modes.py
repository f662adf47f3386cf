"""Delta (updates and deletes), absent files, and bulk removal of missing rows."""

from __future__ import annotations

from tests.csv.conftest import write_package
from tests.csv.district import district
from tests.oneroster.stored import assert_documents_current

LATER = "2026-02-01T08:00:00.000Z"


def test_delta_updates_and_deletes(tmp_path, do_import, rows, db_session):
    full = tmp_path / "a"
    full.mkdir()
    assert do_import(write_package(full, district())).status == "applied"
    assert_documents_current(db_session)  # the stored documents, bulk load and delta alike
    changes = {
        "users": [
            {**district()["users"][2], "familyName": "O'Brien-Ní", "dateLastModified": LATER},
            {**district()["users"][3], "status": "tobedeleted", "dateLastModified": LATER},
            {
                "sourcedId": "u-s3",
                "status": "active",
                "dateLastModified": LATER,
                "enabledUser": "true",
                "orgSourcedIds": "org-s1",
                "role": "student",
                "username": "bzion",
                "givenName": "בן-ציון",
                "familyName": "Levi",
            },
        ],
        "enrollments": [
            {"sourcedId": "enr-3", "status": "tobedeleted", "dateLastModified": LATER},
        ],
    }
    delta = tmp_path / "b"
    delta.mkdir()
    report = do_import(write_package(delta, changes, {"users": "delta", "enrollments": "delta"}))
    assert report.status == "applied", report.as_dict()
    assert report.files["users.csv"].counts == {
        "created": 1,
        "updated": 1,
        "deleted": 1,
        "unchanged": 0,
        "rejected": 0,
    }
    assert report.files["enrollments.csv"].counts["deleted"] == 1
    users = rows("users", "status", "family_name", "given_name")
    assert users["u-s2"] == ("active", "O'Brien-Ní", "Seán")
    assert users["u-p1"][0] == "tobedeleted"
    assert users["u-s3"] == ("active", "Levi", "בן-ציון")
    assert users["u-t1"][0] == "active"  # a delta leaves rows it does not name alone
    enrollments = rows("enrollments", "status")
    assert enrollments == {"enr-1": ("active",), "enr-2": ("active",), "enr-3": ("tobedeleted",)}
    assert_documents_current(db_session)


def test_delta_requires_status_and_date_last_modified(tmp_path, do_import):
    row = {**district()["categories"][0], "status": "", "dateLastModified": ""}
    report = do_import(write_package(tmp_path, {"categories": [row]}, {"categories": "delta"}))
    assert report.status == "rejected"
    assert [str(i) for i in report.files["categories.csv"].issues] == [
        "categories.csv:2 status: required in a delta file",
        "categories.csv:2 dateLastModified: required in a delta file",
    ]


def test_bulk_marks_missing_rows_tobedeleted(tmp_path, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, district())).status == "applied"
    smaller = district()
    smaller["enrollments"] = smaller["enrollments"][:2]
    report = do_import(write_package(second, smaller), allow_deletions=True)
    assert report.status == "applied"
    assert report.files["enrollments.csv"].counts == {
        "created": 0,
        "updated": 0,
        "deleted": 1,
        "unchanged": 2,
        "rejected": 0,
    }
    assert rows("enrollments", "status")["enr-3"] == ("tobedeleted",)


def test_absent_files_are_untouched(tmp_path, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, district())).status == "applied"
    # Only orgs, as bulk; every other type absent: their rows stay as they were.
    only_orgs = {"orgs": district()["orgs"]}
    report = do_import(write_package(second, only_orgs))
    assert report.status == "applied", report.as_dict()
    assert report.files["users.csv"].outcome == "absent"
    assert report.files["users.csv"].counts["deleted"] == 0
    assert {s for (s,) in rows("users", "status").values()} == {"active"}
    assert len(rows("enrollments", "status")) == 3


def test_a_file_marked_absent_is_not_read(tmp_path, do_import, rows):
    data = district()
    data["categories"] = [{**data["categories"][0], "title": ""}]  # would be invalid if read
    assert (
        do_import(
            write_package(
                tmp_path, data, {"categories": "absent", "lineItems": "absent", "results": "absent"}
            )
        ).status
        == "applied"
    )
    assert rows("categories", "title") == {}


def test_dry_run_counts_without_changing_anything(tmp_path, do_import, rows):
    report = do_import(write_package(tmp_path, district()), dry_run=True)
    assert report.status == "dry-run"
    assert report.totals()["created"] == 20
    assert rows("users", "status") == {}


def test_stored_rows_are_stamped_with_the_import_not_the_file(tmp_path, do_import, db_session):
    from sqlalchemy import text

    do_import(write_package(tmp_path, district()))
    stamp, now = db_session.execute(
        text("SELECT date_last_modified, now() FROM users WHERE sourced_id = 'u-t1'")
    ).one()
    assert stamp == now  # not the file's T: see test_import_stamps
