"""Drift between the Ed-Fi tables and their OneRoster projection.

The check rebuilds every projected record inside a transaction it then rolls back: a rebuild that
changes a row means that row had drifted (or was missing); an active Ed-Fi-born OneRoster record the
rebuild did not produce has lost its Ed-Fi source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.mapping import store
from gateway.mapping.projection import Projector

ENTITIES = (
    "org",
    "user",
    "demographics",
    "academicSession",
    "course",
    "class",
    "enrollment",
    "category",
    "lineItem",
    "result",
)


@dataclass
class Drift:
    differing: dict[str, int] = field(default_factory=dict)  # missing or different
    orphaned: dict[str, list[str]] = field(default_factory=dict)  # no Ed-Fi source any more

    @property
    def clean(self) -> bool:
        return not any(self.differing.values()) and not any(self.orphaned.values())

    def lines(self) -> list[str]:
        out = []
        for entity in ENTITIES:
            n, lost = self.differing.get(entity, 0), self.orphaned.get(entity, [])
            out.append(f"{entity}: {n} missing or different, {len(lost)} without an Ed-Fi source")
            out.extend(f"  orphaned {entity} {sid}" for sid in lost[:20])
        return out


def check(session: Session, repair: bool = False) -> Drift:
    """Compare both sides; with `repair` keep the rebuild (the caller commits)."""
    savepoint = session.begin_nested()
    projector = Projector(session)
    projector.rebuild_all()
    drift = Drift(differing=dict(projector.changed))
    for entity in ENTITIES:
        table = store.entity(entity).table
        active = session.scalars(
            sa.select(table.c.sourced_id).where(
                table.c.origin == "edfi", table.c.status == "active"
            )
        )
        drift.orphaned[entity] = sorted(set(active) - projector.produced[entity])
    if repair:
        for entity, lost in drift.orphaned.items():
            store.tombstone(session, entity, lost)
        savepoint.commit()
    else:
        savepoint.rollback()
    return drift
