"""Set-based apply of validated staging tables into the OneRoster tables.

Per file: the staged text is converted once into a typed temp table; then one INSERT for new rows,
one UPDATE for rows whose values differ, one UPDATE for rows the file marks `tobedeleted`, and for a
bulk file one UPDATE marking `tobedeleted` what the file lacks. Counts come from row counts.
Columns a file does not carry are left as they are (and take the table default on insert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql
from sqlalchemy import ColumnElement, exists, literal_column, select, table, true, update
from sqlalchemy.orm import Session

from gateway.oneroster.csv.bulkload import indexes_rebuilt_after, row_count
from gateway.oneroster.csv.catalogue import Column
from gateway.oneroster.csv.staging import Staged

ORIGIN = "oneroster-csv"
PASSED_THROUGH = ("string", "enum", "ref", "year")


def typed_expression(column: Column, raw: str) -> sql.Composable:
    """SQL converting the validated raw text of `column` to the table column's type."""
    r = sql.SQL(raw)
    kind = column.type
    if kind in PASSED_THROUGH:
        return r
    if kind == "date":
        return sql.SQL("{}::date").format(r)
    if kind == "datetime":
        # The import sets TimeZone to UTC: a date-time without a zone is taken as UTC.
        return sql.SQL("{}::timestamptz").format(r)
    if kind == "boolean":
        return sql.SQL(
            "CASE WHEN lower({r}) IN ('true', '1') THEN true "
            "WHEN lower({r}) IN ('false', '0') THEN false END"
        ).format(r=r)
    if kind == "float":
        return sql.SQL("{}::float8").format(r)
    if kind in ("list", "ref_list"):
        # The common tidy list ("09,10") converts in one call; others are trimmed entry by entry.
        return sql.SQL(
            "CASE WHEN {r} IS NULL THEN '[]'::jsonb "
            "WHEN strpos({r}, ' ') = 0 AND strpos({r}, ',,') = 0 AND left({r}, 1) <> ',' "
            "AND right({r}, 1) <> ',' THEN to_jsonb(string_to_array({r}, ',')) "
            "ELSE COALESCE((SELECT jsonb_agg(btrim(x) ORDER BY n) "
            "FROM unnest(string_to_array({r}, ',')) WITH ORDINALITY u(x, n) "
            "WHERE btrim(x) <> ''), '[]'::jsonb) END"
        ).format(r=r)
    if kind == "user_ids":
        # Validated as {type:identifier},{…}: split on "}" and drop the separators before "{".
        return sql.SQL(
            "COALESCE((SELECT jsonb_agg(jsonb_build_object("
            "'type', split_part(p, ':', 1), 'identifier', substr(p, strpos(p, ':') + 1)) "
            "ORDER BY n) FROM unnest(string_to_array({r}, '}}')) WITH ORDINALITY u(x, n) "
            "CROSS JOIN LATERAL (SELECT ltrim(x, ', {{') AS p) q WHERE btrim(x) <> ''), "
            "'[]'::jsonb)"
        ).format(r=r)
    raise ValueError(f"unknown column type {kind}")


@dataclass
class Typed:
    staged: Staged
    table: str  # the typed temp table
    columns: list[str]  # target columns the file carries, besides sourced_id/status/dates
    existing: int  # rows the target table held before the import


def build_typed(conn: psycopg.Connection, staged: Staged) -> Typed:
    selects: list[sql.Composable] = [
        sql.SQL("{} AS sourced_id").format(sql.SQL(staged.raw("sourcedId"))),
        sql.SQL("COALESCE({}, 'active') AS status").format(sql.SQL(staged.raw("status"))),
    ]
    by_name = staged.file.by_name()
    dlm = by_name["dateLastModified"]
    selects.append(
        sql.SQL("{} AS file_dlm").format(typed_expression(dlm, staged.raw(dlm.name)))
        if staged.has(dlm.name)
        else sql.SQL("NULL::timestamptz AS file_dlm")
    )
    columns = []
    for column in staged.file.columns:
        if column.name in ("sourcedId", "status", "dateLastModified"):
            continue
        if not staged.has(column.name):
            continue
        columns.append(column.column)
        selects.append(
            sql.SQL("{} AS {}").format(
                typed_expression(column, staged.raw(column.name)), sql.Identifier(column.column)
            )
        )
    if staged.metadata:
        pairs = sql.SQL(", ").join(
            sql.SQL("{}, NULLIF({}, '')").format(sql.Literal(key), sql.SQL(col))
            for key, col in sorted(staged.metadata.items())
        )
        selects.append(
            sql.SQL(
                "NULLIF(jsonb_strip_nulls(jsonb_build_object({})), '{{}}'::jsonb) AS metadata"
            ).format(pairs)
        )
        columns.append("metadata")
    name = f"csv_typed_{staged.file.name.lower()}"
    existing = row_count(conn, staged.file.table.name)
    # Into an empty table the typed rows are read once, by the INSERT: a view converts them on
    # the way. Otherwise several statements join them with the table: convert once, store.
    create = (
        "CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {}"
        if existing
        else "CREATE TEMP VIEW {} AS SELECT {} FROM {}"
    )
    conn.execute(
        sql.SQL(create).format(
            sql.Identifier(name), sql.SQL(", ").join(selects), sql.Identifier(staged.table)
        )
    )
    return Typed(staged, name, columns, existing)


