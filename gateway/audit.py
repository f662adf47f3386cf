"""Audit trail of student-data access (compliance rule 3).

Every request to a data API (Ed-Fi, OneRoster REST and CSV, profiles) leaves one append-only row:
the client, the action, the path and query, the record ids a view noted, the status, the caller's
address and user agent, and the correlation id. It is written on its own connection after the
response is built, so reads are audited too and a rolled-back write still leaves its trace.

With AUDIT_MODE=async (the default) rows are queued and written in batches by one background thread
per process, so the request path costs no database round trip; the queue is flushed at exit. With
AUDIT_MODE=sync each request writes its own row before it answers.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import (
    BigInteger,
    DateTime,
    Engine,
    Identity,
    Insert,
    SmallInteger,
    String,
    Text,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway import metrics
from gateway.auth.context import current_client
from gateway.db import Base, database, utcnow
from gateway.errors import correlation_id

log = logging.getLogger(__name__)

AUDITED_PREFIXES = (
    "/data/",
    "/changequeries/",
    "/ims/oneroster/",
    "/oneroster/",
    "/profiles",
    "/composites/",
)
_ACTIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "create",
    "PUT": "update",
    "PATCH": "update",
    "DELETE": "delete",
}


class AuditRecord(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client_key: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)
    record_ids: Mapped[list[str] | None] = mapped_column(JSONB)
    status: Mapped[int] = mapped_column(SmallInteger)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(128))


def _insert() -> Insert:
    """The writer's INSERT: inline (no RETURNING), since the serving role may not read the table."""
    return insert(AuditRecord.__table__).inline()  # type: ignore[arg-type]


def note_records(*ids: object, action: str | None = None) -> None:
    """Let a view name the records a request touched (and override the action, e.g. 'export')."""
    g.setdefault("audit_record_ids", []).extend(str(i) for i in ids)
    if action:
        g.audit_action = action


def _audit(response: Response) -> Response:
    path = request.path
    if not path.lower().startswith(AUDITED_PREFIXES) or request.method == "OPTIONS":
        return response
    client = current_client()
    row = sanitize(
        {
            "client_key": client.key if client else None,
            "action": g.get("audit_action") or _ACTIONS.get(request.method, request.method.lower()),
            "method": request.method,
            "path": path,
            "query": request.query_string.decode("utf-8", "replace") or None,
            "record_ids": g.get("audit_record_ids") or None,
            "status": response.status_code,
            "ip": request.remote_addr or None,
            "user_agent": request.user_agent.string or None,
            "correlation_id": correlation_id(),
        }
    )
    writer = current_app.extensions.get("gateway.audit")
    if writer is None:
        writer = current_app.extensions["gateway.audit"] = AuditWriter(database().engine)
    if current_app.config.get("AUDIT_MODE", "async") == "sync":
        writer.write([row])
    else:
        writer.submit(row)
    return response


# Longest stored value of each text column (its type's length, or a bound on free text); a longer
# value keeps its beginning and ends with TRUNCATED.
LIMITS = {
    "client_key": 64,
    "action": 16,
    "method": 10,
    "path": 2000,
    "query": 2000,
    "ip": 64,
    "user_agent": 1000,
    "correlation_id": 128,
}
RECORD_ID_LIMIT = 256
TRUNCATED = "…[truncated]"


def clean_text(value: str, limit: int) -> str:
    """`value` as PostgreSQL can store it: NUL written as the two characters `\\0`, what is not
    valid UTF-8 (lone surrogates) as its backslash escape; longer than `limit`, cut with
    TRUNCATED."""
    text = value.replace("\\", "\\\\").replace("\x00", "\\0") if "\x00" in value else value
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > limit:
        text = text[: limit - len(TRUNCATED)] + TRUNCATED
    return text


def sanitize(row: dict[str, Any]) -> dict[str, Any]:
    """A row every value of which the table accepts: what a client sent can never make the insert
    of its batch fail."""
    out = dict(row)
    for name, limit in LIMITS.items():
        value = out.get(name)
        if value is not None:
            out[name] = clean_text(str(value), limit) or None
    if out.get("record_ids") is not None:
        out["record_ids"] = _clean_ids([str(i) for i in out["record_ids"]])
    return out


