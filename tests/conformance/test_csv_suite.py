"""The CSV suite on valid packages and on packages broken in one place each."""

from __future__ import annotations

from tests.conformance.csv_packages import COLUMNS, build, manifest, valid_rows


def _failed(checks):
    return {name: c for name, c in checks.items() if c["status"] == "fail"}


def test_a_valid_package_passes(run_cli, tmp_path):
    code, checks = run_cli("csv", str(build(tmp_path / "ok.zip")))
    assert code == 0
    assert _failed(checks) == {}
    assert len(checks) == 1 + 13 * 6


def test_tolerated_variants_pass(run_cli, tmp_path):
    """Reordered columns, metadata.* extensions, a BOM, CRLF, delta and absent files."""
    rows = valid_rows()
    del rows["resources"], rows["classResources"], rows["courseResources"]
    users = COLUMNS["users"].split(",")
    columns = {"users": users[::-1] + ["metadata.house"]}
    rows["users"][0]["metadata.house"] = "Blue"
    path = build(
        tmp_path / "variants.zip",
        rows,
        columns=columns,
        bom=True,
        crlf=True,
        manifest_rows=manifest(
            {
                "resources": "absent",
                "classResources": "absent",
                "courseResources": "absent",
                "results": "delta",
            }
        ),
    )
    code, checks = run_cli("csv", str(path))
    assert _failed(checks) == {}
    assert code == 0
    assert checks["resources.csv: enumerations"]["status"] == "skip"
    assert "absent" in checks["resources.csv: enumerations"]["reason"]


def test_each_problem_names_file_line_and_column(run_cli, tmp_path):
    rows = valid_rows()
    rows["users"][1]["role"] = "pupil"  # users.csv line 3, column 6
    rows["classes"][0]["title"] = ""  # classes.csv line 2, column 4
    rows["academicSessions"][1]["startDate"] = "2025-13-01"  # line 3, column 6
    rows["enrollments"][1]["classSourcedId"] = "k-missing"  # line 3, column 4
    rows["orgs"].append({**rows["orgs"][1]})  # orgs.csv line 4 repeats s1
    rows["users"][0]["grades"] = "9"  # not a CEDS code
    rows["users"][0]["userIds"] = "LDAP:jdoe"  # not {type:id}
    rows["demographics"][0]["sourcedId"] = "nobody"  # not a user
    code, checks = run_cli("csv", str(build(tmp_path / "broken.zip", rows)))
    assert code == 1
    failed = _failed(checks)
    assert set(failed) == {
        "users.csv: enumerations",
        "classes.csv: required values present",
        "academicSessions.csv: formats (dates, booleans, numbers, grades, userIds)",
        "enrollments.csv: references to other files resolve",
        "orgs.csv: sourcedIds unique",
        "users.csv: formats (dates, booleans, numbers, grades, userIds)",
        "demographics.csv: references to other files resolve",
    }
    assert failed["users.csv: enumerations"]["problems"] == [
        "users.csv line 3, column 6 (role): 'pupil' is not one of ['administrator', 'aide', "
        "'guardian', 'parent', 'proctor', 'relative', 'student', 'teacher']"
    ]
    assert failed["classes.csv: required values present"]["problems"] == [
        "classes.csv line 2, column 4 (title): a value is required"
    ]
    assert failed["academicSessions.csv: formats (dates, booleans, numbers, grades, userIds)"][
        "problems"
    ] == [
        "academicSessions.csv line 3, column 6 (startDate): '2025-13-01' is not a date YYYY-MM-DD"
    ]
    assert failed["enrollments.csv: references to other files resolve"]["problems"] == [
        "enrollments.csv line 3, column 4 (classSourcedId): 'k-missing' is not a sourcedId in "
        "classes.csv"
    ]
    assert failed["orgs.csv: sourcedIds unique"]["problems"] == [
        "orgs.csv line 4, column 1 (sourcedId): 's1' already used on line 3"
    ]
    assert (
        len(failed["users.csv: formats (dates, booleans, numbers, grades, userIds)"]["problems"])
        == 2
    )


def test_multi_line_quoted_fields_keep_line_numbers(run_cli, tmp_path):
    rows = valid_rows()
    rows["orgs"][0]["name"] = "Grand Bend\nIndependent School District"  # spans lines 2-3
    rows["orgs"][1]["type"] = "campus"  # record on line 4
    _, checks = run_cli("csv", str(build(tmp_path / "multiline.zip", rows)))
    assert _failed(checks)["orgs.csv: enumerations"]["problems"][0].startswith(
        "orgs.csv line 4, column 5 (type): 'campus'"
    )


def test_manifest_and_header_problems(run_cli, tmp_path):
    rows = valid_rows()
    del rows["categories"]
    bad_manifest = [r for r in manifest() if r[0] != "file.demographics"]
    bad_manifest[2] = ["oneroster.version", "1.0"]
    columns = {"courses": [c for c in COLUMNS["courses"].split(",") if c != "title"] + ["colour"]}
    code, checks = run_cli(
        "csv",
        str(build(tmp_path / "manifest.zip", rows, columns=columns, manifest_rows=bad_manifest)),
    )
    assert code == 1
    problems = checks["manifest.csv: header, versions, a mode for every file, files present"][
        "problems"
    ]
    assert (
        "manifest.csv line 3, column 2 (value): oneroster.version is '1.0', expected ['1.1']"
        in problems
    )
    assert "manifest.csv: no file.demographics row" in problems
    assert "manifest.csv: file.categories is bulk but categories.csv is missing" in problems
    assert (
        "manifest.csv: file.demographics is absent but demographics.csv is in the package"
        in problems
    )
    header = checks["courses.csv: header has every column, rows have as many fields"]["problems"]
    assert header == [
        "courses.csv line 1, column 10 (colour): not a OneRoster v1.1 column",
        "courses.csv line 1: column title is missing",
    ]


def test_short_rows_and_unreadable_packages(run_cli, tmp_path):
    raw = {"categories": "sourcedId,status,dateLastModified,title\ncat1,active\n"}
    _, checks = run_cli("csv", str(build(tmp_path / "short.zip", raw=raw)))
    assert _failed(checks)["categories.csv: header has every column, rows have as many fields"][
        "problems"
    ] == ["categories.csv line 2: 2 fields, the header has 4"]
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    code, checks = run_cli("csv", str(junk))
    assert code == 1
    assert (
        "cannot open"
        in checks["manifest.csv: header, versions, a mode for every file, files present"]["reason"]
    )
    assert checks["users.csv: enumerations"]["status"] == "skip"
