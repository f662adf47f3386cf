"""Writes projected OneRoster records into the enrollment tables, set-based.

Column names come from the OneRoster field catalogue. A record whose stored values are unchanged is
not touched, so `dateLastModified` moves only when something a delta consumer cares about changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from gateway import precompiled
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


# A column computed in SQL from the record (alias `r`) instead of taken from it as it is.
Computed = tuple[tuple[str, str], ...]


def upsert(
    session: Session,
    name: str,
    records: Iterable[dict[str, Any]],
    origin: str = "edfi",
    computed: Computed = (),
) -> int:
    """Insert or update records of one entity; returns how many rows changed."""
    return upsert_together(session, [(name, list(records), computed)], origin)[0]


def upsert_together(
    session: Session, parts: list[tuple[str, list[dict[str, Any]], Computed]], origin: str = "edfi"
) -> list[int]:
    """Insert or update the records of several entities, in one statement when each part is
    one column shape and one batch (a single record's projection); changed rows per part."""
    now = utcnow()
    # (part, entity, column shape, rows, computed) for each statement part
    pieces: list[tuple[int, str, tuple[str, ...], list[dict[str, Any]], Computed]] = []
    for n, (name, records, computed) in enumerate(parts):
        # one piece per column shape (records of one entity nearly always share it)
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in (columns(name, r) for r in records):
            shapes.setdefault(tuple(sorted(row)), []).append(row)
        for shape, group in shapes.items():
            for start in range(0, len(group), BATCH):
                pieces.append((n, name, shape, group[start : start + BATCH], computed))
    changed = [0] * len(parts)
    # together only when each part is one piece and writes its own table
    one_each = len({n for n, *_ in pieces}) == len({name for _, name, *_ in pieces}) == len(pieces)
    groups = [pieces] if one_each and len(pieces) > 1 else [[p] for p in pieces]
    for statement_pieces in groups:
        pieces_shape = tuple(
            (name, shape, computed) for _, name, shape, _, computed in statement_pieces
        )
        params: dict[str, Any] = {"now": now, "origin": origin}
        for i, (*_, rows, _computed) in enumerate(statement_pieces):
            params[f"rows_{i}"] = json.dumps(rows, default=_json_text)
        _names, written = precompiled.fetch_all(
            session,
            ("mapping.store", pieces_shape),
            partial(upsert_statement, pieces_shape),
            params,
        )
        for i, _sourced_id in written:
            changed[statement_pieces[i][0]] += 1
    return changed


# rows per statement: one JSON parameter of this many records stays a few megabytes
BATCH = 5000
Shapes = tuple[tuple[str, tuple[str, ...], Computed], ...]
_UPSERTS: dict[Shapes, sa.TextClause] = {}


def upsert_statement(shapes: Shapes) -> sa.TextClause:
    """The upsert of records of (entity, column shape) pieces, built once per process: each
    piece an INSERT … ON CONFLICT in its own CTE, returning (piece, sourcedId) of rows written.

    The records travel as one JSON array a piece (jsonb_to_recordset gives each column its type),
    so one cached statement serves any number of them: SQLAlchemy would compile its PostgreSQL
    INSERT … ON CONFLICT construct again on every call. A record equal to its stored row is not
    written."""
    cached = _UPSERTS.get(shapes)
    if cached is not None:
        return cached
    inserts = [
        f"w{i} AS ({_insert_sql(name, shape, f'rows_{i}', dict(computed))})"
        for i, (name, shape, computed) in enumerate(shapes)
    ]
    written = " UNION ALL ".join(
        f"SELECT {i} AS piece, sourced_id FROM w{i}" for i in range(len(shapes))
    )
    stmt = sa.text(f"WITH {', '.join(inserts)} {written}").bindparams(
        *(sa.bindparam(f"rows_{i}", type_=sa.String) for i in range(len(shapes))),
        sa.bindparam("now", type_=sa.DateTime(timezone=True)),
        sa.bindparam("origin", type_=sa.String),
    )
    _UPSERTS[shapes] = stmt
    return stmt


def _insert_sql(name: str, shape: tuple[str, ...], rows: str, computed: dict[str, str]) -> str:
    table = entity(name).table
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer.quote
    data = [c for c in shape if c != "sourced_id"] + ["status"]
    typed = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=dialect)}" for c in shape)
    # JSON null comes out of jsonb_to_recordset as SQL NULL; the JSONB columns store it as JSON
    # null, as SQLAlchemy binds Python None for them
    values = [
        computed[c]
        if c in computed
        else f"COALESCE(r.{quote(c)}, 'null'::jsonb)"
        if isinstance(table.c[c].type, JSONB)
        else f"r.{quote(c)}"
        for c in shape
    ]
    written = (*data, "date_last_modified", "origin")
    return (
        f"INSERT INTO {quote(table.name)} AS t ({', '.join(quote(c) for c in shape)}, status, "
        f"date_last_modified, origin) SELECT {', '.join(values)}, 'active', :now, :origin "
        f"FROM jsonb_to_recordset(CAST(:{rows} AS jsonb)) AS r({typed}) "
        "ON CONFLICT (sourced_id) DO UPDATE SET "
        f"{', '.join(f'{quote(c)} = EXCLUDED.{quote(c)}' for c in written)} "
        f"WHERE ({', '.join(f't.{quote(c)}' for c in data)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{quote(c)}' for c in data)}) RETURNING t.sourced_id"
    )


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
