"""Records that depend on another one: DELETE's dependent-item-exists check and key-change cascades.

A record is referenced by the reference columns of other resources and by references inside their
JSONB collections (a section's classPeriods[].classPeriodReference); descriptor values by the
places usages.py lists. A key change flows into every referencing record (as the ODS cascades),
and each record it rewrites is reported to the write listeners like any other update, so the
projections built from them (the OneRoster side) follow.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gateway.db import utcnow
from gateway.edfi import documents, nested
from gateway.edfi.definitions import Reference, Resource, registry
from gateway.edfi.usages import descriptor_dependents
from gateway.errors import DependentItemExists

if TYPE_CHECKING:
    from gateway.edfi.service import ResourceService

MESSAGE = "The requested action cannot be performed because this item is referenced by an existing"


def _singular(name: str) -> str:
    for plural, single in (("ies", "y"), ("sses", "ss"), ("xes", "x"), ("ches", "ch"), ("s", "")):
        if name.endswith(plural):
            return name[: -len(plural)] + single
    return name


def dependent_message(dep: Resource, path: str) -> str:
    """The ODS/API's words for a record used by `dep` at the JSON path `path` (a reference or a
    descriptor, at the top level or inside collection items: then the item's entity is named,
    the resource's entity followed by each collection's singular name)."""
    collections = re.findall(r"\.([A-Za-z0-9]+)\[", path)
    if not collections:
        return f"{MESSAGE} '{dep.entity}' item."
    entity = _item_entity(dep.properties, collections)
    if len(collections) == 1 and entity is not None and not entity.startswith(dep.entity):
        # a collection the resource inherits from its base (every education organization's
        # categories): the ODS/API names the base's item and every type carrying it
        carriers = sorted(_carriers()[entity])
        if len(carriers) > 1:
            return (
                f"{MESSAGE} '{entity}' item contained within a resource item of one of the "
                f"following types: {', '.join(carriers)}."
            )
    item = entity or dep.entity + "".join(_singular(c[:1].upper() + c[1:]) for c in collections)
    return f"{MESSAGE} '{item}' item contained within an '{dep.entity}' resource item."


def _item_entity(properties: list[dict], collections: list[str]) -> str | None:
    """The entity of the items of the innermost collection of the path, from the definitions."""
    entity = None
    for name in collections:
        prop = next(
            (p for p in properties if p["name"] == name and p.get("kind") == "collection"), None
        )
        if prop is None:
            return None
        entity, properties = prop["item"]["entity"], prop["item"].get("properties", [])
    return entity


@cache
def _carriers() -> dict[str, set[str]]:
    """Item entity → the entities of the resources carrying a collection of it."""
    found: dict[str, set[str]] = {}
    for res in registry().resources.values():
        for prop in res.properties:
            if prop.get("kind") == "collection":
                found.setdefault(prop["item"]["entity"], set()).add(res.entity)
    return found


def target_flats(ref: Reference, target: Resource) -> list[str]:
    """The target's properties the reference's fields name (an abstract educationOrganizationId
    names the concrete target's single key)."""
    return [field if field in target.columns else target.identity[0] for field, _ in ref.fields]


def _item_condition(dep: Resource, ref: Reference, key: dict[str, Any]) -> sa.ColumnElement[bool]:
    """Records of `dep` holding a reference object with these key values (JSON) in `ref`."""
    assert ref.column is not None  # an item reference
    document = nested.containment(ref.steps, (ref.name,), key)
    return dep.table.c[ref.column].op("@>")(sa.bindparam(None, document, type_=JSONB))


def _item_key(ref: Reference, target: Resource, key: dict[str, Any]) -> dict[str, Any]:
    """Target key values (flat -> JSON value) as the reference object's fields."""
    return {f: key[t] for (f, _), t in zip(ref.fields, target_flats(ref, target), strict=True)}


def check_no_dependents(svc: ResourceService, res: Resource, row: Any) -> None:
    session, reg = svc.session, svc.registry
    for dep, ref in reg.dependents_of(res):
        dep_cols = [dep.table.c[dep.columns[flat].name] for _, flat in ref.fields]
        key = [row[res.columns[t].name] for t in target_flats(ref, res)]
        where = (c == v for c, v in zip(dep_cols, key, strict=True))
        if session.scalar(sa.select(sa.exists().where(*where))):
            raise DependentItemExists(
                dependent_message(dep, ref.path), errors=[f"Used by {dep.entity} ({ref.path})."]
            )
    if reg.item_dependents_of(res):
        key_values = documents.key_values(res, row)
        for dep, ref in reg.item_dependents_of(res):
            condition = _item_condition(dep, ref, _item_key(ref, res, key_values))
            if session.scalar(sa.select(sa.exists().where(condition))):
                raise DependentItemExists(
                    dependent_message(dep, ref.path),
                    errors=[f"Used by {dep.entity} ({ref.path})."],
                )
    if res.descriptor:
        used = descriptor_dependents(session, reg, res, row)
        if used:
            first = min(used, key=lambda u: (u.resource.entity, u.path))
            raise DependentItemExists(
                dependent_message(first.resource, first.path),
                errors=sorted({f"Used by {u.resource.entity} ({u.path})." for u in used}),
            )


def _values(dep: Resource, row: Any) -> dict[str, Any]:
    return {flat: row[c.name] for flat, c in dep.columns.items()}


def _rewrite(svc: ResourceService, dep: Resource, row_id: Any, changes: dict) -> Any:
    cv = svc._next_change_version()
    return (
        svc.session.execute(
            sa.update(dep.table)
            .where(dep.table.c.id == row_id)
            .values(**changes, change_version=cv, _etag=str(cv), _last_modified_date=utcnow())
            .returning(*dep.table.c)
        )
        .mappings()
        .one()
    )


def _rewrite_all(svc: ResourceService, dep: Resource, where: list, changes: dict) -> list[Any]:
    """One UPDATE for every row matching `where`, each row with its own change version."""
    table = dep.table
    picked = (
        sa.select(table.c.id, sa.func.nextval("change_version_seq").label("cv"))
        .where(*where)
        .cte("picked")
    )
    stmt = (
        sa.update(table)
        .where(table.c.id == picked.c.id)
        .values(
            **changes,
            change_version=picked.c.cv,
            _etag=sa.cast(picked.c.cv, sa.String),
            _last_modified_date=utcnow(),
        )
        .returning(*table.c)
    )
    return list(svc.session.execute(stmt).mappings().all())


def cascade_key_change(svc: ResourceService, res: Resource, old: dict, new: dict) -> None:
    """Key values (flat -> JSON value) of `res` changed from `old` to `new`: rewrite every record
    referencing the old ones, recursively where the reference is part of their own key."""
    from gateway.edfi.service import WriteEvent, column_value

    session = svc.session
    for dep, ref in svc.registry.dependents_of(res):
        flats = target_flats(ref, res)
        dep_cols = [dep.table.c[dep.columns[flat].name] for _, flat in ref.fields]
        where = [c == column_value(c, old[t]) for c, t in zip(dep_cols, flats, strict=True)]
        changes = {c.name: column_value(c, new[t]) for c, t in zip(dep_cols, flats, strict=True)}
        # the old key of a rewritten row: its new key with the reference's old values
        old_part = {
            flat: old[t]
            for (_, flat), t in zip(ref.fields, flats, strict=True)
            if flat in dep.identity
        }
        for after in _rewrite_all(svc, dep, where, changes):
            dep_new = documents.key_values(dep, after)
            dep_old = {**dep_new, **old_part}
            key_changed = dep_old != dep_new
            if key_changed:
                svc._record_key_change(dep, after["id"], dep_old, dep_new)
                cascade_key_change(svc, dep, dep_old, dep_new)
            svc._notify(
                WriteEvent(
                    dep.name,
                    "update",
                    after["id"],
                    _values(dep, after),
                    dep_old if key_changed else None,
                )
            )
    for dep, ref in svc.registry.item_dependents_of(res):
        old_obj, new_obj = _item_key(ref, res, old), _item_key(ref, res, new)
        assert ref.column is not None  # an item reference
        rows = session.execute(
            sa.select(dep.table.c.id, dep.table.c[ref.column]).where(
                _item_condition(dep, ref, old_obj)
            )
        ).all()
        for row_id, stored in rows:
            document = copy.deepcopy(stored)
            if nested.rewrite_references(document, ref, old_obj, new_obj):
                after = _rewrite(svc, dep, row_id, {ref.column: document})
                svc._notify(WriteEvent(dep.name, "update", row_id, _values(dep, after)))
