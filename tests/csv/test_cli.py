"""`gateway import-csv` and `gateway export-csv` against a database of their own (the CLI commits),
which also makes the export → import round trip run between two gateways."""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from gateway import migrate
from gateway.cli import cli
from tests.conftest import TEST_SECRET_KEY, recreate_database
from tests.csv.conftest import write_package
from tests.csv.district import district


@pytest.fixture
def fresh_db(pg_server_url):
    def make(name: str) -> dict[str, str]:
        url = recreate_database(pg_server_url, name)
        migrate.upgrade(url)
        return {"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET_KEY}

    return make


def _count(env, table: str) -> int:
    engine = create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def test_import_then_export_then_import_elsewhere(tmp_path, fresh_db):
    source, target = fresh_db("gateway_csv_cli_a"), fresh_db("gateway_csv_cli_b")
    runner = CliRunner()
    package = write_package(tmp_path, district())

    dry = runner.invoke(cli, ["import-csv", str(package), "--dry-run", "--json"], env=source)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["status"] == "dry-run"
    assert _count(source, "users") == 0

    done = runner.invoke(cli, ["import-csv", str(package)], env=source)
    assert done.exit_code == 0, done.output
    assert "users.csv" in done.stdout and "applied" in done.stdout
    assert _count(source, "users") == 4

    out = tmp_path / "export.zip"
    exported = runner.invoke(cli, ["export-csv", "--out", str(out)], env=source)
    assert exported.exit_code == 0, exported.output
    assert "manifest.csv" in zipfile.ZipFile(out).namelist()

    again = runner.invoke(cli, ["import-csv", str(out), "--json"], env=target)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["totals"]["created"] == 20


def test_rejected_import_exits_non_zero_with_the_report(tmp_path, fresh_db):
    env = fresh_db("gateway_csv_cli_a")
    data = district()
    data["enrollments"][0]["classSourcedId"] = "cls-missing"
    result = CliRunner().invoke(cli, ["import-csv", str(write_package(tmp_path, data))], env=env)
    assert result.exit_code == 1
    assert (
        "error: enrollments.csv:2 classSourcedId 'cls-missing': no active class with this "
        "sourcedId in the package or the gateway"
    ) in result.stdout
    assert _count(env, "organizations") == 0