def _clean_ids(ids: list[str]) -> list[str]:
    """clean_text of each id; a page's thousands of ids are checked at once when none needs it."""
    joined = "".join(ids)
    if (
        "\x00" not in joined
        and joined.isascii()
        and max(map(len, ids), default=0) <= RECORD_ID_LIMIT
    ):
        return ids
    return [clean_text(i, RECORD_ID_LIMIT) for i in ids]


class Counters:
    """Rows written and rows lost since the process started (for a /metrics endpoint)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.written = 0
        self.dropped = 0

    def add(self, written: int = 0, dropped: int = 0) -> None:
        with self._lock:
            self.written += written
            self.dropped += dropped
        # the Prometheus series (summed over gunicorn workers): gateway_audit_rows_total
        if written:
            metrics.audit_rows("written", written)
        if dropped:
            metrics.audit_rows("dropped", dropped)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"written": self.written, "dropped": self.dropped}


COUNTERS = Counters()


class AuditWriter:
    """Batches audit rows onto one connection from a daemon thread.

    A batch is one INSERT. Should it fail, its rows are inserted one by one (each in a savepoint),
    so a row the database refuses loses only itself, never another request's row; each lost row
    is logged with its correlation id and counted in COUNTERS.dropped.
    """

    BATCH = 500
    BATCH_WINDOW = 0.05  # seconds

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queue: queue.Queue[dict] = queue.Queue(maxsize=20_000)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def write(self, rows: list[dict]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(_insert(), rows)
        except Exception:
            log.warning(
                "audit batch of %d row(s) failed; writing them one by one", len(rows), exc_info=True
            )
            self._write_each(rows)
            return
        COUNTERS.add(written=len(rows))

    def _write_each(self, rows: list[dict]) -> None:
        lost = 0
        try:
            with self.engine.begin() as conn:
                for row in rows:
                    try:
                        with conn.begin_nested():
                            conn.execute(_insert(), [row])
                    except Exception:
                        # the responses stand; the lost row is logged with what identifies it
                        lost += 1
                        log.exception(
                            "audit row lost: correlation id %s, %s %r, status %s",
                            row.get("correlation_id"),
                            row.get("method"),
                            row.get("path"),
                            row.get("status"),
                        )
        except Exception:  # the database itself failed: no row of the batch was committed
            log.exception(
                "could not write %d audit record(s): %s",
                len(rows),
                ", ".join(str(r.get("correlation_id")) for r in rows[:20]),
            )
            COUNTERS.add(dropped=len(rows))
            return
        COUNTERS.add(written=len(rows) - lost, dropped=lost)

    def submit(self, row: dict) -> None:
        self._ensure_thread()
        try:
            self.queue.put_nowait(row)
        except queue.Full:  # back-pressure: never drop an audit record
            self.write([row])

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()
                atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            rows = [self.queue.get()]
            # Let more rows arrive first: one commit per batch instead of one per request keeps the
            # writer's cost (and its contention with requests) small under load. A sleep, not a
            # waiting get(): requests queueing meanwhile then wake no one.
            time.sleep(self.BATCH_WINDOW)
            while len(rows) < self.BATCH:
                try:
                    rows.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.write(rows)
            except Exception:  # write() handles its failures; the thread must outlive any
                COUNTERS.add(dropped=len(rows))
                log.exception("audit writer failed on %d row(s)", len(rows))
            finally:
                for _ in rows:
                    self.queue.task_done()

    def flush(self) -> None:
        """Wait until every queued row is written."""
        if self._thread is not None and self._thread.is_alive():
            self.queue.join()


def stats() -> dict[str, int]:
    """Audit rows written and lost by this process."""
    return COUNTERS.snapshot()


def flush(app: Flask) -> None:
    writer = app.extensions.get("gateway.audit")
    if writer is not None:
        writer.flush()


def init_app(app: Flask) -> None:
    app.after_request(_audit)
