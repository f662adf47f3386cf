"""Ed-Fi documents built by PostgreSQL for collection pages.

A page of 500 records is serialised in the database (json_build_object over the row, reference
links from indexed look-ups), so Python only joins the texts: no ORM objects, no per-row Python
work. The shape is the one documents.to_document produces for a single record.
"""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from gateway.edfi import definitions
from gateway.edfi.definitions import Column, Registry, Resource
from gateway.edfi.references import base_conditions

MAX_PAIRS = 50  # json_build_object takes at most 100 arguments
TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'


def text(value: str) -> sa.ColumnElement:
    """A SQL text literal (names from the definitions; typed, unlike an untyped bound parameter)."""
    return sa.literal_column("'" + value.replace("'", "''") + "'::text")


def timestamp(column: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.to_char(sa.func.timezone(text("UTC"), column), text(TIMESTAMP_FORMAT))


def _value(table: sa.Table, column: Column, collection: bool) -> sa.ColumnElement:
    expr = table.c[column.name]
    if collection:
        return sa.func.coalesce(expr, sa.literal_column("'[]'::jsonb"))
    if column.kind == "scalar" and column.spec.get("format") == "date-time":
        return timestamp(expr)
    return expr


def _link(registry: Registry, res: Resource, ref, table: sa.Table) -> sa.ColumnElement:
    """The reference's link, found by the target's natural key (several targets: the first hit)."""
    options = []
    for target_name in ref.targets:
        target = registry.resources[target_name]
        alias = target.table.alias()
        conditions = []
        for field, flat in ref.fields:
            name = target.columns[field].name if field in target.columns else target.key_columns[0]
            conditions.append(alias.c[name] == table.c[res.columns[flat].name])
        href = sa.func.concat(text(f"/ed-fi/{target.name}/"), alias.c.id)
        link = sa.func.json_build_object(text("rel"), text(target.entity), text("href"), href)
        options.append(
            sa.select(link).where(*conditions, *base_conditions(target)).limit(1).scalar_subquery()
        )
    return options[0] if len(options) == 1 else sa.func.coalesce(*options)


@cache
def _document(name: str) -> sa.ColumnElement | None:
    registry = definitions.registry()
    res = registry.resources[name]
    table = res.table
    pairs: list = [text("id"), sa.cast(table.c.id, sa.Text)]
    if res.descriptor_id_property:
        pairs += [text(res.descriptor_id_property), table.c.descriptor_id]
    for prop in res.properties:
        if prop["kind"] == "reference":
            ref = next(r for r in res.references if r.name == prop["name"])
            cols = [table.c[res.columns[flat].name] for _, flat in ref.fields]
            inner: list = []
            for field, flat in ref.fields:
                inner += [text(field), _value(table, res.columns[flat], False)]
            if ref.targets:
                inner += [text("link"), _link(registry, res, ref, table)]
            present = sa.and_(*(c.is_not(None) for c in cols))
            pairs += [text(prop["name"]), sa.case((present, sa.func.json_build_object(*inner)))]
        else:
            column = res.columns[prop["name"]]
            pairs += [text(prop["name"]), _value(table, column, prop["kind"] == "collection")]
    pairs += [text("_etag"), table.c._etag]
    pairs += [text("_lastModifiedDate"), timestamp(table.c._last_modified_date)]
    if len(pairs) > 2 * MAX_PAIRS:
        return None
    # Ed-Fi omits absent properties: strip the nulls (recursively, so an absent link goes too)
    return sa.cast(sa.func.json_strip_nulls(sa.func.json_build_object(*pairs)), sa.Text)


def document_column(res: Resource) -> sa.ColumnElement | None:
    """The SQL expression rendering a row of `res` as its Ed-Fi JSON text (None: too wide)."""
    return _document(res.name)
