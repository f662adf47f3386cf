"""Who may write the shared catalogue: records of no organization of their own (categories,
resources) that records of many organizations name.

A client that reaches every organization writes them freely. A client limited to some
organizations may create one, and may replace or delete one only while no record outside its reach
names it (a lineItem of another district's class, another district's class or course resources):
else one district could rename or remove what another district's gradebook and classes show. The
REST gradebook writes answer 403 (imsx `forbidden`); the CSV import reports the row.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, not_, select, union_all

from gateway.db import Base
from gateway.oneroster.catalogue import Entity, catalogue
from gateway.oneroster.relations import reach_condition

IN_USE = (
    "is shared with other organizations' records; only a client that reaches every "
    "organization may change or delete it"
)


def used_outside(entity: Entity, org_ids: frozenset[str]) -> Select | None:
    """SELECT of the `entity` sourcedIds (one column, `sourced_id`) that a record outside the
    organizations `org_ids` names; None when `entity` is not shared."""
    if entity.reach is not None:
        return None
    parts = []
    for other in catalogue().entities.values():
        if other.reach is None:
            continue
        outside = [not_(reach_condition(other, False, org_ids))]
        if "status" in other.table.c:
            outside.append(other.table.c.status != "tobedeleted")
        for f in other.fields.values():
            if f.target != entity.name:
                continue
            if f.kind == "ref" and f.column is not None:
                column = other.table.c[f.column]
                parts.append(select(column.label("sourced_id")).where(*outside))
            elif f.link is not None:
                link = Base.metadata.tables[f.link["table"]]
                owners = select(other.table.c.sourced_id).where(*outside)
                parts.append(
                    select(link.c[f.link["value"]].label("sourced_id")).where(
                        link.c[f.link["key"]].in_(owners)
                    )
                )
    if not parts:
        return None
    return select(union_all(*parts).subquery().c.sourced_id).distinct()


def in_use_outside(
    session, entity: Entity, sourced_ids: Iterable[str], org_ids: frozenset[str]
) -> set[str]:
    """Which of `sourced_ids` a record outside `org_ids` names."""
    query = used_outside(entity, org_ids)
    wanted = sorted(set(sourced_ids))
    if query is None or not wanted:
        return set()
    sub = query.subquery()
    return set(session.scalars(select(sub.c.sourced_id).where(sub.c.sourced_id.in_(wanted))))
