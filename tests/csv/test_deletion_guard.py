"""Mass-deletion guard: a bulk file that would mark more than a share (CSV_MAX_DELETION_SHARE,
default 10%) of an organization's active records of a type `tobedeleted` is held, nothing applied,
unless the request allows it. Jobs are listed newest first."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.cli import cli
from tests.csv.conftest import write_package
from tests.csv.district import district
from tests.csv.test_cli import fresh_db  # noqa: F401  (fixture)
from tests.csv.test_routes import IMPORT, _post


def _one_user_left() -> dict:
    return {"users": [district()["users"][0]]}  # a truncated users.csv: 1 row of 4


def test_a_truncated_bulk_file_is_held(tmp_path, do_import, rows):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    report = do_import(write_package(tmp_path, _one_user_left()))
    assert report.status == "held"
    assert "users.csv" in report.message and "3 of 4" in report.message
    assert "org-s1" in report.message
    assert report.file("users.csv").outcome == "held"
    assert {s for (s,) in rows("users", "status").values()} == {"active"}


def test_a_held_file_is_applied_when_deletions_are_allowed(tmp_path, do_import, rows):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    report = do_import(write_package(tmp_path, _one_user_left()), allow_deletions=True)
    assert report.status == "applied", report.as_dict()
    assert report.file("users.csv").counts["deleted"] == 3
    assert rows("users", "status")["u-s1"] == ("tobedeleted",)


def test_deletions_within_the_share_are_applied(tmp_path, do_import, rows):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    users = district()["users"]
    data = {"users": [users[0], users[1], users[3]]}  # u-s2 leaves: 1 of 4
    held = do_import(write_package(tmp_path, data))
    assert held.status == "held"  # 25% > the default 10%
    report = do_import(write_package(tmp_path, data), max_deletion_share=0.25)
    assert report.status == "applied", report.as_dict()
    assert rows("users", "status")["u-s2"] == ("tobedeleted",)


def test_a_dry_run_says_the_import_would_be_held(tmp_path, do_import):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    report = do_import(write_package(tmp_path, _one_user_left()), dry_run=True)
    assert report.status == "held"
    assert "3 of 4" in report.message


def test_http_jobs_are_held_allowed_and_listed(tmp_path, client, auth_headers, sync_jobs):
    headers = auth_headers(scopes=[IMPORT])
    first = _post(client, headers, write_package(tmp_path, district())).get_json()
    held = _post(client, headers, write_package(tmp_path, _one_user_left())).get_json()
    assert held["status"] == "held"
    assert "users.csv" in held["report"]["message"]
    allowed = _post(
        client, headers, write_package(tmp_path, _one_user_left()), allowDeletions="true"
    ).get_json()
    assert allowed["status"] == "applied"

    listed = client.get("/oneroster/csv/imports", headers=headers)
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert [j["id"] for j in body["imports"]] == [allowed["id"], held["id"], first["id"]]
    assert body["total"] == 3
    assert [j["status"] for j in body["imports"]] == ["applied", "held", "applied"]
    page = client.get("/oneroster/csv/imports?limit=1&offset=1", headers=headers).get_json()
    assert [j["id"] for j in page["imports"]] == [held["id"]]
    assert client.get("/oneroster/csv/imports?limit=0", headers=headers).status_code == 400
    other = auth_headers(scopes=[IMPORT], name="other")
    assert client.get("/oneroster/csv/imports", headers=other).get_json()["imports"] == []


def test_cli_allow_deletions_and_imports_list(tmp_path, fresh_db):  # noqa: F811
    env = fresh_db("gateway_csv_guard")
    runner = CliRunner()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    full = write_package(tmp_path / "a", district())
    assert runner.invoke(cli, ["import-csv", str(full)], env=env).exit_code == 0
    truncated = write_package(tmp_path / "b", _one_user_left())
    held = runner.invoke(cli, ["import-csv", str(truncated)], env=env)
    assert held.exit_code == 1
    assert "held" in held.stdout and "users.csv" in held.stdout
    done = runner.invoke(
        cli, ["import-csv", str(truncated), "--allow-deletions", "--json"], env=env
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "applied"

    listed = runner.invoke(cli, ["imports", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    statuses = [line.split()[2] for line in lines[1:-1]]
    assert statuses == ["applied", "held", "applied"]
