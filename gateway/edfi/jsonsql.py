"""Ed-Fi documents built by PostgreSQL for collection pages.

A page of 500 records is serialised in the database, so Python only joins the texts: no ORM
objects, no per-row Python work. Each property is a fragment `,"name":<json>` made with `||`, which
yields NULL when the value is NULL; concat() skips NULL arguments, so absent properties vanish
without a second pass (json_strip_nulls re-parses the whole document). The shape is the one
documents.to_document produces for a single record.
"""

from __future__ import annotations

import json
from functools import reduce

import sqlalchemy as sa

from gateway.edfi import definitions
from gateway.edfi.definitions import Column, Reference, Registry, Resource
from gateway.edfi.references import base_conditions

MAX_ARGS = 100  # PostgreSQL's limit on function arguments (concat)
TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def text(value: str) -> sa.ColumnElement:
    """A SQL text literal (names from the definitions; typed, unlike an untyped bound parameter)."""
    return sa.literal_column("'" + value.replace("'", "''") + "'::text")


def cat(*parts: sa.ColumnElement) -> sa.ColumnElement:
    """a || b || …: NULL as soon as one part is NULL."""
    return reduce(lambda a, b: a.op("||")(b), parts)


def key(name: str, first: bool = False) -> sa.ColumnElement:
    return text(("" if first else ",") + json.dumps(name) + ":")


def hex_id(column: sa.ColumnElement) -> sa.ColumnElement:
    """A uuid as the ODS/API writes ids: 32 lowercase hex characters (documents.resource_id)."""
    return sa.func.replace(sa.cast(column, sa.Text), text("-"), text(""))


def timestamp(column: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.to_char(sa.func.timezone(text("UTC"), column), text(TIMESTAMP_FORMAT))


def as_json(column: Column, expr: sa.ColumnElement) -> sa.ColumnElement:
    """The column's value as JSON text (NULL stays NULL)."""
    if column.kind == "json":
        return sa.cast(expr, sa.Text)
    if column.kind == "scalar" and column.spec.get("format") == "date-time":
        return cat(text('"'), timestamp(expr), text('"'))
    return sa.cast(sa.func.to_json(expr), sa.Text)


def _link(registry: Registry, res: Resource, ref: Reference, table: sa.Table) -> sa.ColumnElement:
    """The reference's link, found by the target's natural key (several targets: the first hit)."""
    options = []
    for target_name in ref.targets:
        target = registry.resources[target_name]
        alias = target.table.alias()
        conditions = []
        for field, flat in ref.fields:
            name = target.columns[field].name if field in target.columns else target.key_columns[0]
            conditions.append(alias.c[name] == table.c[res.columns[flat].name])
        prefix = '{"rel":' + json.dumps(target.entity) + ',"href":"/ed-fi/' + target.name + "/"
        link = cat(text(prefix), hex_id(alias.c.id), text('"}'))
        options.append(
            sa.select(link).where(*conditions, *base_conditions(target)).limit(1).scalar_subquery()
        )
    return options[0] if len(options) == 1 else sa.func.coalesce(*options)


def _reference(registry: Registry, res: Resource, ref: Reference) -> sa.ColumnElement:
    table = res.table
    parts = []
    for i, (field, flat) in enumerate(ref.fields):
        column = res.columns[flat]
        parts += [key(field, first=i == 0), as_json(column, table.c[column.name])]
    link = text("")
    if ref.targets:
        link = sa.func.coalesce(cat(key("link"), _link(registry, res, ref, table)), text(""))
    return cat(key(ref.name), text("{"), *parts, link, text("}"))


def _document(registry: Registry, res: Resource) -> sa.ColumnElement | None:
    table = res.table
    parts: list[sa.ColumnElement] = [text('{"id":"'), hex_id(table.c.id), text('"')]
    if res.descriptor_id_property:
        parts.append(cat(key(res.descriptor_id_property), sa.cast(table.c.descriptor_id, sa.Text)))
    for prop in res.properties:
        if prop["kind"] == "reference":
            ref = next(r for r in res.references if r.name == prop["name"])
            parts.append(_reference(registry, res, ref))
            continue
        column = res.columns[prop["name"]]
        value = as_json(column, table.c[column.name])
        if prop["kind"] == "collection":
            value = sa.func.coalesce(value, text("[]"))
        parts.append(cat(key(prop["name"]), value))
    etag = sa.func.coalesce(table.c._etag, sa.cast(table.c.change_version, sa.Text))
    parts.append(cat(key("_etag"), sa.cast(sa.func.to_json(etag), sa.Text)))
    parts.append(cat(key("_lastModifiedDate"), as_json(_MODIFIED, table.c._last_modified_date)))
    parts.append(text("}"))
    if len(parts) > MAX_ARGS:
        return None
    return sa.func.concat(*parts)


_MODIFIED = Column("_lastModifiedDate", "_last_modified_date", {"format": "date-time"}, "scalar")


_DOCUMENTS: dict[int, tuple[Resource, sa.ColumnElement | None]] = {}


def document_column(res: Resource, registry: Registry | None = None) -> sa.ColumnElement | None:
    """The SQL expression rendering a row of `res` as its Ed-Fi JSON text (None: too wide);
    built once per resource definition, from the registry it belongs to (default: the served)."""
    cached = _DOCUMENTS.get(id(res))
    if cached is None or cached[0] is not res:
        built = _document(registry or definitions.registry(), res)
        cached = _DOCUMENTS[id(res)] = (res, built)
    return cached[1]
