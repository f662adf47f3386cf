"""Reads of OneRoster collections and records: conditions, count, page, serialise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Text, and_, bindparam, false, func, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gateway.auth import row_security
from gateway.errors import UNKNOWN_OBJECT, NotFound
from gateway.oneroster.catalogue import Entity, Nested, View, catalogue
from gateway.oneroster.counts import nudge_compactor, stored_total
from gateway.oneroster.documents import document, documents
from gateway.oneroster.prepared import fetch_row
from gateway.oneroster.query import Query, parse_query
from gateway.oneroster.relations import constant, nested_condition, reach_condition, reach_in


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
    return NotFound(f"{what} {sourced_id[:MAX_SOURCED_ID]} not found", code_minor=UNKNOWN_OBJECT)


def _view_where(view: View) -> list[Any]:
    entity = view.entity
    return [
        entity.table.c[entity.fields[k].column_name] == constant(v) for k, v in view.where.items()
    ]


def view_conditions(view: View, reach: Reach) -> list[Any]:
    return [
        *_view_where(view),
        reach_condition(view.entity, reach.unrestricted, reach.sourced_ids),
    ]


# The client's organizations, bound as one text[] parameter of a precompiled statement.
_REACH_IDS: Any = bindparam("reach_ids", value=None, type_=ARRAY(Text))


def _reach_kind(session: Session, reach: Reach) -> str:
    """all: no limit; none: reaches nothing; secured: the database's row-level security keeps
    the rows to the client's organizations (gateway.auth.row_security); some: the statement must.

    Where the database enforces the reach, the statement does not repeat it: PostgreSQL cannot
    see the organizations of either condition when it plans, guesses each keeps 1% of the rows
    and multiplies the guesses, so with both it expects a handful of users and sorts every user
    a district-wide client reaches before taking a page (250 ms a page of 100, 50,000 users);
    the policy alone gets the plan the application's condition alone had."""
    if reach.unrestricted:
        return "all"
    if not reach.sourced_ids:
        return "none"
    return "secured" if row_security.available(session.get_bind().engine) else "some"


def _live(entity: Entity) -> list[Any]:
    """Plain reads of an entity whose deletions only delta readers see leave tombstones out."""
    if not entity.deleted_in_delta_only:
        return []
    return [entity.table.c.status != constant("tobedeleted")]


def _reads_changes(query: Query) -> bool:
    """A delta read: it filters on dateLastModified or status, so it sees tombstones."""
    return any(c.field.name in ("dateLastModified", "status") for c in query.conditions)


def _bound_view_conditions(view: View, reach_kind: str, *, live: bool = True) -> list[Any]:
    """view_conditions with the reach as the `reach_ids` parameter (or left to the database);
    `live`: without the tombstones plain reads leave out."""
    conditions = _view_where(view) + (_live(view.entity) if live else [])
    if view.entity.reach is not None and reach_kind in ("some", "none"):
        conditions.append(reach_in(view.entity, _REACH_IDS) if reach_kind == "some" else false())
    return conditions


def _reach_params(reach_kind: str, reach: Reach) -> dict[str, Any]:
    """The client's organizations, for the reach condition ("some") and the stored counts."""
    return {"reach_ids": sorted(reach.sourced_ids)} if reach_kind in ("some", "secured") else {}


def _row_security_org_ids(
    reach: Reach,
    entity: Entity,
    nested: Nested | None = None,
    params: Mapping[str, Any] | None = None,
) -> frozenset[str] | None:
    """The organizations the database's row-level security lets this read see; None for a
    client that reaches every organization.

    A nested path that ties the rows' own organization to the path's (/schools/{id}/students
    holds only users of that school) needs no other organization. The narrower set lets the
    policy's index condition pick that school's rows: PostgreSQL cannot use the path's own
    condition for it (jsonb @> is not leakproof, so under RLS it is checked only after the
    policy), and with a district's every school the policy alone would select all users."""
    if reach.unrestricted:
        return None
    if nested is not None and entity.reach is not None and entity.reach[0] in ("in", "overlaps"):
        for kind, *args in nested.where:
            if kind in ("equals", "contains") and args[0] == entity.reach[1]:
                return reach.sourced_ids & {(params or {})[f"path_{args[1]}"]}
    return reach.sourced_ids


