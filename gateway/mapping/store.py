"""Writes projected OneRoster records into the enrollment tables, set-based.

Column names come from the OneRoster field catalogue. A record whose stored values are unchanged is
not touched, so `dateLastModified` moves only when something a delta consumer cares about changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
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
    now = utcnow()
    changed = 0
    # one statement per column shape (records of one entity nearly always share it)
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for shape, group in shapes.items():
        for start in range(0, len(group), BATCH):
            params = {
                "rows": json.dumps(group[start : start + BATCH], default=_json_text),
                "now": now,
                "origin": origin,
            }
            changed += len(session.execute(upsert_statement(name, shape), params).all())
    return changed


# rows per statement: one JSON parameter of this many records stays a few megabytes
BATCH = 5000
_UPSERTS: dict[tuple[str, tuple[str, ...]], sa.TextClause] = {}


def upsert_statement(name: str, shape: tuple[str, ...]) -> sa.TextClause:
    """The upsert of records of one column shape, built once per process.

    The records travel as one JSON array (jsonb_to_recordset gives each column its type), so one
    cached statement serves any number of them: SQLAlchemy would compile its PostgreSQL
    INSERT … ON CONFLICT construct again on every call. A record equal to its stored row is not
    written."""
    cached = _UPSERTS.get((name, shape))
    if cached is not None:
        return cached
    table = entity(name).table
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    data = [c for c in shape if c != "sourced_id"] + ["status"]
    typed = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=dialect)}" for c in shape)
    # JSON null comes out of jsonb_to_recordset as SQL NULL; the JSONB columns store it as JSON
    # null, as SQLAlchemy binds Python None for them
    values = [
        f"COALESCE(r.{quote(c)}, 'null'::jsonb)"
        if isinstance(table.c[c].type, JSONB)
        else f"r.{quote(c)}"
        for c in shape
    ]
    written = (*data, "date_last_modified", "origin")
    sql = (
        f"INSERT INTO {quote(table.name)} AS t ({', '.join(quote(c) for c in shape)}, status, "
        f"date_last_modified, origin) SELECT {', '.join(values)}, 'active', :now, :origin "
        f"FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({typed}) "
        "ON CONFLICT (sourced_id) DO UPDATE SET "
        f"{', '.join(f'{quote(c)} = EXCLUDED.{quote(c)}' for c in written)} "
        f"WHERE ({', '.join(f't.{quote(c)}' for c in data)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{quote(c)}' for c in data)}) RETURNING t.sourced_id"
    )
    stmt = sa.text(sql).bindparams(
        sa.bindparam("rows", type_=sa.String),
        sa.bindparam("now", type_=sa.DateTime(timezone=True)),
        sa.bindparam("origin", type_=sa.String),
    )
    _UPSERTS[(name, shape)] = stmt
    return stmt


def _json_text(value: Any) -> str:
    """Dates and the like in a record travel as their ISO text, as a bound parameter would."""
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


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
