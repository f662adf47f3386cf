"""The `gateway` command: client management against a real database, and one-line errors."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gateway.cli import cli
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def cli_env(database_url, owner_url, engine):
    # The CLI commits through its own connection; clear what earlier CLI tests made. (Cleaning
    # up afterwards could wait on locks the test's own rolled-back transaction still holds.)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_clients WHERE name LIKE 'cli-test%'"))
    return {
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "SECRET_KEY": TEST_SECRET_KEY,
    }


def test_clients_create_json_then_token(client, cli_env):
    result = CliRunner().invoke(
        cli,
        ["clients", "create", "--name", "cli-test", "--edorg", "255901", "--json"],
        env=cli_env,
    )
    assert result.exit_code == 0, result.output
    creds = json.loads(result.stdout)
    assert set(creds) == {"key", "secret"}
    basic = base64.b64encode(f"{creds['key']}:{creds['secret']}".encode()).decode()
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200, r.get_json()


def test_clients_list_and_revoke(cli_env):
    runner = CliRunner()
    made = json.loads(
        runner.invoke(
            cli, ["clients", "create", "--name", "cli-test-2", "--json"], env=cli_env
        ).stdout
    )
    listed = json.loads(runner.invoke(cli, ["clients", "list", "--json"], env=cli_env).stdout)
    mine = [c for c in listed if c["key"] == made["key"]]
    assert mine and mine[0]["active"] is True and mine[0]["education_organization_ids"] == []
    assert "secret" not in mine[0]
    revoked = runner.invoke(cli, ["clients", "revoke", made["key"]], env=cli_env)
    assert revoked.exit_code == 0
    listed = json.loads(runner.invoke(cli, ["clients", "list", "--json"], env=cli_env).stdout)
    assert [c["active"] for c in listed if c["key"] == made["key"]] == [False]


def _listed(runner: CliRunner, cli_env: dict, key: str) -> dict:
    listed = json.loads(runner.invoke(cli, ["clients", "list", "--json"], env=cli_env).stdout)
    return next(c for c in listed if c["key"] == key)


def test_client_without_edorg_reaches_no_organization(client, cli_env):
    """As in the ODS, a client with no education organization reaches none: every
    organization is the operator's explicit --all-organizations."""
    runner = CliRunner()
    result = runner.invoke(cli, ["clients", "create", "--name", "cli-test-3"], env=cli_env)
    assert result.exit_code == 0
    assert "key:" in result.stdout and "secret:" in result.stdout
    assert "reaches no education organization" in result.stderr
    key = result.stdout.split()[1]
    assert _listed(runner, cli_env, key)["all_organizations"] is False
    assert "orgs=(none)" in runner.invoke(cli, ["clients", "list"], env=cli_env).stdout

    made = json.loads(
        runner.invoke(
            cli,
            ["clients", "create", "--name", "cli-test-3b", "--all-organizations", "--json"],
            env=cli_env,
        ).stdout
    )
    listed = _listed(runner, cli_env, made["key"])
    assert listed["all_organizations"] is True and listed["education_organization_ids"] == []
    both = runner.invoke(
        cli,
        ["clients", "create", "--name", "cli-test-3c", "--all-organizations", "--edorg", "1"],
        env=cli_env,
        standalone_mode=False,
    )
    assert both.exit_code != 0 and "not both" in str(both.exception)


def test_clients_create_namespaces_claim_set_and_unapproved(client, cli_env):
    runner = CliRunner()
    help_text = runner.invoke(cli, ["clients", "create", "--help"]).stdout
    # what ../tools/edfi-postman/setup_clients.py reads to pass every prefix of a harness client
    assert "--namespace" in help_text and "may be repeated" in help_text
    assert "--claim-set" in help_text and "--unapproved" in help_text
    assert "--all-organizations" in help_text
    made = json.loads(
        runner.invoke(
            cli,
            [
                "clients", "create", "--name", "cli-test-5", "--edorg", "255901",
                "--namespace", "uri://ed-fi.org", "--namespace", "uri://austin.org",
                "--claim-set", "SIS Vendor", "--unapproved", "--json",
            ],
            env=cli_env,
        ).stdout
    )  # fmt: skip
    listed = _listed(runner, cli_env, made["key"])
    assert listed["namespace_prefixes"] == ["uri://ed-fi.org", "uri://austin.org"]
    assert listed["claim_set"] == "SIS Vendor"
    assert listed["approved"] is False and listed["active"] is True
    text_list = runner.invoke(cli, ["clients", "list"], env=cli_env).stdout
    assert "unapproved" in text_list and "claim-set='SIS Vendor'" in text_list
    basic = base64.b64encode(f"{made['key']}:{made['secret']}".encode()).decode()
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_client"


def test_unknown_claim_set_is_one_line(cli_env):
    result = run_gateway(
        "clients", "create", "--name", "cli-test-6", "--claim-set", "Everything", **cli_env
    )
    assert_one_line_error(result, "unknown claim set", "SIS Vendor")


def run_gateway(*args: str, **env: str) -> subprocess.CompletedProcess:
    configured = ("DATABASE_URL", "MIGRATION_DATABASE_URL")
    full_env = {k: v for k, v in os.environ.items() if k not in configured}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0]


def test_unreachable_database_is_one_line(tmp_path):
    result = run_gateway(
        "migrate",
        DATABASE_URL="postgresql://someone@127.0.0.1:1/db",
        GATEWAY_DATA_DIR=str(tmp_path),
    )
    assert_one_line_error(result, "cannot connect to DATABASE_URL", "127.0.0.1:1")


def test_port_in_use_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_gateway("serve", "--port", str(port), GATEWAY_DATA_DIR=str(tmp_path))
    assert_one_line_error(result, f"port {port}", "already in use")


def test_unwritable_data_dir_is_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_gateway("clients", "list", GATEWAY_DATA_DIR=str(blocker / "data"))
    assert_one_line_error(result, "GATEWAY_DATA_DIR", "not writable")


def test_unknown_scope_is_one_line(cli_env, tmp_path):
    result = run_gateway(
        "clients", "create", "--name", "cli-test-4", "--scope", "everything", **cli_env
    )
    assert_one_line_error(result, "unknown scope", "everything")