def _exists(view: View, sourced_id: Any, conditions: Sequence[Any], extra: Sequence[Any]) -> Any:
    table = view.entity.table
    return select(table.c.sourced_id).where(table.c.sourced_id == sourced_id, *conditions, *extra)


def exists_in_view(
    session: Session, view: View, sourced_id: str, reach: Reach, extra: Sequence[Any] = ()
) -> bool:
    if not storable(sourced_id):
        return False
    found = _exists(view, sourced_id, view_conditions(view, reach), extra).exists()
    return bool(session.execute(select(found)).scalar())


def _path_id(param: str) -> Any:
    return bindparam(f"path_{param}", value=None, type_=Text)


def _parent_checks(nested: Nested, reach_kind: str) -> list[Any]:
    """Each parent must exist, be visible to the client and sit inside the previous parent."""
    views = catalogue().views
    checks = []
    for parent in nested.parents:
        view = views[parent.view]
        extra = []
        if parent.within_field and parent.within_param:
            column = view.entity.fields[parent.within_field].column_name
            extra.append(view.entity.table.c[column] == _path_id(parent.within_param))
        conditions = _bound_view_conditions(view, reach_kind)
        checks.append(_exists(view, _path_id(parent.param), conditions, extra).exists())
    return checks


def _whole_view_total(view: View, query: Query, reach_kind: str, nested: Nested | None) -> Any:
    """The stored count when the page's rows are the whole view (no filter, no parent), or the
    whole view within the client's organizations where the counts are kept per organization;
    else None. tobedeleted rows are in both the page and the count."""
    if query.conditions or nested is not None or view.entity.deleted_in_delta_only:
        return None  # (the stored counts include tombstones)
    if reach_kind == "all" or view.entity.reach is None:
        return stored_total(view)
    if reach_kind == "none":
        return None
    return stored_total(view, _REACH_IDS)  # the figures of the client's organizations


def _page_keys(entity: Entity, conditions: list[Any], query: Query, stored: Any) -> Any:
    """The page's sourcedIds, as a subquery named `page`.

    Deferred join: the offset is skipped over the narrow (index-only) key list, and only the
    page's rows are read in full. With the stored count of the whole view, a page in the second
    half is read from the end instead (the order reversed, the offset counted from the last row),
    so no page skips more than half the keys; of the two branches, the one whose condition fails
    is never run (the condition holds no column, PostgreSQL tests it once, before the branch)."""
    table = entity.table
    offset = bindparam("page_offset", value=None, type_=Integer)
    limit = bindparam("page_limit", value=None, type_=Integer)
    keys = select(table.c.sourced_id).where(*conditions)
    forward = keys.order_by(*query.order_by(entity)).offset(offset).limit(limit)
    if stored is None:
        return forward.subquery("page")
    backward = (
        keys.order_by(*query.order_by(entity, reverse=True))
        .offset(func.greatest(stored - offset - limit, 0))
        .limit(limit)
        .subquery("back")
    )
    # The last page can be short: its rows are the first `stored - offset` read backwards. The
    # inner LIMIT stays the plain parameter, so the planner still expects a page-sized list and
    # joins it to the rows by primary key.
    last = func.greatest(func.least(limit, stored - offset), 0)
    front = forward.subquery("front")
    return union_all(
        select(front.c.sourced_id).where(offset <= stored - offset),
        select(backward.c.sourced_id).where(offset > stored - offset).limit(last),
    ).subquery("page")


def _page_rows(table: Any, keys: Any, conditions: list[Any], dense: bool) -> Any:
    """The page's rows, from its keys.

    `dense`: in sourcedId order, nearly every row meets the conditions (a whole collection, not a
    typed view of it, for a client that reaches every organization). The page is then every row
    between its first and last key that meets them again: one short range of the primary key,
    which the generic plan of a prepared page also reads by the index (joined to the key list,
    that plan, which expects a LIMIT to keep a tenth of the rows, hashes the whole table for every
    page of 5000). Where the page's rows are scattered (a filter, a typed view, a parent, a
    client's organizations, another sort) the range would hold far more rows than the page, so
    they are joined by key."""
    if not dense:
        return table.join(keys, table.c.sourced_id == keys.c.sourced_id)
    bounds = select(
        func.min(keys.c.sourced_id).label("low"), func.max(keys.c.sourced_id).label("high")
    ).subquery("bounds")
    in_range = table.c.sourced_id.between(bounds.c.low, bounds.c.high)
    return bounds.join(table, and_(in_range, *conditions))


