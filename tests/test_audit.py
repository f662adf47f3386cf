"""The audit trail: one append-only row per data-API request, refused UPDATE/DELETE/TRUNCATE."""

from __future__ import annotations

import pytest
from flask import request
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from gateway import audit
from gateway.app import create_app
from gateway.audit import note_records
from gateway.auth import require_token


@pytest.fixture
def audited(request_mode, test_config, app, db_session):
    audited_app = create_app(test_config, database=app.extensions["gateway.db"])
    audited_app.config["AUDIT_MODE"] = request_mode

    @audited_app.route("/data/v3/audited/<record_id>", methods=["GET", "DELETE"])
    @require_token()
    def record(record_id):
        note_records(record_id)
        return {"method": request.method}

    return audited_app.test_client()


@pytest.fixture(params=["async", "sync"])
def request_mode(request):
    return request.param


def _rows(client, engine, correlation_id):
    audit.flush(client.application)
    with engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT * FROM audit_log WHERE correlation_id = :c"), {"c": correlation_id}
            )
            .mappings()
            .all()
        )


def test_every_data_request_is_recorded(audited, auth_headers, engine, request_mode):
    cid = f"aud-1-{request_mode}"
    headers = auth_headers(name="Auditor") | {"User-Agent": "audit-test/1.0"}
    r = audited.delete("/data/v3/audited/abc?why=test", headers=headers | {"X-Correlation-Id": cid})
    assert r.status_code == 200
    [row] = _rows(audited, engine, cid)
    assert row["action"] == "delete" and row["method"] == "DELETE"
    assert row["path"] == "/data/v3/audited/abc" and row["query"] == "why=test"
    assert row["record_ids"] == ["abc"] and row["status"] == 200
    assert row["client_key"] and row["user_agent"] == "audit-test/1.0" and row["ip"]

    cid = f"aud-2-{request_mode}"
    denied = audited.get("/data/v3/audited/xyz", headers={"X-Correlation-Id": cid})
    assert denied.status_code == 401
    [row] = _rows(audited, engine, cid)
    assert row["action"] == "read" and row["status"] == 401 and row["client_key"] is None


def test_health_is_not_audited(client, engine):
    client.get("/health", headers={"X-Correlation-Id": "aud-health"})
    assert _rows(client, engine, "aud-health") == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET status = 0", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
def test_audit_log_is_append_only(engine, statement):
    with engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (action, method, path, status) "
                "VALUES ('read', 'GET', '/x', 200)"
            )
        )
        with pytest.raises(ProgrammingError, match="append-only"):
            conn.execute(text(statement))
        conn.rollback()
