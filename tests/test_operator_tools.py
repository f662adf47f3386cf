"""Operator tools: `gateway --version`, commands that need a migrated database, logging settings,
`gateway clients rotate`, and `gateway audit`."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.app import create_app
from gateway.audit import AuditRecord
from gateway.audit_trail import TrailFilter, read_trail
from gateway.cli import cli
from gateway.mapping.links import mapping_links
from tests.conftest import TestConfig, recreate_database
from tests.edfi.conftest import descriptors_loaded, edfi, student  # noqa: F401
from tests.test_cli import assert_one_line_error, cli_env, run_gateway  # noqa: F401


def test_version():
    result = run_gateway("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("gateway, version ")


@pytest.fixture(scope="module")
def unmigrated_url(pg_server_url) -> str:
    return recreate_database(pg_server_url, "gateway_unmigrated_test")


@pytest.mark.parametrize(
    "args",
    [("import-csv", "{package}"), ("export-csv", "--out", "{out}"), ("clients", "list")],
)
def test_commands_need_a_migrated_database_and_do_not_migrate_it(tmp_path, unmigrated_url, args):
    package = tmp_path / "roster.zip"
    package.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    args = [a.format(package=package, out=tmp_path / "out.zip") for a in args]
    result = run_gateway(*args, DATABASE_URL=unmigrated_url, GATEWAY_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    assert_one_line_error(result, "has no gateway schema", "run `gateway migrate` first")
    engine = sa.create_engine(unmigrated_url)
    with engine.connect() as conn:
        assert not sa.inspect(conn).has_table("alembic_version")
    engine.dispose()


@pytest.mark.parametrize(("setting", "value"), [("LOG_LEVEL", "chatty"), ("LOG_FORMAT", "xml")])
def test_bad_log_settings_are_one_line(tmp_path, setting, value):
    result = run_gateway("clients", "list", GATEWAY_DATA_DIR=str(tmp_path), **{setting: value})
    assert result.returncode == 2
    assert_one_line_error(result, setting, value)


# ---------------------------------------------------------------- clients rotate


@pytest.fixture
def committing_client(database_url, dynamodb_endpoint, engine):
    """A test client whose tokens are committed (the CLI must see them to revoke them)."""
    config = TestConfig(database_url, dynamodb_endpoint)
    app = create_app(config)
    yield app.test_client()
    app.extensions["gateway.db"].engine.dispose()


def _token(client, key: str, secret: str):
    return client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(key, secret)
    )


def test_rotate_issues_a_new_secret_and_invalidates_the_old_one_and_its_tokens(
    cli_env,  # noqa: F811
    committing_client,
):
    runner = CliRunner()
    made = json.loads(
        runner.invoke(
            cli, ["clients", "create", "--name", "cli-test-rotate", "--json"], env=cli_env
        ).stdout
    )
    old_token = _token(committing_client, made["key"], made["secret"]).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {old_token}"}
    assert committing_client.get("/data/v3/ed-fi/schools", headers=bearer).status_code == 200

    rotated = runner.invoke(cli, ["clients", "rotate", made["key"], "--json"], env=cli_env)
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.stdout)
    assert new["key"] == made["key"] and new["secret"] != made["secret"]

    assert _token(committing_client, made["key"], made["secret"]).status_code == 401
    assert committing_client.get("/data/v3/ed-fi/schools", headers=bearer).status_code == 401
    fresh = _token(committing_client, new["key"], new["secret"])
    assert fresh.status_code == 200

    unknown = runner.invoke(cli, ["clients", "rotate", "no-such-key"], env=cli_env)
    assert unknown.exit_code != 0


# ---------------------------------------------------------------- audit


@pytest.fixture
def trail(owner_engine):
    """Committed audit rows of one made-up client (the log is append-only: they stay, under a
    key no other test uses)."""
    key = f"ops-{uuid.uuid4().hex[:12]}"
    start = datetime(2031, 1, 1, tzinfo=UTC)
    engine = owner_engine
    rows = [
        ("read", "GET", "/data/v3/ed-fi/students", ["stu-a", "stu-b"], start),
        ("update", "PUT", "/data/v3/ed-fi/students/x", ["stu-a"], start + timedelta(hours=1)),
        ("read", "GET", "/ims/oneroster/v1p1/users", ["usr-1"], start + timedelta(days=1)),
        ("read", "GET", "/profiles/p1", ["p1"], start + timedelta(days=2)),
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(AuditRecord),
            [
                {
                    "client_key": key,
                    "action": action,
                    "method": method,
                    "path": path,
                    "record_ids": ids,
                    "status": 200,
                    "occurred_at": at,
                    "correlation_id": f"{key}-{n}",
                }
                for n, (action, method, path, ids, at) in enumerate(rows)
            ],
        )
    return key


def _audit(cli_env, *args):  # noqa: F811
    result = CliRunner().invoke(cli, ["audit", *args], env=cli_env)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_audit_filters_by_client_record_path_and_time(cli_env, trail):  # noqa: F811
    every = json.loads(_audit(cli_env, "--client", trail, "--json"))
    assert [r["path"] for r in every] == [
        "/data/v3/ed-fi/students",
        "/data/v3/ed-fi/students/x",
        "/ims/oneroster/v1p1/users",
        "/profiles/p1",
    ]
    assert every[0]["record_ids"] == "stu-a stu-b" and every[0]["client_key"] == trail
    by_record = json.loads(_audit(cli_env, "--client", trail, "--record", "stu-a", "--json"))
    assert [r["action"] for r in by_record] == ["read", "update"]
    by_path = json.loads(_audit(cli_env, "--client", trail, "--path", "/ims/", "--json"))
    assert [r["record_ids"] for r in by_path] == ["usr-1"]
    in_time = json.loads(
        _audit(
            cli_env,
            "--client",
            trail,
            "--since",
            "2031-01-01T00:30:00",
            "--until",
            "2031-01-03",
            "--json",
        )
    )
    assert [r["path"] for r in in_time] == [
        "/data/v3/ed-fi/students/x",
        "/ims/oneroster/v1p1/users",
    ]

    table = _audit(cli_env, "--client", trail, "--record", "p1").splitlines()
    assert table[0].split() == [
        "occurred_at",
        "client_key",
        "action",
        "status",
        "path",
        "record_ids",
    ]
    assert len(table) == 2 and "/profiles/p1" in table[1]
    rows = list(csv.DictReader(io.StringIO(_audit(cli_env, "--client", trail, "--csv"))))
    assert len(rows) == 4 and rows[2]["path"] == "/ims/oneroster/v1p1/users"


@pytest.mark.as_owner  # what `gateway audit` runs as: the operator's (owner's) URL
def test_a_record_is_found_by_any_of_its_names(app, edfi, db_session, owner_engine):  # noqa: F811
    unique_id = f"ops{uuid.uuid4().hex[:8]}"
    created = edfi.post("students", student(unique_id))
    assert created.status_code == 201, created.get_json()
    edfi_id = created.headers["Location"].rsplit("/", 1)[1]
    # the OneRoster user the mapping layer projected the student to, inside the same write
    sourced = db_session.scalar(
        sa.select(mapping_links.c.sourced_id).where(mapping_links.c.edfi_id == uuid.UUID(edfi_id))
    )
    assert sourced
    key = f"ops-{uuid.uuid4().hex[:12]}"
    with owner_engine.begin() as conn:
        for n, noted in enumerate([[edfi_id], [sourced], ["someone-else"]]):
            conn.execute(
                sa.insert(AuditRecord).values(
                    client_key=key,
                    action="read",
                    method="GET",
                    path=f"/x/{n}",
                    record_ids=noted,
                    status=200,
                )
            )
    with app.app_context():
        for name in (unique_id, edfi_id, sourced):
            found = read_trail(db_session, TrailFilter(client_key=key, record_id=name))
            assert [r["path"] for r in found] == ["/x/0", "/x/1"], name
