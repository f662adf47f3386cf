"""Drift between the Ed-Fi tables and their OneRoster projection, in both directions.

Ed-Fi → OneRoster: the check rebuilds every projected record inside a transaction it then rolls
back: a rebuild that changes a row means that row had drifted (or was missing); an active
Ed-Fi-born OneRoster record the rebuild did not produce has lost its Ed-Fi source.

OneRoster → Ed-Fi: the same idea with the existing reverse projection. The Ed-Fi rows of OneRoster
origin are fingerprinted (every column but the system ones), every active OneRoster-born record is
projected again, and the rows are fingerprinted once more: a row the projection created was
missing, a row whose fingerprint moved differed in a field the projection fills (fields OneRoster
does not carry are never rewritten, so they cannot count as drift), and a row of OneRoster origin
the projection did not write any more has lost its OneRoster source.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.auth import org_ids
from gateway.edfi.definitions import SYSTEM_COLUMNS, registry
from gateway.mapping import store
from gateway.mapping.links import table_of
from gateway.mapping.origin import EDFI_FROM_ONEROSTER, projecting
from gateway.mapping.to_edfi.bulk import ORDER, project_import
from gateway.mapping.to_edfi.bulk_passes import twins_sql
from gateway.mapping.to_edfi.per_record import OneRosterProjector
from gateway.mapping.to_oneroster.project import Projector

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
# OneRoster origins whose records the reverse projection places in Ed-Fi: the CSV import projects
# rostering data, the REST gradebook writes project lineItems and results (as they do on write).
ROSTER_ORIGINS = ("oneroster-csv", "oneroster-rest")
GRADEBOOK_ORIGINS = ("oneroster-rest",)
# A row's fingerprint: its columns less the ones every write rewrites.
_VOLATILE = tuple(c for c in SYSTEM_COLUMNS if c != "origin")

Fingerprints = dict[uuid.UUID, tuple[int, str]]  # Ed-Fi row id → (change version, fingerprint)


@dataclass
class Drift:
    differing: dict[str, int] = field(default_factory=dict)  # missing or different
    # every drifting record named: "different user u-1 givenName: 'X' stored, 'Y' projected"
    details: list[str] = field(default_factory=list)
    orphaned: dict[str, list[str]] = field(default_factory=dict)  # no Ed-Fi source any more
    # the OneRoster → Ed-Fi direction, by Ed-Fi resource
    edfi_missing: dict[str, int] = field(default_factory=dict)
    edfi_differing: dict[str, int] = field(default_factory=dict)
    edfi_orphaned: dict[str, list[str]] = field(default_factory=dict)  # Ed-Fi ids
    # one id held by education organizations of different kinds (gateway.auth.org_ids)
    collisions: list[str] = field(default_factory=list)
    # people of one kind sharing an identifier (stored before the CSV import refused it)
    twins: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the comparison could not finish

    @property
    def clean(self) -> bool:
        if self.collisions or self.twins or self.stopped:
            return False
        return not any(
            any(counts.values())
            for counts in (
                self.differing,
                self.orphaned,
                self.edfi_missing,
                self.edfi_differing,
                self.edfi_orphaned,
            )
        )

    @property
    def unrepairable(self) -> int:
        """Ed-Fi rows whose OneRoster source is gone: the projection never deletes Ed-Fi data on
        its own (only a OneRoster delete it sees does), so `--repair` leaves them."""
        return sum(len(ids) for ids in self.edfi_orphaned.values())

    def lines(self) -> list[str]:
        out = [*self.collisions, *self.twins]
        if self.stopped:
            out.append(f"the comparison stopped: {self.stopped}")
            return out
        for entity in ENTITIES:
            n, lost = self.differing.get(entity, 0), self.orphaned.get(entity, [])
            out.append(f"{entity}: {n} missing or different, {len(lost)} without an Ed-Fi source")
            out.extend(f"  orphaned {entity} {sid}" for sid in lost[:20])
        resources = sorted({*self.edfi_missing, *self.edfi_differing, *self.edfi_orphaned})
        for resource in resources:
            lost = self.edfi_orphaned.get(resource, [])
            out.append(
                f"Ed-Fi {resource}: {self.edfi_missing.get(resource, 0)} missing, "
                f"{self.edfi_differing.get(resource, 0)} different, "
                f"{len(lost)} without a OneRoster source"
            )
            out.extend(f"  orphaned Ed-Fi {resource} {row_id}" for row_id in lost[:20])
        if not resources:
            out.append("Ed-Fi records of OneRoster origin: none drifted")
        out.extend(f"  {detail}" for detail in self.details)
        return out


def check(session: Session, repair: bool = False) -> Drift:
    """Compare both sides; with `repair` keep the rebuilds (the caller commits)."""
    drift = Drift()
    drift.collisions = [
        f"{what}: identifier {identifier} is already the id of {holder}"
        for what, identifier, holder in session.execute(sa.text(org_ids.collisions_sql()))
    ]
    drift.twins = [
        f"two people, one Ed-Fi {kind}: users {', '.join(ids)} share identifier {identifier} "
        "(not projected into Ed-Fi, never merged: give each its own identifier)"
        for identifier, kind, ids in session.execute(sa.text(twins_sql()))
    ]
    savepoint = session.begin_nested()
    try:
        _check_edfi_side(session, drift)
        _check_oneroster_side(session, drift, repair)
    except sa.exc.DBAPIError as exc:
        # Data the projections cannot place (two organizations with one id) stops them: the
        # report says so instead of a traceback, and nothing is repaired.
        savepoint.rollback()
        drift.stopped = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        return drift
    if repair:
        savepoint.commit()
    else:
        savepoint.rollback()
    return drift


def _check_oneroster_side(session: Session, drift: Drift, repair: bool) -> None:
    _snapshot(
        session,
        [
            (entity, sa.text(f"SELECT sourced_id, {ONEROSTER_CONTENT} FROM {table} t"))
            for entity in ENTITIES
            for table in (store.entity(entity).table.name,)
        ],
    )
    projector = Projector(session)
    projector.rebuild_all()
    drift.differing = dict(projector.changed)
    for entity in ENTITIES:
        if projector.changed.get(entity):
            drift.details.extend(_oneroster_differences(session, entity))
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


def _check_edfi_side(session: Session, drift: Drift) -> None:
    """Re-run the OneRoster → Ed-Fi projection over every active OneRoster-born record and see
    which Ed-Fi rows it had to create or change, and which of OneRoster origin it no longer
    writes. Runs before the Ed-Fi → OneRoster rebuild, which then sees the repaired Ed-Fi rows."""
    resources = _projected_resources()
    before = {name: _fingerprints(session, name) for name in resources}
    _snapshot(session, [(name, _edfi_content(name)) for name in resources if before[name]])
    # every row the re-run writes gets a change version above this one
    mark: int = session.execute(sa.select(sa.func.nextval("change_version_seq"))).scalar_one()
    project_import(session, _born_in_oneroster(session, ORDER, ROSTER_ORIGINS))
    gradebook = _born_in_oneroster(session, ("lineItem", "result"), GRADEBOOK_ORIGINS)
    reverse = OneRosterProjector(session)
    with projecting(session):
        reverse.line_items(gradebook["lineItem"])
        reverse.results(gradebook["result"])
    for name in resources:
        after = _fingerprints(session, name)
        old = before[name]
        missing = sum(1 for row_id, (cv, _) in after.items() if row_id not in old and cv > mark)
        differing = sum(
            1 for row_id, (_, fp) in after.items() if row_id in old and old[row_id][1] != fp
        )
        lost = sorted(
            str(row_id) for row_id in old if row_id not in after or after[row_id][0] <= mark
        )
        if differing:
            changed = [
                row_id
                for row_id, (_, fp) in after.items()
                if row_id in old and old[row_id][1] != fp
            ]
            drift.details.extend(_edfi_differences(session, name, changed))
        if missing or differing or lost:
            drift.edfi_missing[name] = missing
            drift.edfi_differing[name] = differing
            drift.edfi_orphaned[name] = lost


SNAPSHOT = "verify_before"  # (kind, key, content) of every row before the re-run
# what a rebuild may change in a OneRoster row (alias `t`)
ONEROSTER_CONTENT = "to_jsonb(t) - 'date_last_modified' - 'sourced_id'"


def _snapshot(session: Session, parts: list[tuple[str, sa.ClauseElement]]) -> None:
    """Keep the content of the rows each query selects (key, content), under its kind."""
    session.execute(sa.text(f"DROP TABLE IF EXISTS {SNAPSHOT}"))
    session.execute(
        sa.text(f"CREATE TEMP TABLE {SNAPSHOT} (kind text, key text, content jsonb) ON COMMIT DROP")
    )
    for kind, query in parts:
        compiled = query.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        session.execute(
            sa.text(f"INSERT INTO {SNAPSHOT} SELECT :kind, k.* FROM ({compiled}) k"),
            {"kind": kind},
        )
    session.execute(sa.text(f"CREATE INDEX ON {SNAPSHOT} (kind, key)"))


def _describe(value: Any) -> str:
    return "absent" if value is None else repr(value)


def _oneroster_differences(session: Session, entity: str) -> list[str]:
    """The records of `entity` the rebuild wrote: each field whose value it changed."""
    table = store.entity(entity).table.name
    fields = {f.column: name for name, f in store.entity(entity).fields.items() if f.column}
    rows = session.execute(
        sa.text(
            f"SELECT t.sourced_id, b.content IS NULL, e.key, b.content -> e.key, e.value "
            f"FROM {table} t LEFT JOIN {SNAPSHOT} b ON b.kind = :kind AND b.key = t.sourced_id "
            f"CROSS JOIN LATERAL jsonb_each({ONEROSTER_CONTENT}) e "
            f"WHERE b.content IS NULL OR (b.content IS DISTINCT FROM ({ONEROSTER_CONTENT}) "
            "AND b.content -> e.key IS DISTINCT FROM e.value) ORDER BY 1, 3"
        ),
        {"kind": entity},
    )
    out: list[str] = []
    for sourced_id, missing, column, stored, projected in rows:
        if missing:
            line = f"missing {entity} {sourced_id}"
            if not out or out[-1] != line:
                out.append(line)
            continue
        name = fields.get(column, column)
        out.append(
            f"different {entity} {sourced_id} {name}: {_describe(stored)} stored, "
            f"{_describe(projected)} projected"
        )
    return out


def _edfi_content(resource: str) -> sa.Select:
    table = table_of(registry().resources[resource])
    content: sa.ColumnElement[Any] = sa.func.to_jsonb(table.table_valued())
    for column in _VOLATILE:
        content = content.op("-")(sa.literal(column))
    return sa.select(sa.cast(table.c.id, sa.Text), content).where(
        table.c.origin == EDFI_FROM_ONEROSTER
    )


def _edfi_differences(session: Session, resource: str, ids: list[uuid.UUID]) -> list[str]:
    """Ed-Fi rows of `resource` the re-run changed: each column, named with its OneRoster
    source's sourcedId."""
    table = table_of(registry().resources[resource]).name
    volatile = "".join(f" - '{c}'" for c in _VOLATILE)
    rows = session.execute(
        sa.text(
            f"SELECT t.id, l.sourced_id, e.key, b.content -> e.key, e.value FROM {table} t "
            f"JOIN {SNAPSHOT} b ON b.kind = :kind AND b.key = t.id::text "
            f"LEFT JOIN mapping_links l ON l.edfi_id = t.id "
            f"CROSS JOIN LATERAL jsonb_each(to_jsonb(t){volatile}) e "
            "WHERE t.id = ANY(:ids) AND b.content -> e.key IS DISTINCT FROM e.value "
            "ORDER BY 2, 1, 3"
        ),
        {"kind": resource, "ids": ids},
    )
    return [
        f"different Ed-Fi {resource} ({sourced_id or row_id}) {column}: {_describe(stored)} "
        f"stored, {_describe(projected)} projected"
        for row_id, sourced_id, column, stored, projected in rows
    ]


