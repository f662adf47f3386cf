"""Reads of OneRoster collections and records: conditions, count, page, serialise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from gateway.errors import NotFound
from gateway.oneroster.catalogue import Nested, View, catalogue
from gateway.oneroster.query import Query, parse_query
from gateway.oneroster.relations import nested_condition, reach_condition
from gateway.oneroster.serialize import serializer_for


@dataclass(frozen=True)
class Reach:
    """The client's organization reach, as gateway.auth.access.org_scope() gives it."""

    unrestricted: bool
    sourced_ids: frozenset[str]


@dataclass
class Page:
    docs: list[str]  # each record's JSON text
    total: int
    query: Query
    sourced_ids: list[str]  # for the audit trail


MAX_SOURCED_ID = 255  # the width of every sourced_id column


def storable(sourced_id: str) -> bool:
    """Whether a sourcedId could be stored at all (one that cannot, cannot exist)."""
    return 0 < len(sourced_id) <= MAX_SOURCED_ID and "\x00" not in sourced_id


def unknown_object(what: str, sourced_id: str) -> NotFound:
    return NotFound(f"{what} {sourced_id[:MAX_SOURCED_ID]} not found", code_minor="unknown object")


def view_conditions(view: View, reach: Reach) -> list[Any]:
    entity = view.entity
    conditions = [entity.table.c[entity.fields[k].column_name] == v for k, v in view.where.items()]
    conditions.append(reach_condition(entity, reach.unrestricted, reach.sourced_ids))
    return conditions


def _exists(view: View, sourced_id: str, reach: Reach, extra: Sequence[Any] = ()) -> Any:
    table = view.entity.table
    return (
        select(table.c.sourced_id)
        .where(table.c.sourced_id == sourced_id, *view_conditions(view, reach), *extra)
        .exists()
    )


def exists_in_view(
    session: Session, view: View, sourced_id: str, reach: Reach, extra: Sequence[Any] = ()
) -> bool:
    if not storable(sourced_id):
        return False
    return bool(session.execute(select(_exists(view, sourced_id, reach, extra))).scalar())


def parent_checks(nested: Nested, ids: Mapping[str, str], reach: Reach) -> list[tuple[View, Any]]:
    """Each parent must exist, be visible to the client and sit inside the previous parent."""
    views = catalogue().views
    checks = []
    for parent in nested.parents:
        view = views[parent.view]
        if not storable(ids[parent.param]):
            raise unknown_object(view.entity.single, ids[parent.param])
        extra = []
        if parent.within_field and parent.within_param:
            column = view.entity.fields[parent.within_field].column_name
            extra.append(view.entity.table.c[column] == ids[parent.within_param])
        checks.append((view, _exists(view, ids[parent.param], reach, extra)))
    return checks


def list_page(
    session: Session,
    view: View,
    args: Mapping[str, str],
    reach: Reach,
    *,
    base_url: str,
    max_limit: int,
    hidden: frozenset[str],
    nested: Nested | None = None,
    ids: Mapping[str, str] | None = None,
) -> Page:
    entity = view.entity
    table = entity.table
    query = parse_query(entity, args, max_limit=max_limit, hidden=hidden)
    parents = parent_checks(nested, ids or {}, reach) if nested is not None else []
    conditions = view_conditions(view, reach) + query.where
    if nested is not None:
        conditions += [nested_condition(entity, rel, dict(ids or {})) for rel in nested.where]

    serializer = serializer_for(entity.name, tuple(query.fields), base_url)
    # Deferred join: the offset is skipped over the narrow (index-only) key list, and only the
    # page's rows are read in full, so deep pages cost little more than shallow ones.
    keys = (
        select(table.c.sourced_id)
        .where(*conditions)
        .order_by(*query.order_by)
        .offset(query.offset)
        .limit(query.limit)
        .subquery("page")
    )
    page = (
        select(
            func.array_to_string(
                func.array_agg(aggregate_order_by(serializer.expression, *query.order_by)), ","
            ).label("docs"),
            func.array_agg(table.c.sourced_id).label("ids"),
        )
        .join_from(table, keys, table.c.sourced_id == keys.c.sourced_id)
        .subquery("docs")
    )
    total = select(func.count()).select_from(table).where(*conditions).scalar_subquery()
    # One round trip: the parents' existence, the count and the page's documents as one JSON text.
    row = session.execute(
        select(total.label("total"), page.c.docs, page.c.ids, *(check for _view, check in parents))
    ).one()
    for (parent_view, _check), found, parent in zip(
        parents, row[3:], nested.parents if nested else (), strict=True
    ):
        if not found:
            raise unknown_object(parent_view.entity.single, (ids or {})[parent.param])
    return Page([row.docs] if row.docs else [], row.total, query, row.ids or [])


def get_one(
    session: Session,
    view: View,
    sourced_id: str,
    args: Mapping[str, str],
    reach: Reach,
    *,
    base_url: str,
    hidden: frozenset[str],
) -> tuple[str, Query]:
    entity = view.entity
    # Only `fields` applies to a single record; the rest of the query language is ignored.
    query = parse_query(
        entity, {k: v for k, v in args.items() if k == "fields"}, max_limit=1, hidden=hidden
    )
    serializer = serializer_for(entity.name, tuple(query.fields), base_url)
    stmt = select(serializer.column).where(
        entity.table.c.sourced_id == sourced_id, *view_conditions(view, reach)
    )
    doc = session.execute(stmt).scalar() if storable(sourced_id) else None
    if doc is None:
        raise unknown_object(entity.single, sourced_id)
    return doc, query