def _page_statement(view: View, query: Query, reach_kind: str, nested: Nested | None) -> Any:
    entity = view.entity
    table = entity.table
    live = not _reads_changes(query)
    conditions = _bound_view_conditions(view, reach_kind, live=live) + query.where(entity)
    if nested is not None:
        path_ids = {parent.param: _path_id(parent.param) for parent in nested.parents}
        conditions += [nested_condition(entity, rel, path_ids) for rel in nested.where]
    order_by = query.order_by(entity)
    stored = _whole_view_total(view, query, reach_kind, nested)
    keys = _page_keys(entity, conditions, query, stored)
    dense = (
        query.sort is None
        and not query.conditions
        and not view.where  # a typed view (/teachers, /schools) is a scattered part of its table
        and nested is None
        and reach_kind == "all"
    )
    page = (
        select(
            documents(entity, query.fields, order_by).label("docs"),
            func.array_agg(table.c.sourced_id).label("ids"),
        )
        .select_from(_page_rows(table, keys, conditions, dense))
        .subquery("docs")
    )
    total = stored
    if total is None:
        total = select(func.count()).select_from(table).where(*conditions).scalar_subquery()
    parents = _parent_checks(nested, reach_kind) if nested is not None else []
    # One round trip: the parents' existence, the count and the page's documents as one JSON text.
    return select(total.label("total"), page.c.docs, page.c.ids, *parents)


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
    query = parse_query(view.entity, args, max_limit=max_limit, hidden=hidden)
    kind = _reach_kind(session, reach)
    params = {"href_base": base_url, **query.params(), **_reach_params(kind, reach)}
    parents = nested.parents if nested is not None else ()
    for parent in parents:
        sourced_id = (ids or {})[parent.param]
        if not storable(sourced_id):
            raise unknown_object(catalogue().views[parent.view].entity.single, sourced_id)
        params[f"path_{parent.param}"] = sourced_id
    shape = ("page", view.name, nested.path if nested else None, query.shape(), kind)
    # A generic plan knows neither LIMIT/OFFSET (it assumes 10% of the rows are wanted) nor how
    # selective a filter, a parent or a client's organizations are: for those it can pick a scan
    # of the whole collection where the values call for an index look-up. A plain collection is
    # an index walk whatever the values, so only it keeps one prepared plan.
    plain = not query.conditions and nested is None and kind != "some"
    row = fetch_row(
        session,
        shape,
        lambda: _page_statement(view, query, kind, nested),
        params,
        prepare=plain,
        org_ids=_row_security_org_ids(reach, view.entity, nested, params),
    )
    assert row is not None  # an aggregate always gives one row
    if plain:  # it may have summed the stored count's appended rows: have them folded soon
        nudge_compactor()
    total, docs, sourced_ids, *found = row
    for parent, exists in zip(parents, found, strict=True):
        if not exists:
            entity = catalogue().views[parent.view].entity
            raise unknown_object(entity.single, params[f"path_{parent.param}"])
    return Page([docs] if docs else [], total, query, sourced_ids or [])


def _record_statement(view: View, fields: tuple[str, ...], reach_kind: str) -> Any:
    entity = view.entity
    return select(document(entity, fields).label("doc")).where(
        entity.table.c.sourced_id == _path_id("sourced_id"),
        *_bound_view_conditions(view, reach_kind),
    )


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
    if not storable(sourced_id):
        raise unknown_object(entity.single, sourced_id)
    fields, kind = tuple(query.fields), _reach_kind(session, reach)
    params = {"href_base": base_url, "path_sourced_id": sourced_id, **_reach_params(kind, reach)}
    row = fetch_row(
        session,
        ("record", view.name, fields, kind),
        lambda: _record_statement(view, fields, kind),
        params,
        prepare=True,  # a primary-key look-up whatever the values
        org_ids=_row_security_org_ids(reach, entity),
    )
    if row is None:
        raise unknown_object(entity.single, sourced_id)
    return row[0], query
