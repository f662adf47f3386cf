"""Set-based deletes of the Ed-Fi records linked to OneRoster records marked `tobedeleted`.

They follow the Ed-Fi service's DELETE: a record still referenced by another one stays (the reason
names the first dependent, as DELETE's dependent-item-exists error does); a deleted record leaves
a tombstone in `edfi_tracked_changes` with its key values and the organizations it reached, so
`/deletes` and change queries show it; its link keeps the sourcedId for its natural key. Records
referenced only by other records deleted in the same run go too: the checks repeat until nothing
more can go, which lets a district and its schools be deleted in one package.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from gateway.edfi import documents, nested, security
from gateway.edfi.definitions import Resource, registry
from gateway.edfi.dependents import _item_key, dependent_message, target_flats
from gateway.mapping.links import EDUCATION_ORGANIZATIONS, mapping_links, table_of
from gateway.mapping.to_edfi.bulk_writes import link_resource_of, natural_key_sql, q


def delete_linked(
    session: Session,
    links: list[tuple[str, str, uuid.UUID]],
    now: datetime,
    owned_by: str | None = None,
) -> dict[str, str]:
    """Delete the Ed-Fi rows of (sourcedId, link resource, Ed-Fi id) links; returns
    {sourcedId: reason} for those whose record stays. `owned_by` (an origin): first delete the
    rows of that origin no link holds that reference them (a moved school's associations and
    course offerings, re-projected against the new school), dependents first."""
    reg = registry()
    by_resource: dict[str, dict[uuid.UUID, list[str]]] = defaultdict(lambda: defaultdict(list))
    for sourced, link_resource, row_id in links:
        names = (
            EDUCATION_ORGANIZATIONS
            if link_resource == "educationOrganizations"
            else [link_resource]
        )
        for name in names:
            by_resource[name][row_id].append(sourced)
    kept: dict[str, str] = {}
    for name, rows in by_resource.items():
        res = reg.resources[name]
        existing = set(
            session.scalars(sa.select(table_of(res).c.id).where(table_of(res).c.id.in_(list(rows))))
        )
        if owned_by is not None and existing:
            _delete_unlinked_dependents(session, res, existing, now, owned_by)
        blocked = delete_rows(session, res, existing, now)
        for row_id, reason in blocked.items():
            for sourced in rows[row_id]:
                kept[sourced] = f"the Ed-Fi {res.entity} stays: {reason}"
    return kept


def delete_rows(
    session: Session, res: Resource, ids: set[uuid.UUID], now: datetime
) -> dict[uuid.UUID, str]:
    """Delete what can go; returns {row id: reason} for the rows that stay."""
    todo = set(ids)
    while todo:
        blocked = _blocked(session, res, todo)
        free = todo - set(blocked)
        if not free:
            return blocked
        _delete(session, res, free, now)
        todo = set(blocked)
    return {}


def _delete_unlinked_dependents(
    session: Session, res: Resource, ids: set[uuid.UUID], now: datetime, origin: str
) -> None:
    """Delete the rows of `origin` that no link holds and that reference rows `ids` of `res`,
    theirs first; one still referenced otherwise stays (and keeps its target)."""
    table = table_of(res)
    id_list = sa.bindparam("ids", list(ids), type_=ARRAY(UUID(as_uuid=True)))
    for dep, ref in registry().dependents_of(res):
        dep_t = table_of(dep)
        found = set(
            session.scalars(
                sa.select(dep_t.c.id).where(
                    dep_t.c.origin == origin,
                    ~sa.exists().where(mapping_links.c.edfi_id == dep_t.c.id),
                    sa.exists().where(
                        table.c.id == sa.func.any(id_list),
                        *(d == t for d, t in _reference_pairs(dep, dep_t, ref, res)),
                    ),
                )
            )
        )
        if found:
            _delete_unlinked_dependents(session, dep, found, now, origin)
            delete_rows(session, dep, found, now)


def _reference_pairs(
    dep: Resource, dep_t: sa.FromClause, ref: Any, res: Resource
) -> list[tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]]:
    """(dependent column, referenced column) of `dep`'s reference `ref` to `res`."""
    table = table_of(res)
    return [
        (dep_t.c[dep.columns[flat].name], table.c[res.columns[t].name])
        for (_, flat), t in zip(ref.fields, target_flats(ref, res), strict=True)
    ]


