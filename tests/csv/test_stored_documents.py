"""The CSV import (bulk and delta, tombstones included) leaves every user and enrollment with the
document the read path builds (gateway.oneroster.documents)."""

from __future__ import annotations

import json

from sqlalchemy import text

from tests.csv.conftest import write_package
from tests.csv.district import district
from tests.oneroster.stored import assert_documents_current

LATER = "2026-02-01T08:00:00.000Z"


def test_bulk_then_delta_import_keeps_documents_current(tmp_path, do_import, db_session):
    full = tmp_path / "a"
    full.mkdir()
    assert do_import(write_package(full, district())).status == "applied"
    assert_documents_current(db_session)
    users = district()["users"]
    changes = {
        "users": [
            {**users[2], "familyName": "O'Brien-Ní", "dateLastModified": LATER},
            {**users[3], "status": "tobedeleted", "dateLastModified": LATER},
        ],
        "enrollments": [
            {"sourcedId": "enr-3", "status": "tobedeleted", "dateLastModified": LATER},
        ],
    }
    delta = tmp_path / "b"
    delta.mkdir()
    report = do_import(write_package(delta, changes, {"users": "delta", "enrollments": "delta"}))
    assert report.status == "applied", report.as_dict()
    assert_documents_current(db_session)
    stored = db_session.execute(
        text("SELECT document FROM users WHERE sourced_id = :s"), {"s": users[2]["sourcedId"]}
    ).scalar_one()
    assert json.loads(stored.replace("\x01", "http://h"))["familyName"] == "O'Brien-Ní"
