"""Cross-check with the standalone conformance runner (an independent reading of the CSV binding):
its valid package imports cleanly, and our export passes its CSV suite."""

from __future__ import annotations

import json

from conformance import cli
from tests.conformance.csv_packages import build
from tests.csv.conftest import write_package
from tests.csv.district import district


def _conformance_failures(capsys, tmp_path, package) -> list[str]:
    report = tmp_path / "conformance.json"
    cli.main(["csv", str(package), "--json", str(report)])
    capsys.readouterr()
    checks = json.loads(report.read_text(encoding="utf-8"))["checks"]
    return [c["name"] for c in checks if c["status"] == "fail"]


def test_the_conformance_suites_valid_package_imports(tmp_path, do_import):
    report = do_import(build(tmp_path / "ok.zip"))
    assert report.status == "applied", report.as_dict()
    assert report.totals()["rejected"] == 0


def test_our_export_passes_the_conformance_csv_suite(tmp_path, app, db_session, do_import, capsys):
    from gateway.oneroster.csv.export import export_stream

    assert do_import(write_package(tmp_path, district())).status == "applied"
    with app.app_context():
        exported = b"".join(export_stream(db_session))
    package = tmp_path / "export.zip"
    package.write_bytes(exported)
    assert _conformance_failures(capsys, tmp_path, package) == []
