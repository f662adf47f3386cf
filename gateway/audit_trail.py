"""Reading the audit trail (`gateway audit`): who touched which record, when.

A record is asked for by any of its names: its Ed-Fi id, a person's unique id (studentUniqueId,
staffUniqueId, contactUniqueId) or its OneRoster sourcedId; the trail is searched for all of them,
since each API notes the id it serves.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.audit import AuditRecord

COLUMNS = (
    "occurred_at",
    "client_key",
    "action",
    "method",
    "path",
    "query",
    "status",
    "record_ids",
    "ip",
    "correlation_id",
)


@dataclass(frozen=True)
class TrailFilter:
    client_key: str | None = None
    record_id: str | None = None
    path_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None


def record_names(session: Session, record_id: str) -> set[str]:
    """Every id the gateway may have noted for the record `record_id` names."""
    from gateway.edfi.definitions import registry
    from gateway.mapping.links import mapping_links

    names = {record_id}
    edfi_ids: set[uuid.UUID] = set()
    try:
        edfi_ids.add(uuid.UUID(record_id))
    except ValueError:
        pass
    for resource in registry().resources.values():
        if len(resource.identity) == 1 and resource.identity[0].endswith("UniqueId"):
            table = resource.table
            column = table.c[resource.key_columns[0]]
            edfi_ids.update(session.scalars(sa.select(table.c.id).where(column == record_id)))
    condition = mapping_links.c.sourced_id == record_id
    if edfi_ids:
        condition = condition | mapping_links.c.edfi_id.in_(edfi_ids)
    for sourced_id, edfi_id in session.execute(
        sa.select(mapping_links.c.sourced_id, mapping_links.c.edfi_id).where(condition)
    ):
        names.add(sourced_id)
        if edfi_id is not None:
            edfi_ids.add(edfi_id)
    # an Ed-Fi id is written with or without hyphens (the wire form has none)
    return names | {str(i) for i in edfi_ids} | {i.hex for i in edfi_ids}


def read_trail(session: Session, where: TrailFilter) -> list[dict[str, Any]]:
    """Audit rows matching every given filter, oldest first."""
    query = sa.select(*(getattr(AuditRecord, c) for c in COLUMNS))
    if where.client_key:
        query = query.where(AuditRecord.client_key == where.client_key)
    if where.path_prefix:
        escaped = where.path_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(AuditRecord.path.like(escaped + "%", escape="\\"))
    if where.since:
        query = query.where(AuditRecord.occurred_at >= where.since)
    if where.until:
        query = query.where(AuditRecord.occurred_at < where.until)
    if where.record_id:
        names = sorted(record_names(session, where.record_id))
        query = query.where(sa.or_(*(AuditRecord.record_ids.contains([name]) for name in names)))
    query = query.order_by(AuditRecord.occurred_at, AuditRecord.id).limit(where.limit)  # None: all
    return [dict(row._mapping) for row in session.execute(query)]


def utc(moment: datetime | None) -> datetime | None:
    """A time given without a zone is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return " ".join(map(str, value))
    return value


def render(rows: list[dict[str, Any]], form: str) -> str:
    """`table` (aligned columns), `json` (one array) or `csv` (with a header row)."""
    if form == "json":
        return json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], indent=2) + "\n"
    if form == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(["" if row[c] is None else _plain(row[c]) for c in COLUMNS])
        return out.getvalue()
    shown = ("occurred_at", "client_key", "action", "status", "path", "record_ids")
    table = [["-" if row[c] is None else str(_plain(row[c])) for c in shown] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in table)]) for i, c in enumerate(shown)]
    lines = [list(shown), *table]
    return "".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() + "\n"
        for line in lines
    )
