"""Reading Ed-Fi documents for the projection: by field values or natural keys, several queries in
one round trip, each query once per rebuild (the Ed-Fi tables do not change while it runs)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gateway import precompiled
from gateway.edfi import documents
from gateway.edfi.definitions import Registry, Resource, registry
from gateway.mapping.links import table_of

Key = tuple[tuple[str, Any], ...]
Query = tuple[str, dict[str, Iterable[Any]]]  # resource, flattened field → values
# built statements by shape, with the registry whose tables they read
_STATEMENTS: dict[tuple, tuple[Registry, sa.Executable]] = {}


class EdFiReader:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.registry = registry()
        # documents read while rebuilding, by query; None outside a rebuild
        self.memo: dict[tuple, list[dict[str, Any]]] | None = None

    def fetch(self, resource: str, **where: Iterable[Any]) -> list[dict[str, Any]]:
        """Documents of `resource` whose flattened fields are in the given values."""
        return self.fetch_many([(resource, where)])[0]

    def fetch_many(self, queries: list[Query]) -> list[list[dict[str, Any]]]:
        """fetch for several queries: those not read yet go to the database in one statement."""
        out: list[list[dict[str, Any]] | None] = []
        todo: list[tuple[int, tuple, Resource, dict[str, list[Any]]]] = []
        asked: dict[tuple, int] = {}  # memo key -> its place in `out`
        again: list[tuple[int, int]] = []  # (place, place of the same query asked first)
        for resource, where in queries:
            res = self.registry.resources[resource]
            wanted = {flat: list(values) for flat, values in where.items()}
            memo_key = (resource, *sorted((f, frozenset(v)) for f, v in wanted.items()))
            if any(not values for values in wanted.values()):
                out.append([])
            elif self.memo is not None and memo_key in self.memo:
                out.append(self.memo[memo_key])
            elif memo_key in asked:  # the same query twice in this call: read once
                out.append(None)
                again.append((len(out) - 1, asked[memo_key]))
            else:
                asked[memo_key] = len(out)
                todo.append((len(out), memo_key, res, wanted))
                out.append(None)
        if todo:
            shape = tuple((res.name, tuple(wanted)) for _i, _key, res, wanted in todo)
            params = {
                f"q{n}_{flat}": values
                for n, (_i, _key, _res, wanted) in enumerate(todo)
                for flat, values in wanted.items()
            }
            # one precompiled statement, straight through the driver; fetched at once: row by
            # row, the driver's per-fetch checks cost as much as the rows
            names, rows = precompiled.fetch_all(
                self.session, ("mapping.read_edfi", id(self.registry), shape),
                lambda: self._statement(shape), params,
            )  # fmt: skip
            if len(todo) == 1:
                i, _key, res, _wanted = todo[0]
                out[i] = [
                    documents.to_document(res, dict(zip(names, row, strict=True))) for row in rows
                ]
            else:
                found: list[list[dict[str, Any]]] = [[] for _ in todo]
                typed = [_typing(table_of(res)) for _i, _key, res, _wanted in todo]
                for n, row in rows:
                    res = todo[n][2]
                    found[n].append(documents.to_document(res, _typed(typed[n], row)))
                for (i, _key, _res, _wanted), docs in zip(todo, found, strict=True):
                    out[i] = docs
        for i, first in again:
            out[i] = out[first]
        for i, memo_key, _res, _wanted in todo:
            if self.memo is not None:
                self.memo[memo_key] = out[i]  # type: ignore[assignment]
        return out  # type: ignore[return-value]

    def _statement(self, shape: tuple[tuple[str, tuple[str, ...]], ...]) -> sa.Executable:
        """The query of (resource, fields) pieces, built once per shape: the field values are
        expanding parameters `q<piece>_<field>`. Several pieces read as one statement, each row
        as JSON tagged with its piece."""
        cached = _STATEMENTS.get(shape)
        if cached is not None and cached[0] is self.registry:
            return cached[1]
        parts = []
        for n, (resource, fields) in enumerate(shape):
            res = self.registry.resources[resource]
            table = table_of(res)
            # one array parameter per field, not one parameter per value: a bulk load's rebuild
            # asks for tens of thousands of keys, past the protocol's 65,535 parameters
            conditions = [
                _column(table, res, f)
                == sa.func.any(sa.bindparam(f"q{n}_{f}", type_=ARRAY(_column(table, res, f).type)))
                for f in fields
            ]
            if len(shape) == 1:
                parts.append(sa.select(table).where(*conditions))
            else:
                parts.append(
                    sa.select(
                        sa.literal_column(str(n)).label("query"),
                        sa.func.to_jsonb(sa.literal_column(table.name)).label("row"),
                    )
                    .select_from(table)
                    .where(*conditions)
                )
        stmt: sa.Executable = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        _STATEMENTS[shape] = (self.registry, stmt)
        return stmt

    def fetch_keys(self, resource: str, keys: Iterable[Key]) -> list[dict[str, Any]]:
        keys = list(keys)
        if not keys:
            return []
        res = self.registry.resources[resource]
        names = [f for f, _ in keys[0]]
        cols = [table_of(res).c[res.columns[f].name] for f in names]
        rows = self.session.execute(
            sa.select(table_of(res)).where(
                sa.tuple_(*cols).in_(
                    [tuple(_cast(c, v) for c, (_, v) in zip(cols, k, strict=True)) for k in keys]
                )
            )
        ).mappings()
        return [documents.to_document(res, row) for row in rows.all()]


def _column(table: sa.Table, res: Resource, flat: str) -> sa.Column:
    return table.c[res.columns[flat].name]


Typing = tuple[tuple[str, Any], ...]  # (column, conversion) of the columns JSON does not type
_TYPINGS: dict[sa.Table, Typing] = {}


def _typing(table: sa.Table) -> Typing:
    found = _TYPINGS.get(table)
    if found is None:
        found = _TYPINGS[table] = tuple(
            (c.name, datetime.fromisoformat if isinstance(c.type, sa.DateTime) else float)
            for c in table.c
            if isinstance(c.type, sa.DateTime | sa.Float)
        )
    return found


def _typed(typing: Typing, row: dict[str, Any]) -> dict[str, Any]:
    """A row read as JSON with the Python values to_document renders as it renders a table row's:
    timestamps parsed (it formats them), floats as floats (JSON writes 9.0 as 9). Dates stay ISO
    text, which is what to_document makes of them."""
    for name, convert in typing:
        value = row.get(name)
        if value is not None:
            row[name] = convert(value)
    return row


def _cast(column: sa.Column, value: Any) -> Any:
    """Key values travel as JSON (dates as text); give them the column's Python type."""
    if isinstance(value, str) and isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    return value
