"""Export OneRoster data as a v1.1 CSV package, streamed: PostgreSQL writes each file with
COPY … TO STDOUT in the standard's column order, straight into the zip.

Bulk by default (the active rows); with `since`, a delta of every row changed after it, deletions
included. Organization reach applies as in the REST provider; shared catalogue data (sessions,
categories, resources) is exported whole.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.auth.row_security import ONEROSTER_POLICIES, within_reach
from gateway.oneroster.csv.catalogue import Column, CsvFile, catalogue

DATETIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def text_expression(column: Column, with_passwords: bool) -> str:
    """SQL rendering the stored value of `column` as the CSV binding writes it."""
    col = f'"{column.column}"'
    kind = column.type
    if column.name == "password" and not with_passwords:
        return "NULL::text"  # compliance rule 5: passwords leave only when asked for
    if kind == "date":
        return f"to_char({col}, 'YYYY-MM-DD')"
    if kind == "datetime":
        return f"to_char({col} AT TIME ZONE 'UTC', '{DATETIME_FORMAT}')"
    if kind == "boolean":
        return f"CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END"
    if kind == "float":
        return f"{col}::text"
    if kind in ("list", "ref_list"):
        return (
            f"(SELECT string_agg(x, ',' ORDER BY n) "
            f"FROM jsonb_array_elements_text({col}) WITH ORDINALITY u(x, n))"
        )
    if kind == "user_ids":
        return (
            "(SELECT string_agg('{' || (e->>'type') || ':' || (e->>'identifier') || '}', ',' "
            f"ORDER BY n) FROM jsonb_array_elements({col}) WITH ORDINALITY u(e, n))"
        )
    return col


def _condition(
    file: CsvFile, since: datetime | None, scope: OrgScope | None
) -> ColumnElement[bool]:
    table = file.table
    parts: list[ColumnElement[bool]] = [
        table.c.date_last_modified > since if since is not None else table.c.status == "active"
    ]
    if scope is not None and not scope.unrestricted:
        from gateway.oneroster.catalogue import catalogue as rest_catalogue
        from gateway.oneroster.relations import reach_condition

        entity = rest_catalogue().entities.get(file.entity)
        if entity is not None:
            parts.append(reach_condition(entity, False, scope.sourced_ids))
    return and_(true(), *parts)


def _where(session: Session, condition: ColumnElement[bool]) -> tuple[str, dict[str, Any]]:
    compiled = condition.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    return compiled.string, dict(compiled.params)


def _metadata_keys(session: Session, file: CsvFile, condition: ColumnElement[bool]) -> list[str]:
    table = file.table
    from sqlalchemy import func

    keys = (
        select(func.jsonb_object_keys(table.c.metadata).label("k"))
        .where(condition, func.jsonb_typeof(table.c.metadata) == "object")
        .distinct()
    )
    return sorted(session.scalars(keys))


def _has_rows(session: Session, file: CsvFile, condition: ColumnElement[bool]) -> bool:
    return (
        session.execute(select(true()).select_from(file.table).where(condition).limit(1)).first()
        is not None
    )


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


def _copy_sql(
    session: Session, file: CsvFile, condition: ColumnElement[bool], with_passwords: bool
) -> tuple[str, dict[str, Any]]:
    columns = [f'{text_expression(c, with_passwords)} AS "{c.name}"' for c in file.columns]
    for key in _metadata_keys(session, file, condition):
        alias = ("metadata." + key).replace('"', '""').replace("%", "%%")
        columns.append(f'metadata->>{_quote_literal(key)} AS "{alias}"')
    where, params = _where(session, condition)
    query = f"SELECT {', '.join(columns)} FROM {file.table.name} WHERE {where} ORDER BY sourced_id"
    return f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER)", params


class _Sink(io.RawIOBase):
    """A write-only stream the zip writes into; the caller takes what accumulated."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.buffer += data
        return len(data)

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def export_stream(
    session: Session,
    *,
    since: datetime | None = None,
    scope: OrgScope | None = None,
    with_passwords: bool = False,
    counts: dict[str, int] | None = None,
    row_security: bool = False,
) -> Iterator[bytes]:
    """Yield the bytes of a zip package; `counts` (if given) receives rows per file.

    `row_security`: read as the database's reader role limited to `scope` (an API client's
    export), so that the OneRoster policies of migration rls_0001 hold even where the
    application's condition would not; the operator's CLI reads unrestricted."""
    sink = _Sink()
    mode = "delta" if since is not None else "bulk"
    modes: dict[str, str] = {}
    conn: psycopg.Connection = session.connection().connection.driver_connection  # type: ignore
    secured = row_security and scope is not None
    reach = within_reach(session, scope, ONEROSTER_POLICIES) if secured and scope else nullcontext()
    with reach, zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        for file in catalogue().files:
            condition = _condition(file, since, scope)
            if not _has_rows(session, file, condition):
                modes[file.name] = "absent"
                continue
            modes[file.name] = mode
            statement, params = _copy_sql(session, file, condition, with_passwords)
            with zf.open(file.filename, "w") as entry, conn.cursor() as cur:
                with cur.copy(statement, params) as copy:
                    for block in copy:
                        entry.write(block)
                        if len(sink.buffer) >= 1 << 16:
                            yield sink.take()
                if counts is not None:
                    counts[file.name] = cur.rowcount
            yield sink.take()
        zf.writestr("manifest.csv", _manifest(modes))
    yield sink.take()


def _manifest(modes: dict[str, str]) -> str:
    spec = catalogue().manifest
    lines = [",".join(spec["header"])]
    lines += [f"{name},{version}" for name, version in spec["versions"].items()]
    lines += [f"file.{name},{modes[name]}" for name in sorted(modes)]
    lines += ["source.systemName,K-12 interoperability gateway", "source.systemCode,gateway"]
    return "\n".join(lines) + "\n"
