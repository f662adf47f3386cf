"""OneRoster JSON built by PostgreSQL: one `json_object(...)` text per row.

Building the documents in the database (in C) instead of decoding JSONB and re-encoding dicts in
Python keeps large pages cheap; Python only joins the row texts into the envelope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Text, bindparam, case, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from gateway.oneroster.catalogue import Entity, Field, catalogue

# ISO 8601 UTC with milliseconds, e.g. 2026-01-15T10:01:02.123Z
_DATETIME_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'
_EMPTY_ARRAY: Any = literal_column("'[]'::json")
_EMPTY_JSONB: Any = literal_column("'[]'::jsonb")
_ZERO: Any = literal_column("0")
_ONE: Any = literal_column("1")
_HREF: Any = literal_column("'href'")
_SOURCED_ID: Any = literal_column("'sourcedId'")
_TYPE: Any = literal_column("'type'")
_TRUE: Any = literal_column("'true'", Text)
_FALSE: Any = literal_column("'false'", Text)
_JSON_NULL: Any = literal_column("'null'::jsonb")


# The request's base URL (scheme, host, base path): a bound parameter, never inlined, so one
# statement serves every host name.
HREF_BASE: Any = bindparam("href_base", value=None, type_=Text)
_PATH = re.compile(r"[A-Za-z]+")


def _href_prefix(target: str) -> Any:
    path = catalogue().hrefs[target]
    if not _PATH.fullmatch(path):  # inlined into SQL below
        raise ValueError(f"entities.json: href path {path!r} is not letters only")
    return HREF_BASE + literal_column(f"'/{path}/'", Text)


def _guidref(sourced_id: Any, prefix: Any, target: str) -> Any:
    return func.json_build_object(
        _HREF, prefix + sourced_id,
        _SOURCED_ID, sourced_id,
        _TYPE, literal_column(f"'{target}'"),
    )  # fmt: skip


def _value(entity: Entity, f: Field) -> Any:
    table = entity.table
    prefix = _href_prefix(f.target) if f.target else None
    if f.link is not None:
        link = table.metadata.tables[f.link["table"]].alias(f"link_{f.name}")
        value = link.c[f.link["value"]]
        refs = func.json_agg(aggregate_order_by(_guidref(value, prefix, f.target_type), value))
        return (
            select(func.coalesce(refs, _EMPTY_ARRAY))
            .where(link.c[f.link["key"]] == table.c.sourced_id)
            .scalar_subquery()
        )
    column = table.c[f.column_name]
    if f.kind == "datetime":
        return func.to_char(func.timezone("UTC", column), _DATETIME_FORMAT)
    if f.kind == "boolean":
        # The 1.1 JSON binding carries booleans as the strings "true"/"false"; no value: absent.
        return case((column.is_(True), _TRUE), (column.is_(False), _FALSE), else_=None)
    if f.kind == "object":
        # A JSON `null` stored in the column is no value either: the field is left out.
        return func.nullif(column, _JSON_NULL)
    if f.kind == "ref":
        return case((column.is_(None), None), else_=_guidref(column, prefix, f.target_type))
    if f.kind == "ref_list":
        return _ref_list(f, column, prefix)
    return column


def _ref_list(f: Field, column: Any, prefix: Any) -> Any:
    """Most rows hold zero or one reference: those skip the per-row subquery and aggregate (a
    quarter of a page's statement). `json_build_array` of one element prints exactly as
    `json_agg` does (`[x]`), so the bytes do not depend on the path taken."""
    elements = (
        func.jsonb_array_elements_text(column)
        .table_valued("value", with_ordinality="n")
        .render_derived(name=f"e_{f.name}")
    )
    ref = _guidref(elements.c.value, prefix, f.target_type)
    refs = func.json_agg(aggregate_order_by(ref, elements.c.n))
    many = select(func.coalesce(refs, _EMPTY_ARRAY)).select_from(elements).scalar_subquery()
    first = column.op("->>", return_type=Text)(literal_column("0"))
    one = func.json_build_array(_guidref(first, prefix, f.target_type))
    length = func.jsonb_array_length(func.coalesce(column, _EMPTY_JSONB))
    return case((_ZERO, _EMPTY_ARRAY), (_ONE, one), value=length, else_=many)


class JsonObject(ColumnElement[str]):
    """PostgreSQL 16's `JSON_OBJECT(k VALUE v, … ABSENT ON NULL RETURNING text)`: only top-level
    nulls are left out (extension data keeps its own), and it is cheaper than stripping nulls from a
    built object."""

    type = Text()
    inherit_cache = True
    _traverse_internals = [
        ("keys", InternalTraversal.dp_string_list),
        ("values", InternalTraversal.dp_clauseelement_list),
    ]

    def __init__(self, keys: Sequence[str], values: Sequence[Any]) -> None:
        self.keys = tuple(keys)
        self.values = tuple(values)


@compiles(JsonObject, "postgresql")
def _compile_json_object(element: JsonObject, compiler: Any, **kw: Any) -> str:
    # Keys come from entities.json (letters only, checked at load), never from the request.
    pairs = ", ".join(
        f"'{key}' VALUE {compiler.process(value, **kw)}"
        for key, value in zip(element.keys, element.values, strict=True)
    )
    return f"json_object({pairs} ABSENT ON NULL RETURNING text)"


class Serializer:
    """The SQL expression of one record's JSON text for the requested fields."""

    def __init__(self, entity: Entity, fields: Sequence[str]) -> None:
        values = [_value(entity, entity.fields[name]) for name in fields]
        self.expression = JsonObject(fields, values)
        self.column = self.expression.label("doc")


def envelope(key: str, docs: Sequence[str], *, many: bool, warnings: list[dict[str, Any]]) -> str:
    """`{"<key>": [doc, …]}` or `{"<key>": doc}`, plus a statusInfoSet when there are warnings."""
    body = "[" + ",".join(docs) + "]" if many else docs[0]
    text = f'{{"{key}":{body}'
    if warnings:
        text += ',"statusInfoSet":' + json.dumps(warnings, ensure_ascii=False)
    return text + "}"


@lru_cache(maxsize=512)
def serializer_for(entity_name: str, fields: tuple[str, ...]) -> Serializer:
    """Built once per shape: constructing the expression costs more than running it for a page.
    Its hrefs need the `href_base` parameter (the request's base URL)."""
    return Serializer(catalogue().entities[entity_name], fields)
