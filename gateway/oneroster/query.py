"""The OneRoster query language: filter, sort/orderBy, fields, limit/offset.

`parse_query` checks a request's parameters and keeps their values apart from the statement's
shape; `Query.where`/`order_by` build the SQLAlchemy clauses once per shape, every value a named
bound parameter (`Query.params`), so no SQL is built from request strings.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, bindparam, cast, func, literal, not_, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from gateway.errors import INVALID_DATA, BadRequest
from gateway.oneroster.catalogue import SCALAR_KINDS, Entity, Field
from gateway.oneroster.filter_parser import Predicate, invalid, parse_filter

DEFAULT_LIMIT = 100
_MAX_INTEGER = 2**31 - 1  # PostgreSQL's OFFSET/LIMIT are bigint; no real page is this deep

_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


@dataclass(frozen=True)
class Condition:
    """One checked filter predicate: its field, operator and the value it binds."""

    field: Field
    key: str | None  # the JSON key of an object field (e.g. metadata.color)
    op: str
    value: Any  # as the column's Python type, a LIKE pattern for `~`, a list for JSONB `@>`


@dataclass
class Query:
    """A collection request's parsed parameters."""

    conditions: list[Condition] = field(default_factory=list)
    join: str | None = None
    sort: str | None = None  # the column of a sort field other than sourcedId
    descending: bool = False
    fields: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def shape(self) -> tuple[Any, ...]:
        """Everything that changes the SQL text (and nothing that only changes a value)."""
        predicates = tuple((c.field.name, c.key is not None, c.op) for c in self.conditions)
        return predicates, self.join, self.sort, self.descending, tuple(self.fields)

    def params(self) -> dict[str, Any]:
        values: dict[str, Any] = {"page_limit": self.limit, "page_offset": self.offset}
        for i, c in enumerate(self.conditions):
            values[f"filter_{i}"] = c.value
            if c.key is not None:
                values[f"filter_key_{i}"] = c.key
        return values

    def where(self, entity: Entity) -> list[ColumnElement[bool]]:
        clauses = [_clause(entity, c, i) for i, c in enumerate(self.conditions)]
        if len(clauses) < 2:
            return clauses
        return [and_(*clauses) if self.join == "AND" else or_(*clauses)]

    def order_by(self, entity: Entity, *, reverse: bool = False) -> list[Any]:
        """`reverse`: the same order backwards (ASC's NULLS LAST becomes DESC's NULLS FIRST)."""
        table = entity.table
        columns = [table.c[self.sort]] if self.sort else []
        columns.append(table.c.sourced_id)  # ties broken by sourcedId: a total, stable order
        descending = self.descending != reverse
        return [c.desc() if descending else c.asc() for c in columns]


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _convert(f: Field, value: str) -> Any:
    """The filter value as the column's Python type; a value that is not one is a bad filter."""
    try:
        if f.kind == "datetime":
            if len(value) == 10:
                return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
            parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        if f.kind == "date":
            return dt.date.fromisoformat(value[:10])
        if f.kind == "number":
            return float(value)
        if f.kind == "boolean":
            lowered = value.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(value)
    except ValueError:
        raise invalid(f"Filter value for {f.name} is not a valid {f.kind}") from None
    return value


def _is_containment(f: Field, op: str) -> bool:
    """`=`/`!=` on a JSONB list column is answered by `@>` (and the column's GIN index)."""
    return not f.link and op in ("=", "!=") and f.kind != "user_ids"


def check_predicate(entity: Entity, pred: Predicate, hidden: frozenset[str]) -> Condition:
    """The predicate checked against the entity (unknown field, bad value → 400)."""
    name, _, key = pred.field.partition(".")
    f = entity.fields.get(name)
    if f is None or name in hidden:
        raise invalid(f"Unknown filter field: {pred.field}")
    if f.kind == "object" and not key:
        raise invalid(f"Filter on {name} needs a key, e.g. {name}.name")
    if key and f.kind != "object":
        raise invalid(f"Unknown filter field: {pred.field}")
    op, value = pred.op, pred.value
    if op == "~":
        return Condition(f, key or None, op, _like_pattern(value))
    if f.kind in SCALAR_KINDS or f.kind == "object":
        if f.kind == "boolean" and op not in ("=", "!="):
            raise invalid(f"Operator {op} does not apply to boolean field {f.name}")
        return Condition(f, key or None, op, value if key else _convert(f, value))
    return Condition(f, None, op, [value] if _is_containment(f, op) else value)