def _projected_resources() -> list[str]:
    """The Ed-Fi resources with their own table, less descriptors (which OneRoster never
    writes): the ones a row of OneRoster origin can be in."""
    return [
        name
        for name, res in registry().resources.items()
        if res.table is not None and not name.endswith("Descriptors")
    ]


def _fingerprints(session: Session, resource: str) -> Fingerprints:
    """One set-based read: id, change version and a hash of the non-system columns of every row
    of OneRoster origin."""
    table = table_of(registry().resources[resource])
    content: sa.ColumnElement[Any] = sa.func.to_jsonb(table.table_valued())
    for column in _VOLATILE:
        content = content.op("-")(sa.literal(column))
    rows = session.execute(
        sa.select(table.c.id, table.c.change_version, sa.func.md5(sa.cast(content, sa.Text))).where(
            table.c.origin == EDFI_FROM_ONEROSTER
        )
    )
    return {row_id: (cv or 0, fp) for row_id, cv, fp in rows}


def _born_in_oneroster(
    session: Session, entities: tuple[str, ...], origins: tuple[str, ...]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entity in entities:
        table = store.entity(entity).table
        out[entity] = list(
            session.scalars(
                sa.select(table.c.sourced_id)
                .where(table.c.origin.in_(origins), table.c.status == "active")
                .order_by(table.c.sourced_id)
            )
        )
    return out
