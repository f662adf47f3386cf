"""Writes projected OneRoster records into the enrollment tables, set-based.

Column names come from the OneRoster field catalogue. A record whose stored values are unchanged is
not touched, so `dateLastModified` moves only when something a delta consumer cares about changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.oneroster.catalogue import Entity, catalogue

# Record fields the enrollment tables hold beyond the REST catalogue (users.birth_date is core).
EXTRA_COLUMNS = {"user": {"birthDate": "birth_date"}}
SERVER_OWNED = ("sourcedId", "status", "dateLastModified", "metadata")


def entity(name: str) -> Entity:
    return catalogue().entities[name]


def columns(name: str, record: dict[str, Any]) -> dict[str, Any]:
    ent = entity(name)
    out: dict[str, Any] = {"sourced_id": record["sourcedId"]}
    for field, value in record.items():
        f = ent.fields.get(field)
        column = f.column if f is not None else EXTRA_COLUMNS.get(name, {}).get(field)
        if column is None or field in SERVER_OWNED:
            continue
        out[column] = value
    return out


def upsert(
    session: Session, name: str, records: Iterable[dict[str, Any]], origin: str = "edfi"
) -> int:
    """Insert or update records of one entity; returns how many rows changed."""
    rows = [columns(name, r) for r in records]
    if not rows:
        return 0
    table = entity(name).table
    now = utcnow()
    changed = 0
    # one statement per column shape (records of one entity nearly always share it)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for shape, group in shapes.items():
        data = [c for c in shape if c != "sourced_id"] + ["status"]
        insert = pg_insert(table)
        stmt = insert.on_conflict_do_update(
            index_elements=["sourced_id"],
            set_={c: insert.excluded[c] for c in (*data, "date_last_modified", "origin")},
            where=sa.tuple_(*(table.c[c] for c in data)).is_distinct_from(
                sa.tuple_(*(insert.excluded[c] for c in data))
            ),
        ).returning(table.c.sourced_id)
        # executemany with RETURNING: SQLAlchemy batches it into multi-row INSERTs
        params = [
            {**r, "status": "active", "date_last_modified": now, "origin": origin} for r in group
        ]
        changed += len(session.execute(stmt, params).all())
    return changed


def tombstone(session: Session, name: str, sourced_ids: Iterable[str]) -> int:
    """Mark records `tobedeleted` (OneRoster keeps the tombstone for delta consumers)."""
    ids = [s for s in sourced_ids if s]
    if not ids:
        return 0
    table = entity(name).table
    done = session.execute(
        sa.update(table)
        .where(table.c.sourced_id.in_(ids), table.c.status != "tobedeleted")
        .values(status="tobedeleted", date_last_modified=utcnow())
        .returning(table.c.sourced_id)
    ).all()
    return len(done)
