"""Audit trail of student-data access (compliance rule 3).

Every request to a data API (Ed-Fi, OneRoster REST and CSV, profiles) leaves one append-only row:
the client, the action, the path and query, the record ids a view noted, the status, the caller's
address and user agent, and the correlation id. It is written on its own connection after the
response is built, so reads are audited too and a rolled-back write still leaves its trace.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, Response, g, request
from sqlalchemy import BigInteger, DateTime, Identity, SmallInteger, String, Text, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

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
    try:
        with database().engine.begin() as conn:
            conn.execute(insert(AuditRecord), row)
    except Exception:  # the response stands; the failure is logged with the correlation id
        log.exception("could not write the audit record %s", row["correlation_id"])
    return response


def init_app(app: Flask) -> None:
    app.after_request(_audit)
