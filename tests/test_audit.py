"""The audit trail: one append-only row per data-API request, refused UPDATE/DELETE/TRUNCATE."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest
from flask import request
from sqlalchemy import create_engine, text
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


def _rows(client, owner_engine, correlation_id):
    audit.flush(client.application)
    with owner_engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT * FROM audit_log WHERE correlation_id = :c"), {"c": correlation_id}
            )
            .mappings()
            .all()
        )


def test_every_data_request_is_recorded(audited, auth_headers, owner_engine, request_mode):
    cid = f"aud-1-{request_mode}"
    headers = auth_headers(name="Auditor") | {"User-Agent": "audit-test/1.0"}
    r = audited.delete("/data/v3/audited/abc?why=test", headers=headers | {"X-Correlation-Id": cid})
    assert r.status_code == 200
    [row] = _rows(audited, owner_engine, cid)
    assert row["action"] == "delete" and row["method"] == "DELETE"
    assert row["path"] == "/data/v3/audited/abc" and row["query"] == "why=test"
    assert row["record_ids"] == ["abc"] and row["status"] == 200
    assert row["client_key"] and row["user_agent"] == "audit-test/1.0" and row["ip"]

    cid = f"aud-2-{request_mode}"
    denied = audited.get("/data/v3/audited/xyz", headers={"X-Correlation-Id": cid})
    assert denied.status_code == 401
    [row] = _rows(audited, owner_engine, cid)
    assert row["action"] == "read" and row["status"] == 401 and row["client_key"] is None


def test_health_is_not_audited(client, owner_engine):
    client.get("/health", headers={"X-Correlation-Id": "aud-health"})
    assert _rows(client, owner_engine, "aud-health") == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET status = 0", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
def test_audit_log_is_append_only(owner_engine, statement):
    """Even its owner (the operator) cannot rewrite it by mistake; the serving role may not try at
    all (tests/test_db_roles.py)."""
    with owner_engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (action, method, path, status) "
                "VALUES ('read', 'GET', '/x', 200)"
            )
        )
        with pytest.raises(ProgrammingError, match="append-only"):
            conn.execute(text(statement))
        conn.rollback()


# ---------------------------------------------------------------- the writer never loses a row


@pytest.fixture
def live_app(test_config, engine):
    """An app on the serving role's own pool (not the test's transaction): requests from many
    threads at once, rows written by the background writer as in production."""
    from gateway.db import Database

    served = create_app(test_config, database=Database(engine))
    served.config["AUDIT_MODE"] = "async"
    yield served
    audit.flush(served)


def test_a_nul_in_the_path_is_stored_escaped(live_app, audit_rows, owner_engine):
    c = "aud-nul-1"
    r = live_app.test_client().get(
        "/data/v3/ed-fi/students/%00?q=%00x", headers={"X-Correlation-Id": c}
    )
    assert r.status_code == 401
    audit.flush(live_app)
    with owner_engine.connect() as conn:
        row = conn.execute(
            text("SELECT path, query FROM audit_log WHERE correlation_id = :c"), {"c": c}
        ).one()
    assert row.path == "/data/v3/ed-fi/students/\\0"
    assert row.query == "q=%00x"


def test_values_are_sanitised_and_truncated_with_a_marker():
    row = audit.sanitize(
        {
            "path": "/a\x00b\\c",
            "user_agent": "x" * 5000,
            "correlation_id": "\ud800bad",
            "record_ids": ["id\x00", "y" * 1000],
            "status": 200,
        }
    )
    assert row["path"] == "/a\\0b\\\\c"
    assert len(row["user_agent"]) == 1000 and row["user_agent"].endswith(audit.TRUNCATED)
    assert row["correlation_id"] == "\\ud800bad"
    assert row["record_ids"][0] == "id\\0"
    assert row["record_ids"][1].endswith(audit.TRUNCATED)


def test_nul_requests_under_concurrent_load_lose_no_other_row(live_app, owner_engine):
    """Finding 2: 16 clients' requests interleaved with NUL requests; every row is kept."""
    before = audit.stats()
    prefix = f"aud-load-{uuid.uuid4().hex[:8]}"
    failures: list[BaseException] = []

    def client_requests(n: int) -> None:
        try:
            tc = live_app.test_client()
            for i in range(25):
                path = (
                    "/data/v3/ed-fi/students/%00" if (n + i) % 5 == 0 else "/data/v3/ed-fi/schools"
                )
                tc.get(path, headers={"X-Correlation-Id": f"{prefix}-{n}-{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=client_requests, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    audit.flush(live_app)
    with owner_engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE path LIKE '%\\\\0') FROM audit_log "
                "WHERE correlation_id LIKE :p"
            ),
            {"p": f"{prefix}-%"},
        ).one()
    assert tuple(stored) == (16 * 25, 16 * 25 // 5)
    after = audit.stats()
    assert after["dropped"] == before["dropped"]
    assert after["written"] - before["written"] >= 16 * 25


def test_an_impossible_row_loses_only_itself_and_is_logged(engine, owner_engine, caplog):
    writer = audit.AuditWriter(engine)
    prefix = f"aud-impossible-{uuid.uuid4().hex[:8]}"

    def row(n: int, status: int = 200) -> dict:
        return {
            "action": "read",
            "method": "GET",
            "path": "/data/x",
            "status": status,
            "correlation_id": f"{prefix}-{n}",
        }

    before = audit.stats()
    with caplog.at_level(logging.WARNING, logger="gateway.audit"):
        writer.write([row(1), row(2, status=10**6), row(3)])  # smallint overflow: impossible
    with owner_engine.connect() as conn:
        kept = (
            conn.execute(
                text(
                    "SELECT correlation_id FROM audit_log WHERE correlation_id LIKE :p ORDER BY 1"
                ),
                {"p": f"{prefix}-%"},
            )
            .scalars()
            .all()
        )
    assert kept == [f"{prefix}-1", f"{prefix}-3"]
    after = audit.stats()
    assert (after["dropped"] - before["dropped"], after["written"] - before["written"]) == (1, 2)
    lost = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(lost) == 1 and f"{prefix}-2" in lost[0].getMessage() and lost[0].exc_info


def test_a_failing_database_is_logged_and_counted_never_silent(caplog):
    dead = create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    writer = audit.AuditWriter(dead)
    before = audit.stats()
    with caplog.at_level(logging.WARNING, logger="gateway.audit"):
        writer.write(
            [
                {
                    "action": "read",
                    "method": "GET",
                    "path": "/x",
                    "status": 200,
                    "correlation_id": "aud-dead-db",
                }
            ]
        )
    assert audit.stats()["dropped"] - before["dropped"] == 1
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "aud-dead-db" in errors[-1].getMessage() and errors[-1].exc_info
    dead.dispose()
