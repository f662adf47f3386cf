"""Every class of problem, with its exact report line; nothing applied when any is found."""

from __future__ import annotations

import pytest

from gateway.oneroster.csv.report import ISSUE_CAP
from tests.csv.conftest import write_package
from tests.csv.district import HEADERS, district


def _issues(report, filename):
    return [str(i) for i in report.files[filename].issues]


@pytest.mark.parametrize(
    ("file", "index", "column", "value", "expected"),
    [
        ("users", 1, "givenName", "", "users.csv:3 givenName: required value is missing"),
        (
            "users",
            0,
            "role",
            "principal",
            "users.csv:2 role 'principal': must be one of: administrator, aide, guardian, parent, "
            "proctor, relative, student, teacher",
        ),
        (
            "users",
            2,
            "enabledUser",
            "yes",
            "users.csv:4 enabledUser 'yes': not a boolean (true, false, 1 or 0)",
        ),
        (
            "users",
            0,
            "userIds",
            "LDAP:jsmith",
            "users.csv:2 userIds 'LDAP:jsmith': not a list of {type:identifier}",
        ),
        (
            "users",
            0,
            "sms",
            "+1 555 0100 0100 0100 0100",
            "users.csv:2 sms '+1 555 0100 0100 0100 0100': longer than 24 characters",
        ),
        (
            "academicSessions",
            1,
            "startDate",
            "2025-13-01",
            "academicSessions.csv:3 startDate '2025-13-01': not a date (YYYY-MM-DD)",
        ),
        (
            "academicSessions",
            0,
            "schoolYear",
            "25-26",
            "academicSessions.csv:2 schoolYear '25-26': not a four-digit year",
        ),
        (
            "orgs",
            0,
            "dateLastModified",
            "yesterday",
            "orgs.csv:2 dateLastModified 'yesterday': not a date-time (YYYY-MM-DDTHH:MM:SS.sssZ)",
        ),
        ("results", 0, "score", "A+", "results.csv:2 score 'A+': not a number"),
        (
            "resources",
            0,
            "roles",
            "student,coach",
            "resources.csv:2 roles 'student,coach': each entry must be one of: administrator, "
            "aide, guardian, parent, proctor, relative, student, teacher",
        ),
        (
            "enrollments",
            2,
            "userSourcedId",
            "u-nobody",
            "enrollments.csv:4 userSourcedId 'u-nobody': no active user with this sourcedId in the "
            "package or the gateway",
        ),
        (
            "users",
            1,
            "agentSourcedIds",
            "u-p1,u-ghost",
            "users.csv:3 agentSourcedIds 'u-ghost': no active user with this sourcedId in the "
            "package or the gateway",
        ),
        (
            "classes",
            0,
            "termSourcedIds",
            "as-t1, as-t9",
            "classes.csv:2 termSourcedIds 'as-t9': no active academicSession with this sourcedId "
            "in the package or the gateway",
        ),
        (
            "enrollments",
            1,
            "sourcedId",
            "enr-1",
            "enrollments.csv:3 sourcedId 'enr-1': duplicate sourcedId (first on line 2)",
        ),
    ],
)
def test_each_problem_has_its_report_line(
    tmp_path, do_import, rows, file, index, column, value, expected
):
    data = district()
    data[file][index][column] = value
    report = do_import(write_package(tmp_path, data))
    assert report.status == "rejected"
    assert _issues(report, f"{file}.csv") == [expected]
    assert report.files[f"{file}.csv"].counts["rejected"] == 1
    assert report.files[f"{file}.csv"].outcome == "rejected"
    assert rows("organizations", "name") == {}  # nothing at all was applied


def test_reference_to_existing_data_is_accepted(tmp_path, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, district())).status == "applied"
    new = {
        "sourcedId": "enr-9",
        "status": "active",
        "dateLastModified": "2026-02-01T00:00:00Z",
        "classSourcedId": "cls-1",
        "schoolSourcedId": "org-s1",
        "userSourcedId": "u-s2",
        "role": "student",
    }
    report = do_import(write_package(second, {"enrollments": [new]}, {"enrollments": "delta"}))
    assert report.status == "applied", report.as_dict()
    assert rows("enrollments", "user_sourced_id")["enr-9"] == ("u-s2",)


def test_reference_to_a_row_the_bulk_file_removes_is_rejected(tmp_path, do_import):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, district())).status == "applied"
    data = district()
    data["users"] = [u for u in data["users"] if u["sourcedId"] != "u-s2"]
    data["users"][1]["agentSourcedIds"] = ""
    data["users"][2]["agentSourcedIds"] = ""
    report = do_import(
        write_package(second, {"users": data["users"], "enrollments": data["enrollments"]})
    )
    assert _issues(report, "enrollments.csv") == [
        "enrollments.csv:4 userSourcedId 'u-s2': no active user with this sourcedId in the "
        "package or the gateway"
    ]