def _blocked(session: Session, res: Resource, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Rows referenced by another record, each with the dependent-item-exists message of the
    first dependent resource found (the service's order)."""
    reg = registry()
    table = table_of(res)
    out: dict[uuid.UUID, str] = {}
    id_list = sa.bindparam("ids", list(ids), type_=ARRAY(UUID(as_uuid=True)))
    for dep, ref in reg.dependents_of(res):
        left = [i for i in ids if i not in out]
        if not left:
            break
        pairs = _reference_pairs(dep, table_of(dep).alias("d"), ref, res)
        found = session.scalars(
            sa.select(table.c.id).where(
                table.c.id == sa.func.any(id_list),
                sa.exists().where(*(d == t for d, t in pairs)),
            )
        ).all()
        for row_id in found:
            out.setdefault(row_id, dependent_message(dep, ref.path))
    item_dependents = reg.item_dependents_of(res)
    if item_dependents:
        rows = session.execute(sa.select(table).where(table.c.id.in_(list(ids)))).mappings().all()
        keys = {row["id"]: documents.key_values(res, row) for row in rows}
        for dep, ref in item_dependents:
            # one containment test per dependent for all rows: the document each row's
            # reference object would be inside the dependent's collection column
            left = [i for i in keys if i not in out]
            assert ref.column is not None  # an item reference
            found = session.scalars(
                sa.text(
                    "SELECT c.id FROM unnest(:ids, :docs) AS c(id, doc) WHERE EXISTS (SELECT 1 "
                    f"FROM {q(table_of(dep).name)} d WHERE d.{q(ref.column)} @> c.doc::jsonb)"
                ).bindparams(
                    sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
                    sa.bindparam("docs", type_=ARRAY(sa.Text)),
                ),
                {
                    "ids": left,
                    "docs": [
                        json.dumps(
                            nested.containment(ref.steps, (ref.name,), _item_key(ref, res, keys[i]))
                        )
                        for i in left
                    ],
                },
            ).all()
            for row_id in found:
                out.setdefault(row_id, dependent_message(dep, ref.path))
    return out


def _delete(session: Session, res: Resource, ids: set[uuid.UUID], now: datetime) -> None:
    """One DELETE and one tombstone per row (change version, key values, organizations); the
    row's link keeps its sourcedId for its natural key (stored now: a live link has none)."""
    edorgs = edorg_ids_of(session, res, ids)
    id_list = list(ids)
    link_resource = link_resource_of(res.name)
    session.execute(
        sa.text(
            f"WITH gone AS (DELETE FROM {q(table_of(res).name)} t WHERE t.id = ANY(:ids) "
            f"RETURNING t.id, {natural_key_sql(res, res.name)} AS key_values, "
            f"{natural_key_sql(res, link_resource)} AS link_key), "
            "orphaned AS (UPDATE mapping_links l SET edfi_id = NULL, natural_key = g.link_key "
            "FROM gone g WHERE l.edfi_resource = :link_resource AND l.edfi_id = g.id), "
            "reach AS (SELECT * FROM unnest(:eids, :edorgs) AS r(id, edorg_ids)) "
            "INSERT INTO edfi_tracked_changes (change_version, resource, kind, id, "
            "old_key_values, edorg_ids, created_at) "
            "SELECT nextval('change_version_seq'), :resource, 'delete', g.id, g.key_values, "
            "COALESCE(r.edorg_ids::jsonb, '[]'::jsonb), :now FROM gone g "
            "LEFT JOIN reach r ON r.id = g.id"
        ).bindparams(
            sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
            sa.bindparam("eids", type_=ARRAY(UUID(as_uuid=True))),
            sa.bindparam("edorgs", type_=ARRAY(sa.Text)),
        ),
        {
            "ids": id_list,
            "eids": id_list,
            "edorgs": [json.dumps(edorgs.get(i, [])) for i in id_list],
            "resource": res.name,
            "link_resource": link_resource,
            "now": now,
        },
    )


def edorg_ids_of(
    session: Session, res: Resource, ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[int]]:
    """The organizations each stored row reaches, kept with its tombstone so /deletes can be
    authorized (the Ed-Fi service's own rule walk)."""
    return security.edorg_ids_of(session, registry(), res, ids)
