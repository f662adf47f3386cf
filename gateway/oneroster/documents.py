"""Stored OneRoster documents: the JSON of each user and enrollment, kept on its row.

A full sync reads every user and enrollment; building each one's JSON at read time (to_char, one
JSON object per reference, the document itself) was most of what PostgreSQL spent on a page. A
BEFORE INSERT OR UPDATE trigger writes the document into the row's `document` column with the
expression the read path builds (gateway.oneroster.serialize), so every write path keeps it: the
CSV import (bulk and delta), the Ed-Fi → OneRoster projection, tombstones, any later writer. Both
tables' documents hold nothing but their own row's columns, so no write of another record can make
one stale.

The hrefs depend on the request's host, so a stored document has the control character U+0001
where the base URL goes, and a read replaces it once over the whole page. JSON text never holds a
raw control character, so nothing else is replaced. The document is built with U+0001 as the base
URL, which JSON escapes to the six characters `\u0001`, and those are then made the raw character
again, but only when the document holds exactly one `\u0001` per href: a value holding U+0001 (or
a backslash and `u0001`) prints more, and such a row keeps no document and is built as it is read.

The trigger functions are frozen in migration sync_0001 (their SQL printed by `function_sql`);
tests/oneroster/test_stored_documents.py checks they still build what the read path builds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, func, literal_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from gateway.oneroster.catalogue import Entity
from gateway.oneroster.serialize import HREF_BASE, Serializer, serializer_for

STORED_TABLES = ("users", "enrollments")  # the collections an LMS sync reads in bulk
HREF_PLACEHOLDER: Any = literal_column("chr(1)", Text)


def stored_fields(entity: Entity) -> tuple[str, ...]:
    """The fields of a stored document: every field but the secret ones (passwords), in order."""
    return tuple(name for name, f in entity.fields.items() if not f.secret)


def is_stored(entity: Entity, fields: Sequence[str]) -> bool:
    """Whether a read of `fields` is the entity's stored document."""
    return entity.table.name in STORED_TABLES and tuple(fields) == stored_fields(entity)


def _with_hrefs(text: Any) -> Any:
    """Stored document text (one or many joined) with the request's base URL in its hrefs."""
    return func.replace(text, HREF_PLACEHOLDER, HREF_BASE)


def _document(entity: Entity, fields: tuple[str, ...]) -> tuple[Any, bool]:
    """One row's JSON text and whether it may hold the placeholder. A row without a stored
    document (written while triggers were off, e.g. a data-only restore) is built as it is read."""
    built = serializer_for(entity.name, fields).expression
    if not is_stored(entity, fields):
        return built, False
    return func.coalesce(entity.table.c.document, built), True


def document(entity: Entity, fields: Sequence[str]) -> Any:
    """The JSON text of one record, for the requested fields."""
    text, stored = _document(entity, tuple(fields))
    return _with_hrefs(text) if stored else text


def documents(entity: Entity, fields: Sequence[str], order_by: Sequence[Any]) -> Any:
    """The JSON texts of many records joined by commas in `order_by`: an aggregate. The hrefs of
    stored documents are filled in once, over the joined text."""
    text, stored = _document(entity, tuple(fields))
    joined = func.string_agg(text, aggregate_order_by(literal_column("','"), *order_by))
    return _with_hrefs(joined) if stored else joined


def _href_to_placeholder(element: Any, **_kw: Any) -> Any:
    if isinstance(element, BindParameter) and element.key == HREF_BASE.key:
        return HREF_PLACEHOLDER
    return None


def function_sql(entity: Entity) -> str:
    """CREATE FUNCTION of the trigger that stores `entity`'s document on its row."""
    table = entity.table
    new = table.alias("new")
    built = Serializer(entity, stored_fields(entity)).expression
    placeholder = visitors.replacement_traverse(built, {}, _href_to_placeholder)
    over_new = sql_util.ClauseAdapter(new).traverse(placeholder)
    expression = over_new.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    # one field a line (trailing spaces cut), for the migration that freezes it to read well
    body = re.sub(r", ('[A-Za-z]+' VALUE )", r",\n        \1", str(expression))
    body = re.sub(r"[ \t]+\n", "\n", body)
    refs = [f for f in entity.fields.values() if f.target and f.link is None and not f.secret]
    lists = [f.column_name for f in refs if f.kind == "ref_list"]
    # a list column holding something else cannot be built (the read answers the error)
    buildable = (
        " AND ".join(f"jsonb_typeof(coalesce(NEW.{c}, '[]')) = 'array'" for c in lists) or "true"
    )
    # each href begins with the escaped placeholder once; one more `\u0001` comes from a value
    hrefs = (
        " + ".join(
            f"jsonb_array_length(coalesce(NEW.{f.column_name}, '[]'))"
            if f.kind == "ref_list"
            else f"(NEW.{f.column_name} IS NOT NULL)::int"
            for f in refs
        )
        or "0"
    )
    return f"""CREATE OR REPLACE FUNCTION oneroster_{table.name}_document() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    built text;
BEGIN
    NEW.document := NULL;
    IF {buildable} THEN
        built := {body};
        IF length(built) - length(replace(built, chr(92) || 'u0001', ''))
           = 6 * ({hrefs}) THEN
            NEW.document := replace(built, chr(92) || 'u0001', chr(1));
        END IF;
    END IF;
    RETURN NEW;
END $$"""


if __name__ == "__main__":  # prints the functions, for a migration that freezes them
    from gateway.oneroster.catalogue import catalogue

    for _entity in catalogue().entities.values():
        if _entity.table.name in STORED_TABLES:
            print(function_sql(_entity), end=";\n\n")
