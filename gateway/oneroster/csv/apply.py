"""Set-based apply of validated staging tables into the OneRoster tables.

Per file: the staged text is converted once into a typed temp table; then one INSERT for new rows,
one UPDATE for rows whose values differ, one UPDATE for rows the file marks `tobedeleted`, and for a
bulk file one UPDATE marking `tobedeleted` what the file lacks. Counts come from row counts.
Columns a file does not carry are left as they are (and take the table default on insert). Rows
written are stamped with the import's time (dateLastModified says when the gateway stored the
change); unchanged rows keep their stamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from gateway.bulkload import indexes_rebuilt_after, row_count
from gateway.oneroster.csv.catalogue import Column
from gateway.oneroster.csv.deletions import compiled
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
        # Validated as true/false/1/0 in any case, which the boolean parser reads the same way.
        return sql.SQL("{}::boolean").format(r)
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
        # The usual single entry is built directly: an ordered aggregate per row costs a sort.
        return sql.SQL(
            "CASE WHEN strpos(substr({r}, strpos({r}, '{{') + 1), '{{') = 0 THEN "
            "jsonb_build_array(jsonb_build_object("
            "'type', split_part(ltrim(split_part({r}, '}}', 1), ', {{'), ':', 1), "
            "'identifier', substr(ltrim(split_part({r}, '}}', 1), ', {{'), "
            "strpos(ltrim(split_part({r}, '}}', 1), ', {{'), ':') + 1))) ELSE "
            "COALESCE((SELECT jsonb_agg(jsonb_build_object("
            "'type', split_part(p, ':', 1), 'identifier', substr(p, strpos(p, ':') + 1)) "
            "ORDER BY n) FROM unnest(string_to_array({r}, '}}')) WITH ORDINALITY u(x, n) "
            "CROSS JOIN LATERAL (SELECT ltrim(x, ', {{') AS p) q WHERE btrim(x) <> ''), "
            "'[]'::jsonb) END"
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
    # dateLastModified is not read: a row is stamped when the gateway stores its change, so
    # delta readers see every import (the file's own stamp says when its producer changed it).
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
    target = staged.file.table.name
    existing = row_count(conn, target)
    converted = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(selects), sql.Identifier(staged.table)
    )
    if not existing:
        # Into an empty table every active row is new and is read once, by the INSERT: a view
        # converts the rows on their way in.
        conn.execute(
            sql.SQL(
                "CREATE TEMP VIEW {} AS SELECT c.*, "
                "CASE WHEN c.status = 'active' THEN 'new' END AS kind FROM ({}) c"
            ).format(sql.Identifier(name), converted)
        )
        return Typed(staged, name, columns, existing)
    # One join with the table sorts the rows into new, changed and deleted, and keeps only those:
    # an unchanged row is compared once and written never.
    ours = sql.SQL("").join(sql.SQL(", c.{}").format(sql.Identifier(c)) for c in columns)
    theirs = sql.SQL("").join(sql.SQL(", t.{}").format(sql.Identifier(c)) for c in columns)
    conn.execute(
        sql.SQL(
            "CREATE TEMP TABLE {name} ON COMMIT DROP AS SELECT c.*, "
            "CASE WHEN t.sourced_id IS NULL THEN 'new' "
            "WHEN c.status = 'tobedeleted' THEN 'delete' ELSE 'changed' END AS kind "
            "FROM ({converted}) c LEFT JOIN {target} t ON t.sourced_id = c.sourced_id "
            "WHERE (c.status = 'active' AND (t.sourced_id IS NULL "
            "OR (t.status{theirs}) IS DISTINCT FROM (c.status{ours}))) "
            "OR (c.status = 'tobedeleted' AND t.status <> 'tobedeleted')"
        ).format(
            name=sql.Identifier(name),
            converted=converted,
            target=sql.Identifier(target),
            ours=ours,
            theirs=theirs,
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
        "SELECT s.sourced_id, s.status, %(now)s, %(origin)s{scols} "
        "FROM {s} s WHERE s.kind = 'new'{order}"
    ).format(
        # Rows into a kept primary key go in key order, so each lands next to the previous one.
        order=sql.SQL(" ORDER BY s.sourced_id" if existing else ""),
        t=target,
        s=src,
        cols=sql.SQL("").join(sql.SQL(", {}").format(c) for c in cols),
        scols=sql.SQL("").join(sql.SQL(", s.{}").format(c) for c in cols),
    )
    change = sql.SQL(
        "UPDATE {t} t SET (status, date_last_modified, origin{cols}) = "
        "(s.status, %(now)s, %(origin)s{incoming}) FROM {s} s "
        "WHERE t.sourced_id = s.sourced_id AND s.kind = 'changed'"
    ).format(
        t=target,
        s=src,
        cols=sql.SQL("").join(sql.SQL(", {}").format(c) for c in cols),
        incoming=sql.SQL("").join(sql.SQL(", s.{}").format(c) for c in cols),
    )
    remove = sql.SQL(
        "UPDATE {t} t SET status = 'tobedeleted', "
        "date_last_modified = %(now)s, origin = %(origin)s FROM {s} s "
        "WHERE t.sourced_id = s.sourced_id AND s.kind = 'delete'"
    ).format(t=target, s=src)
    with indexes_rebuilt_after(
        conn, table_name, enabled=typed.staged.rows > existing, empty=not existing
    ):
        created = run(insert)
        # Into an empty table everything was new: nothing to compare or delete.
        updated = run(change) if existing else 0
        deleted = run(remove) if existing else 0
    unchanged = typed.staged.rows - created - updated - deleted
    if typed.staged.mode == "bulk" and existing:
        deleted += _delete_missing(session, conn, typed, params, bulk_scope)
    return {"created": created, "updated": updated, "deleted": deleted, "unchanged": unchanged}


def _delete_missing(
    session: Session,
    conn: psycopg.Connection,
    typed: Typed,
    params: dict[str, Any],
    scope: ColumnElement[bool] | None,
) -> int:
    """Bulk: the file is the complete set, so rows it lacks are marked `tobedeleted`.
    Rows are matched against the staged file itself (every row of it, changed or not)."""
    condition, condition_params = compiled(session, scope)
    staged = typed.staged
    statement = sql.SQL(
        "UPDATE {t} SET status = 'tobedeleted', date_last_modified = %(now)s, "
        "origin = %(origin)s WHERE {t}.status <> 'tobedeleted' AND ({scope}) "
        "AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {sid} = {t}.sourced_id)"
    ).format(
        t=sql.Identifier(staged.file.table.name),
        scope=condition,
        stage=sql.Identifier(staged.table),
        sid=sql.SQL(staged.raw("sourcedId", alias="s")),
    )
    return conn.execute(statement, {**params, **condition_params}).rowcount
