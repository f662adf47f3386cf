"""The OneRoster query language on top of SQLAlchemy: filter, sort/orderBy, fields, limit/offset.

Every value travels as a bound parameter; no SQL is built from strings.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, func, literal, not_, or_, select
from sqlalchemy.dialects.postgresql import JSONB

from gateway.errors import BadRequest
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


@dataclass
class Query:
    """A collection request's parsed parameters."""

    where: list[ColumnElement[bool]] = field(default_factory=list)
    order_by: list[Any] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)


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


def _scalar(f: Field, column: Any, op: str, value: str) -> ColumnElement[bool]:
    if op == "~":
        return cast(column, Text).ilike(_like_pattern(value))
    if f.kind == "boolean" and op not in ("=", "!="):
        raise invalid(f"Operator {op} does not apply to boolean field {f.name}")
    typed = _convert(f, value)
    if op == "!=":
        return column.is_distinct_from(typed)
    return _COMPARE[op](column, typed)


def _element_match(element: Any, op: str, value: str) -> ColumnElement[bool]:
    if op == "~":
        return element.ilike(_like_pattern(value))
    return _COMPARE[op](element, value)


def _list(f: Field, entity: Entity, op: str, value: str) -> ColumnElement[bool]:
    """A list field matches when any element does (GUIDRef lists by sourcedId)."""
    table = entity.table
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
    if op in ("=", "!=") and f.kind != "user_ids":
        # @> is answered by the column's GIN index.
        contains = column.op("@>")(cast(literal([value], JSONB), JSONB))
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


def compile_predicate(
    entity: Entity, pred: Predicate, hidden: frozenset[str]
) -> ColumnElement[bool]:
    name, _, key = pred.field.partition(".")
    f = entity.fields.get(name)
    if f is None or name in hidden:
        raise invalid(f"Unknown filter field: {pred.field}")
    if f.kind == "object":
        if not key:
            raise invalid(f"Filter on {name} needs a key, e.g. {name}.name")
        return _scalar(f, entity.table.c[f.column_name].op("->>")(key), pred.op, pred.value)
    if key:
        raise invalid(f"Unknown filter field: {pred.field}")
    if f.kind in SCALAR_KINDS:
        return _scalar(f, entity.table.c[f.column_name], pred.op, pred.value)
    return _list(f, entity, pred.op, pred.value)


def compile_filter(entity: Entity, text: str, hidden: frozenset[str]) -> ColumnElement[bool]:
    parsed = parse_filter(text)
    clauses = [compile_predicate(entity, p, hidden) for p in parsed.predicates]
    if len(clauses) == 1:
        return clauses[0]
    return and_(*clauses) if parsed.join == "AND" else or_(*clauses)


def _integer(args: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer", code_minor="invalid_data") from None
    if value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}", code_minor="invalid_data")
    if value > _MAX_INTEGER:
        raise BadRequest(f"{name} is too large", code_minor="invalid_data")
    return value


def parse_query(
    entity: Entity, args: Mapping[str, str], *, max_limit: int, hidden: frozenset[str]
) -> Query:
    q = Query()
    # A cap keeps one request's memory bounded; pages stay full at the cap (documented in README).
    q.limit = min(_integer(args, "limit", DEFAULT_LIMIT, 1), max_limit)
    q.offset = _integer(args, "offset", 0, 0)
    if "filter" in args:
        q.where.append(compile_filter(entity, args["filter"], hidden))

    table = entity.table
    descending = args.get("orderBy", "asc").strip().lower() == "desc"
    sort = args.get("sort")
    order_columns = []
    if sort:
        f = entity.fields.get(sort)
        if f is None or sort in hidden or f.kind not in SCALAR_KINDS:
            q.warnings.append(("invalid_sort_field", f"Unknown or unsortable sort field: {sort}"))
        elif f.column != "sourced_id":
            order_columns.append(table.c[f.column_name])
    order_columns.append(table.c.sourced_id)  # ties broken by sourcedId: a total, stable order
    q.order_by = [c.desc() if descending else c.asc() for c in order_columns]

    visible = [name for name in entity.fields if name not in hidden]
    if "fields" in args:
        requested = [name.strip() for name in args["fields"].split(",") if name.strip()]
        if not requested:
            raise BadRequest("fields is blank", code_minor="invalid_blank_selection_field")
        unknown = [name for name in requested if name not in visible]
        for name in unknown:
            q.warnings.append(("invalid_selection_field", f"Unknown field: {name}"))
        q.fields = [name for name in requested if name in visible] or visible
    else:
        q.fields = visible
    return q