def test_missing_required_column(tmp_path, do_import):
    header = [h for h in HEADERS["categories"] if h != "title"]
    report = do_import(
        write_package(
            tmp_path, {"categories": district()["categories"]}, headers={"categories": header}
        )
    )
    assert _issues(report, "categories.csv") == [
        "categories.csv:1 title: required column is missing"
    ]


def test_row_with_extra_fields(tmp_path, do_import):
    text = (
        "sourcedId,status,dateLastModified,title\n"
        "cat-1,active,2026-01-15T10:01:02.123Z,Homework\n"
        "cat-2,active,2026-01-15T10:01:02.123Z,Quiz,surplus\n"
    )
    report = do_import(write_package(tmp_path, {"categories": text}))
    assert _issues(report, "categories.csv") == [
        "categories.csv:3: the row has more fields than the header"
    ]


def test_file_that_is_not_utf8(tmp_path, do_import):
    package = write_package(tmp_path, {"categories": "PLACEHOLDER"}, as_zip=False)
    (package / "categories.csv").write_bytes(
        b"sourcedId,status,dateLastModified,title\ncat-1,active,,Caf\xe9\n"
    )
    report = do_import(package)
    assert _issues(report, "categories.csv") == ["categories.csv: not valid UTF-8 (near line 2)"]


def test_manifest_problems(tmp_path, do_import):
    manifest = (
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"
        "file.users,sometimes\nfile.classes,bulk\n"
    )
    report = do_import(write_package(tmp_path, {}, manifest=manifest))
    assert report.status == "rejected"
    assert _issues(report, "manifest.csv") == [
        "manifest.csv:4 value 'sometimes': must be one of: bulk, delta, absent"
    ]


def test_manifest_names_a_file_the_package_lacks(tmp_path, do_import):
    report = do_import(
        write_package(tmp_path, {"orgs": district()["orgs"]}, {"categories": "bulk"})
    )
    assert _issues(report, "categories.csv") == [
        "categories.csv: the manifest marks it bulk, but the package has no such file"
    ]


def test_issues_are_capped_per_file_with_a_count_of_the_rest(tmp_path, do_import):
    bad = [
        {"sourcedId": f"cat-{n}", "status": "active", "title": "", "dateLastModified": ""}
        for n in range(ISSUE_CAP + 25)
    ]
    report = do_import(write_package(tmp_path, {"categories": bad}))
    categories = report.files["categories.csv"]
    assert len(categories.issues) == ISSUE_CAP
    assert categories.more_issues == 25
    assert categories.counts["rejected"] == ISSUE_CAP + 25
    assert str(categories.issues[0]) == "categories.csv:2 title: required value is missing"


def test_error_in_the_last_file_leaves_nothing_applied(tmp_path, do_import, rows):
    data = district()
    data["courseResources"][0]["resourceSourcedId"] = "res-missing"
    report = do_import(write_package(tmp_path, data))
    assert report.status == "rejected"
    assert report.files["orgs.csv"].outcome == "not applied"
    assert report.files["courseResources.csv"].outcome == "rejected"
    for table in ("organizations", "users", "classes", "enrollments", "course_resources"):
        assert rows(table, "status") == {}


def test_failure_while_applying_restores_the_previous_state(tmp_path, do_import, rows):
    """users.username is unique: a new user taking an existing user's username passes validation
    (the file itself is consistent) but trips the constraint in the middle of the apply, after
    orgs and classes were already written in the same transaction."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, district())).status == "applied"
    before = {
        t: rows(t, "status", "date_last_modified")
        for t in ("organizations", "classes", "users", "enrollments")
    }
    data = district()
    data["orgs"][1]["name"] = "Renamed High School"
    data["classes"][0]["title"] = "Renamed class"
    data["users"][2]["username"] = "jsmith-2"
    data["users"].append({**data["users"][0], "sourcedId": "u-t2", "username": "sobrien"})
    data["users"] = [u for u in data["users"] if u["sourcedId"] != "u-s2"]
    data["enrollments"] = [e for e in data["enrollments"] if e["userSourcedId"] != "u-s2"]
    report = do_import(write_package(second, data), allow_deletions=True)
    assert report.status == "rejected", report.as_dict()
    assert _issues(report, "users.csv") == [
        "users.csv username: conflicts with data already in the gateway (uq_users_username)"
    ]
    assert rows("organizations", "name")["org-s1"] == ("Grand Bend High School",)
    assert rows("classes", "title")["cls-1"] == ("Algebra I - P1",)
    after = {t: rows(t, "status", "date_last_modified") for t in before}
    assert after == before


def test_a_username_repeated_in_a_first_load_is_reported_like_any_conflict(
    tmp_path, do_import, rows
):
    """Into empty tables the unique constraints are added back after the rows: the repeated
    username still fails them, with the same report line, and nothing is applied."""
    data = district()
    data["users"][1]["username"] = data["users"][0]["username"]
    report = do_import(write_package(tmp_path, data))
    assert report.status == "rejected", report.as_dict()
    assert _issues(report, "users.csv") == [
        "users.csv username: conflicts with data already in the gateway (uq_users_username)"
    ]
    for table in ("organizations", "users", "enrollments"):
        assert rows(table, "status") == {}
