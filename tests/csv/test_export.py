"""Export: a conformant package (manifest, exact column order), bulk and delta, org reach, and the
round trip export → import into an empty gateway."""

from __future__ import annotations

import csv
import io
import zipfile

from sqlalchemy import text

from gateway.auth.access import compute_org_scope
from gateway.oneroster.csv.catalogue import catalogue
from gateway.oneroster.csv.export import export_stream
from tests.csv.conftest import write_package
from tests.csv.district import HEADERS, district

TABLES = [(f.table.name, [c.column for c in f.columns]) for f in catalogue().files]


def _export(app, session, **kwargs) -> zipfile.ZipFile:
    with app.app_context():
        data = b"".join(export_stream(session, **kwargs))
    return zipfile.ZipFile(io.BytesIO(data))


def _read(zf: zipfile.ZipFile, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))


def _snapshot(session) -> dict:
    snapshot = {}
    for table, columns in TABLES:
        cols = ", ".join(f'"{c}"' for c in columns if c != "password") + ", metadata"
        snapshot[table] = session.execute(
            text(f"SELECT {cols} FROM {table} ORDER BY sourced_id")
        ).all()
    return snapshot


def test_bulk_export_has_manifest_and_exact_columns(tmp_path, app, db_session, do_import):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    zf = _export(app, db_session)
    manifest = dict(row for row in _read(zf, "manifest.csv")[1:])
    assert manifest["manifest.version"] == "1.0"
    assert manifest["oneroster.version"] == "1.1"
    assert manifest["file.users"] == "bulk"
    for file in catalogue().files:
        rows = _read(zf, file.filename)
        assert rows[0] == file.header
    users = {r[0]: r for r in _read(zf, "users.csv")[1:]}
    header = _read(zf, "users.csv")[0]
    s1 = dict(zip(header, users["u-s1"], strict=True))
    assert s1["givenName"] == "דוד" and s1["familyName"] == "כהן"
    assert s1["userIds"] == "{LDAP:dcohen},{SIS:604822}"
    assert s1["enabledUser"] == "true"
    stored = db_session.execute(
        text(
            "SELECT to_char(date_last_modified AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM users WHERE sourced_id = 'u-s1'"
        )
    ).scalar_one()
    assert s1["dateLastModified"] == stored
    assert s1["password"] == ""


def test_round_trip_into_an_empty_gateway(tmp_path, app, db_session, do_import):
    data = district()
    data["users"][0]["metadata.homeRoom"] = "B-12"
    headers = {"users": list(HEADERS["users"]) + ["metadata.homeRoom"]}
    assert do_import(write_package(tmp_path, data, headers=headers)).status == "applied"
    before = _snapshot(db_session)
    exported = tmp_path / "export.zip"
    exported.write_bytes(_export_bytes(app, db_session))
    for table, _ in TABLES:
        db_session.execute(text(f"DELETE FROM {table}"))
    report = do_import(exported)
    assert report.status == "applied", report.as_dict()
    assert report.totals()["created"] == 20
    assert _snapshot(db_session) == before


def _export_bytes(app, session) -> bytes:
    with app.app_context():
        return b"".join(export_stream(session))


def test_delta_export_since(tmp_path, app, db_session, do_import):
    assert do_import(write_package(tmp_path, district())).status == "applied"
    for table, _ in TABLES:  # as if imported on the day the package was written
        db_session.execute(text(f"UPDATE {table} SET date_last_modified = '2026-01-15T10:00Z'"))
    db_session.execute(
        text(
            "UPDATE users SET status = 'tobedeleted', date_last_modified = '2026-03-01T00:00:00Z' "
            "WHERE sourced_id = 'u-p1'"
        )
    )
    from datetime import UTC, datetime

    zf = _export(app, db_session, since=datetime(2026, 2, 1, tzinfo=UTC))
    manifest = dict(row for row in _read(zf, "manifest.csv")[1:])
    assert manifest["file.users"] == "delta"
    assert manifest["file.orgs"] == "absent"
    assert "orgs.csv" not in zf.namelist()
    users = _read(zf, "users.csv")
    assert [(r[0], r[1]) for r in users[1:]] == [("u-p1", "tobedeleted")]


def test_export_limited_to_an_organization(app, db_session, two_schools):
    with app.app_context():
        scope = compute_org_scope(db_session, ("org-s2",))
    zf = _export(app, db_session, scope=scope)
    assert [r[0] for r in _read(zf, "users.csv")[1:]] == ["u-t9"]
    assert [r[0] for r in _read(zf, "orgs.csv")[1:]] == ["org-s2"]
    assert "enrollments.csv" not in zf.namelist()
