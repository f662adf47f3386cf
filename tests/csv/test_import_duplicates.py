"""Duplicate sourcedIds are reported with the same lines whichever way they are found: by the
hash check during validation, or (on a first load into an empty table) by the table's primary
key while applying, after which the import goes back to its validated state."""

from __future__ import annotations

import copy

from tests.csv.conftest import write_package
from tests.csv.district import district


def _issues(report, filename):
    return [str(i) for i in report.files[filename].issues]


def _duplicate(data, file, index=0):
    data[file].append(copy.deepcopy(data[file][index]))
    return len(data[file]) + 1  # the copy's line: the header is line 1


def _assert_rejected(report, rows, expected):
    assert report.status == "rejected"
    assert report.message == "nothing was applied: the package has problems"
    for filename, lines in expected.items():
        assert _issues(report, filename) == lines
        assert report.files[filename].outcome == "rejected"
    assert rows("organizations", "name") == {}
    assert rows("users", "role") == {}
    assert rows("enrollments", "role") == {}


def test_duplicate_found_by_the_key_of_an_empty_table(tmp_path, do_import, rows):
    data = district()
    line = _duplicate(data, "users", 1)
    report = do_import(write_package(tmp_path, data))
    _assert_rejected(
        report,
        rows,
        {
            "users.csv": [
                f"users.csv:{line} sourcedId 'u-s1': duplicate sourcedId (first on line 3)"
            ]
        },
    )
    assert report.files["users.csv"].counts["rejected"] == 1
    # Files applied before the duplicate was found count nothing and are not applied.
    assert report.files["orgs.csv"].outcome == "not applied"
    assert report.files["orgs.csv"].counts.get("created", 0) == 0
    assert report.totals()["created"] == 0


def test_duplicate_in_a_table_whose_key_stays(tmp_path, do_import, rows):
    # organizations.parent_id refers to its key, so the key is kept and the insert finds it.
    data = district()
    line = _duplicate(data, "orgs", 1)
    report = do_import(write_package(tmp_path, data))
    _assert_rejected(
        report,
        rows,
        {
            "orgs.csv": [
                f"orgs.csv:{line} sourcedId 'org-s1': duplicate sourcedId (first on line 3)"
            ]
        },
    )


def test_duplicates_are_reported_with_every_other_problem(tmp_path, do_import, rows):
    data = district()
    enrollment_line = _duplicate(data, "enrollments", 0)
    data["users"][0]["role"] = "wizard"
    report = do_import(write_package(tmp_path, data))
    assert report.status == "rejected"
    assert _issues(report, "enrollments.csv") == [
        f"enrollments.csv:{enrollment_line} sourcedId 'enr-1': duplicate sourcedId "
        "(first on line 2)"
    ]
    assert _issues(report, "users.csv")[0].startswith("users.csv:2 role 'wizard'")
    assert rows("enrollments", "role") == {}


def test_duplicate_of_a_deleted_row_is_found_by_validation(tmp_path, do_import, rows):
    # A tobedeleted row is not inserted, so the key could not see this duplicate.
    data = district()
    line = _duplicate(data, "enrollments", 0)
    data["enrollments"][-1]["status"] = "tobedeleted"
    report = do_import(write_package(tmp_path, data))
    _assert_rejected(
        report,
        rows,
        {
            "enrollments.csv": [
                f"enrollments.csv:{line} sourcedId 'enr-1': duplicate sourcedId (first on line 2)"
            ]
        },
    )


def test_duplicate_in_a_re_import_is_found_by_validation(tmp_path, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, district())).status == "applied"
    data = district()
    line = _duplicate(data, "enrollments", 0)
    data["enrollments"][-1]["role"] = "aide"
    report = do_import(write_package(second, data))
    assert report.status == "rejected"
    assert _issues(report, "enrollments.csv") == [
        f"enrollments.csv:{line} sourcedId 'enr-1': duplicate sourcedId (first on line 2)"
    ]
    assert rows("enrollments", "role")["enr-1"] == ("teacher",)


def test_dry_run_finds_a_duplicate_by_the_key_and_changes_nothing(tmp_path, do_import, rows):
    data = district()
    line = _duplicate(data, "enrollments", 2)
    report = do_import(write_package(tmp_path, data), dry_run=True)
    assert report.status == "rejected"
    assert _issues(report, "enrollments.csv") == [
        f"enrollments.csv:{line} sourcedId 'enr-3': duplicate sourcedId (first on line 4)"
    ]
    assert rows("enrollments", "role") == {}
