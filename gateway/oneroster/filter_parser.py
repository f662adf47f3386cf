"""Parser of the OneRoster 1.1 `filter` parameter: `<field><op>'<value>'`, at most one AND/OR join.

Pure code: it returns a tree; gateway.oneroster.query turns the tree into SQL expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.errors import BadRequest

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")

_FIELD = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)\s*(>=|<=|!=|=|>|<|~)\s*")
_JOIN = re.compile(r"\s+(AND|OR)\s+", re.IGNORECASE)
_BARE = re.compile(r"[^\s'\"]+")


@dataclass(frozen=True)
class Predicate:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Filter:
    predicates: tuple[Predicate, ...]
    join: str | None = None  # "AND" | "OR" when there are two predicates


def invalid(message: str) -> BadRequest:
    return BadRequest(
        "Invalid filter.",
        validation_errors={"filter": [message]},
        code_minor="invalid_filter_field",
    )


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """A quoted value starting at text[pos]; a quote inside is escaped as \\' or doubled."""
    quote = text[pos]
    out = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
        elif ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise invalid("Unterminated quoted value in filter")


def _predicate(text: str, pos: int) -> tuple[Predicate, int]:
    m = _FIELD.match(text, pos)
    if not m:
        raise invalid("Malformed filter: expected <field><operator>'<value>'")
    field, op = m.group(1), m.group(2)
    pos = m.end()
    if pos < len(text) and text[pos] in "'\"":
        value, pos = _quoted(text, pos)
    else:
        # Some consumers leave simple values unquoted; accept them, emit the strict form ourselves.
        bare = _BARE.match(text, pos)
        if not bare:
            raise invalid("Malformed filter: missing value")
        value, pos = bare.group(0), bare.end()
    if "\x00" in value:
        raise invalid("Filter values cannot contain NUL characters")
    return Predicate(field, op, value), pos


def parse_filter(text: str) -> Filter:
    if not text or not text.strip():
        raise invalid("Empty filter")
    first, pos = _predicate(text, 0)
    if not text[pos:].strip():
        return Filter((first,))
    join = _JOIN.match(text, pos)
    if not join:
        raise invalid("Malformed filter: expected AND or OR between two predicates")
    second, pos = _predicate(text, join.end())
    if text[pos:].strip():
        raise invalid("Malformed filter: at most one AND/OR join is allowed")
    return Filter((first, second), join.group(1).upper())