def apply_file(
    session: Session, typed: Typed, now: datetime, bulk_scope: ColumnElement[bool] | None
) -> dict[str, int]:
    """Apply one typed file; returns counts per action. `bulk_scope` limits bulk deletions
    to rows the importer may remove (None: every row of the table)."""
    conn: psycopg.Connection = session.connection().connection.driver_connection  # type: ignore
    target = sql.Identifier(typed.staged.file.table.name)
    src = sql.Identifier(typed.table)
    cols = [sql.Identifier(c) for c in typed.columns]
    params = {"now": now, "origin": ORIGIN}

    def run(statement: sql.Composed) -> int:
        return conn.execute(statement, params).rowcount

    table_name = typed.staged.file.table.name
    existing = typed.existing

    insert = sql.SQL(
        "INSERT INTO {t} (sourced_id, status, date_last_modified, origin{cols}) "
        "SELECT s.sourced_id, s.status, COALESCE(s.file_dlm, %(now)s), %(origin)s{scols} "
        "FROM {s} s WHERE s.status = 'active' {only_new} ORDER BY s.sourced_id"
    ).format(
        t=target,
        s=src,
        only_new=sql.SQL(
            "AND NOT EXISTS (SELECT 1 FROM {} t WHERE t.sourced_id = s.sourced_id)"
        ).format(target)
        if existing
        else sql.SQL(""),
        cols=sql.SQL("").join(sql.SQL(", {}").format(c) for c in cols),
        scols=sql.SQL("").join(sql.SQL(", s.{}").format(c) for c in cols),
    )
    changed = sql.SQL("").join(sql.SQL(", t.{}").format(c) for c in cols)
    incoming = sql.SQL("").join(sql.SQL(", s.{}").format(c) for c in cols)
    change = sql.SQL(
        "UPDATE {t} t SET (status, date_last_modified, origin{cols}) = "
        "(s.status, COALESCE(s.file_dlm, %(now)s), %(origin)s{incoming}) FROM {s} s "
        "WHERE t.sourced_id = s.sourced_id AND s.status = 'active' "
        "AND ((t.status{changed}) IS DISTINCT FROM (s.status{incoming}) "
        "OR (s.file_dlm IS NOT NULL AND s.file_dlm IS DISTINCT FROM t.date_last_modified))"
    ).format(
        t=target,
        s=src,
        cols=sql.SQL("").join(sql.SQL(", {}").format(c) for c in cols),
        incoming=incoming,
        changed=changed,
    )
    remove = sql.SQL(
        "UPDATE {t} t SET status = 'tobedeleted', "
        "date_last_modified = COALESCE(s.file_dlm, %(now)s), origin = %(origin)s FROM {s} s "
        "WHERE t.sourced_id = s.sourced_id AND s.status = 'tobedeleted' "
        "AND t.status <> 'tobedeleted'"
    ).format(t=target, s=src)
    with indexes_rebuilt_after(conn, table_name, enabled=typed.staged.rows > existing):
        created = run(insert)
        # Into an empty table everything was new: nothing to compare or delete.
        updated = run(change) if existing else 0
        deleted = run(remove) if existing else 0
    unchanged = typed.staged.rows - created - updated - deleted
    if typed.staged.mode == "bulk" and existing:
        deleted += _delete_missing(session, typed, now, bulk_scope)
    return {"created": created, "updated": updated, "deleted": deleted, "unchanged": unchanged}


def _delete_missing(
    session: Session, typed: Typed, now: datetime, scope: ColumnElement[bool] | None
) -> int:
    """Bulk: the file is the complete set, so rows it lacks are marked `tobedeleted`."""
    target = typed.staged.file.table
    staged_rows = table(typed.table, literal_column("sourced_id"))
    statement = (
        update(target)
        .where(
            target.c.status != "tobedeleted",
            scope if scope is not None else true(),
            ~exists(
                select(literal_column("1"))
                .select_from(staged_rows)
                .where(literal_column(f"{typed.table}.sourced_id") == target.c.sourced_id)
            ),
        )
        .values(status="tobedeleted", date_last_modified=now, origin=ORIGIN)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined]
