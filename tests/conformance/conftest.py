"""Fixtures for the conformance runner's own tests: fake servers only, no database."""

from __future__ import annotations

import pytest

from conformance import cli


@pytest.fixture
def run_cli(tmp_path, capsys):
    """Run `gateway-conformance ARGS…` in-process; returns (exit code, {check name: result})."""

    def run(*args: str) -> tuple[int, dict[str, dict]]:
        import json

        report = tmp_path / "report.json"
        code = cli.main([*args, "--json", str(report)])
        capsys.readouterr()
        data = json.loads(report.read_text(encoding="utf-8"))
        return code, {c["name"]: c for c in data["checks"]}

    return run