def _scalar(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "~":
        return cast(column, Text).ilike(value)
    if op == "!=":
        return column.is_distinct_from(value)
    return _COMPARE[op](column, value)


def _element_match(element: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "~":
        return element.ilike(value)
    return _COMPARE[op](element, value)


def _list(f: Field, entity: Entity, op: str, name: str) -> ColumnElement[bool]:
    """A list field matches when any element does (GUIDRef lists by sourcedId)."""
    table = entity.table
    value = bindparam(name, value=None, type_=Text)
    if f.link:
        link = table.metadata.tables[f.link["table"]].alias("link")
        key, val = link.c[f.link["key"]], link.c[f.link["value"]]
        match_op = "=" if op == "!=" else op
        found = (
            select(1)
            .select_from(link)
            .where(key == table.c.sourced_id, _element_match(val, match_op, value))
            .exists()
        )
        return not_(found) if op == "!=" else found
    column = table.c[f.column_name]
    if _is_containment(f, op):
        contains = column.op("@>")(cast(bindparam(name, value=None, type_=JSONB), JSONB))
        return or_(column.is_(None), not_(contains)) if op == "!=" else contains
    element: Any
    if f.kind == "user_ids":
        elements = func.jsonb_array_elements(column).table_valued("value").alias("e")
        element = elements.c.value.op("->>")(literal("identifier"))
    else:
        elements = func.jsonb_array_elements_text(column).table_valued("value").alias("e")
        element = elements.c.value
    if op == "!=":
        return not_(select(1).select_from(elements).where(element == value).exists())
    return select(1).select_from(elements).where(_element_match(element, op, value)).exists()


def _clause(entity: Entity, c: Condition, i: int) -> ColumnElement[bool]:
    name = f"filter_{i}"
    f = c.field
    if f.kind == "object":
        key = bindparam(f"filter_key_{i}", value=None, type_=Text)
        value = bindparam(name, value=None, type_=Text)
        return _scalar(entity.table.c[f.column_name].op("->>")(key), c.op, value)
    if f.kind in SCALAR_KINDS:
        column = entity.table.c[f.column_name]
        value = bindparam(name, value=None, type_=Text if c.op == "~" else column.type)
        return _scalar(column, c.op, value)
    return _list(f, entity, c.op, name)


def _bad_parameter(name: str, problem: str) -> BadRequest:
    return BadRequest(
        "Invalid query parameter.", validation_errors={name: [problem]}, code_minor=INVALID_DATA
    )


def _integer(args: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_parameter(name, "must be an integer") from None
    if value < minimum:
        raise _bad_parameter(name, f"must be at least {minimum}")
    if value > _MAX_INTEGER:
        raise _bad_parameter(name, "is too large")
    return value


def parse_query(
    entity: Entity, args: Mapping[str, str], *, max_limit: int, hidden: frozenset[str]
) -> Query:
    q = Query()
    # A cap keeps one request's memory bounded; pages stay full at the cap (documented in README).
    q.limit = min(_integer(args, "limit", DEFAULT_LIMIT, 1), max_limit)
    q.offset = _integer(args, "offset", 0, 0)
    if "filter" in args:
        parsed = parse_filter(args["filter"])
        q.conditions = [check_predicate(entity, p, hidden) for p in parsed.predicates]
        q.join = parsed.join

    q.descending = args.get("orderBy", "asc").strip().lower() == "desc"
    sort = args.get("sort")
    if sort:
        f = entity.fields.get(sort)
        if f is None or sort in hidden or f.kind not in SCALAR_KINDS:
            q.warnings.append(("invalid_sort_field", f"Unknown or unsortable sort field: {sort}"))
        elif f.column != "sourced_id":
            q.sort = f.column_name

    visible = [name for name in entity.fields if name not in hidden]
    if "fields" in args:
        requested = [name.strip() for name in args["fields"].split(",") if name.strip()]
        if not requested:
            raise BadRequest(
                "fields is blank",
                validation_errors={"fields": ["is blank"]},
                code_minor="invalid_blank_selection_field",
            )
        unknown = [name for name in requested if name not in visible]
        for name in unknown:
            q.warnings.append(("invalid_selection_field", f"Unknown field: {name}"))
        q.fields = [name for name in requested if name in visible] or visible
    else:
        q.fields = visible
    return q
