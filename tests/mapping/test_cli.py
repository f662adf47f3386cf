"""`gateway mapping verify` against the (committed) test database."""

from __future__ import annotations

from click.testing import CliRunner

from gateway.cli import cli
from tests.conftest import TEST_SECRET_KEY


def test_verify_reports_no_drift(database_url, owner_url):
    env = {
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": owner_url,
        "SECRET_KEY": TEST_SECRET_KEY,
    }
    result = CliRunner().invoke(cli, ["mapping", "verify"], env=env)
    assert result.exit_code == 0, result.output
    assert "org: 0 missing or different, 0 without an Ed-Fi source" in result.output
    assert result.output.strip().endswith("no drift")
