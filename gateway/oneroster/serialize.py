"""Rows to OneRoster JSON, straight from Core result tuples (no ORM objects for large pages)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from gateway.oneroster.catalogue import Entity, Field, catalogue


def format_datetime(value: dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds, e.g. 2026-01-15T10:01:02.123Z."""
    utc = value.astimezone(dt.UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _selectable(entity: Entity, f: Field) -> Any:
    if f.link is None:
        return entity.table.c[f.column]
    link = entity.table.metadata.tables[f.link["table"]].alias(f"link_{f.name}")
    value = link.c[f.link["value"]]
    return (
        select(
            func.coalesce(
                func.jsonb_agg(aggregate_order_by(value, value)), func.jsonb_build_array()
            )
        )
        .where(link.c[f.link["key"]] == entity.table.c.sourced_id)
        .scalar_subquery()
        .label(f"link_{f.name}")
    )


def _converter(f: Field, base_url: str) -> Callable[[Any], Any] | None:
    if f.kind == "datetime":
        return format_datetime
    if f.kind == "date":
        return dt.date.isoformat
    if f.kind in ("ref", "ref_list"):
        prefix = f"{base_url}/{catalogue().hrefs[f.target]}/"
        target = f.target

        def ref(sourced_id: str) -> dict[str, str]:
            return {"href": prefix + sourced_id, "sourcedId": sourced_id, "type": target}

        if f.kind == "ref":
            return ref
        return lambda ids: [ref(i) for i in ids]
    return None


class Serializer:
    """Selects the columns for the requested fields and turns each row into a dict."""

    def __init__(self, entity: Entity, fields: Sequence[str], base_url: str) -> None:
        chosen = [entity.fields[name] for name in fields]
        self.columns = [_selectable(entity, f) for f in chosen]
        self._plan = [(f.name, _converter(f, base_url)) for f in chosen]

    def row(self, row: Sequence[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (name, convert), value in zip(self._plan, row, strict=True):
            if value is None:
                continue  # absent optional fields are omitted rather than sent as null
            out[name] = convert(value) if convert else value
        return out

    def rows(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        return [self.row(r) for r in rows]
