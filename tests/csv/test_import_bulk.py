"""A valid bulk package, then re-import (idempotence), through zip and directory."""

from __future__ import annotations

from tests.csv.conftest import write_package
from tests.csv.district import district


def test_valid_bulk_package_is_applied(tmp_path, do_import, rows):
    report = do_import(write_package(tmp_path, district()))
    assert report.status == "applied", report.as_dict()
    users = report.files["users.csv"]
    assert users.outcome == "imported"
    assert users.counts == {"created": 4, "updated": 0, "deleted": 0, "unchanged": 0, "rejected": 0}
    stored = rows(
        "users",
        "given_name",
        "family_name",
        "enabled_user",
        "org_ids",
        "user_ids",
        "agents",
        "grades",
        "origin",
    )
    assert stored["u-s1"] == (
        "דוד",
        "כהן",
        True,
        ["org-s1"],
        [{"type": "LDAP", "identifier": "dcohen"}, {"type": "SIS", "identifier": "604822"}],
        ["u-p1"],
        ["09"],
        "oneroster-csv",
    )
    assert stored["u-p1"][2] is False
    assert rows("organizations", "parent_id")["org-s1"] == ("org-d1",)
    assert rows("classes", "term_sourced_ids", "periods")["cls-1"] == (["as-t1"], ["1", "2"])
    assert rows("results", "score", "score_status")["res-r1"] == (93.5, "fully graded")
    assert rows("demographics", "white", "asian", "hispanic_or_latino_ethnicity")["u-s1"] == (
        False,
        False,
        False,
    )
    assert report.totals()["created"] == 20


def test_reimport_of_the_same_package_is_unchanged(tmp_path, do_import):
    package = write_package(tmp_path, district())
    assert do_import(package).status == "applied"
    again = do_import(package)
    assert again.status == "applied"
    assert again.totals() == {
        "created": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 20,
        "rejected": 0,
    }


def test_directory_package(tmp_path, do_import, rows):
    report = do_import(write_package(tmp_path, district(), as_zip=False))
    assert report.status == "applied", report.as_dict()
    assert set(rows("users", "role")) == {"u-t1", "u-s1", "u-s2", "u-p1"}
