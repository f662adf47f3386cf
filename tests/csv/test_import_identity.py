"""Identity safety: a package that would make two OneRoster people one Ed-Fi person (different
sourcedIds, the same `identifier`, the same kind of Ed-Fi person) is rejected, naming both rows."""

from __future__ import annotations

from tests.csv.conftest import write_package
from tests.csv.district import district


def _twin(data: dict) -> dict:
    s1 = data["users"][1]  # u-s1, identifier 604822, line 3 of users.csv
    return {**s1, "sourcedId": "u-s9", "username": "twin", "givenName": "Other", "userIds": ""}


def test_two_rows_with_one_identifier_are_rejected_naming_both(tmp_path, do_import, rows):
    data = district()
    data["users"].append(_twin(data))  # line 6
    report = do_import(write_package(tmp_path, data))
    assert report.status == "rejected"
    issues = report.file("users.csv").issues
    assert len(issues) == 1, issues
    issue = issues[0]
    assert (issue.line, issue.column, issue.value) == (6, "identifier", "604822")
    assert "users.csv line 3" in issue.reason and "u-s1" in issue.reason
    assert "u-s9" in str(issue) or issue.line == 6
    assert rows("users", "status") == {}


def test_a_row_sharing_a_stored_persons_identifier_is_rejected(tmp_path, do_import, rows):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    twin = _twin(district())
    report = do_import(write_package(tmp_path, {"users": [twin]}, {"users": "delta"}))
    assert report.status == "rejected"
    [issue] = report.file("users.csv").issues
    assert (issue.line, issue.column) == (2, "identifier")
    assert "u-s1" in issue.reason
    assert "u-s9" not in rows("users", "status")


def test_the_same_identifier_for_different_kinds_of_person_is_accepted(tmp_path, do_import):
    data = district()
    # a teacher and a parent may carry the same district id: they are different Ed-Fi records
    data["users"][0]["identifier"] = "P-77"
    data["users"][3]["identifier"] = "P-77"
    assert do_import(write_package(tmp_path, data)).status == "applied"


def test_moving_an_identifier_within_the_package_is_accepted(tmp_path, do_import):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    data = district()
    # u-s1 gives up 604822 and u-s9 takes it, in one package: still one person per identifier
    data["users"][1]["identifier"] = "604823"
    data["users"].append(_twin(district()))
    report = do_import(write_package(tmp_path, data))
    assert report.status == "applied", report.as_dict()
