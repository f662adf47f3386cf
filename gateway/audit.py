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

from flask import Flask, Response, current_app, g, request
from sqlalchemy import BigInteger, DateTime, Engine, Identity, SmallInteger, String, Text, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway import metrics
from gateway.auth.context import current_client
from gateway.db import Base, database, utcnow
from gateway.errors import correlation_id

log = logging.getLogger(__name__)

AUDITED_PREFIXES = ("/data/", "/ims/oneroster/", "/oneroster/", "/profiles", "/composites/")
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
    row = {
        "client_key": client.key if client else None,
        "action": g.get("audit_action") or _ACTIONS.get(request.method, request.method.lower()),
        "method": request.method,
        "path": path[:2000],
        "query": request.query_string.decode("utf-8", "replace")[:2000] or None,
        "record_ids": g.get("audit_record_ids") or None,
        "status": response.status_code,
        "ip": (request.remote_addr or "")[:64] or None,
        "user_agent": (request.user_agent.string or "")[:1000] or None,
        "correlation_id": correlation_id(),
    }
    writer = current_app.extensions.get("gateway.audit")
    if writer is None:
        writer = current_app.extensions["gateway.audit"] = AuditWriter(database().engine)
    if current_app.config.get("AUDIT_MODE", "async") == "sync":
        writer.write([row])
    else:
        writer.submit(row)
    return response


class AuditWriter:
    """Batches audit rows onto one connection from a daemon thread."""

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
                conn.execute(insert(AuditRecord), rows)
        except Exception:  # the responses stand; the failure is logged with correlation ids
            ids = ", ".join(str(r["correlation_id"]) for r in rows[:20])
            log.exception("could not write %d audit record(s): %s", len(rows), ids)
            metrics.audit_rows("dropped", len(rows))
        else:
            metrics.audit_rows("written", len(rows))

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
            self.write(rows)
            for _ in rows:
                self.queue.task_done()

    def flush(self) -> None:
        """Wait until every queued row is written."""
        if self._thread is not None and self._thread.is_alive():
            self.queue.join()


def flush(app: Flask) -> None:
    writer = app.extensions.get("gateway.audit")
    if writer is not None:
        writer.flush()


def init_app(app: Flask) -> None:
    app.after_request(_audit)
