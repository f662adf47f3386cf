"""Retention of tombstones (compliance rule 4: deletes keep a tombstone; purge runs on a policy,
never silently).

A deletion leaves a tombstone that delta consumers depend on: a OneRoster record with
`status = tobedeleted`, an Ed-Fi entry in `edfi_tracked_changes` (what `/deletes` and
`/keyChanges` show). Tombstones older than the retention period are purged here, every table
in one transaction, with the counts printed and one row in the audit log. A consumer that has
not synchronised for longer than the period must then do a full (bulk) sync.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gateway.audit import AuditRecord
from gateway.db import Base, utcnow
from gateway.edfi.definitions import tracked_changes
from gateway.mapping.links import mapping_links
from gateway.oneroster.models import OneRosterRow

TOMBSTONE = "tobedeleted"


@dataclass
class PurgeReport:
    cutoff: dt.datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def oneroster_tables() -> list[sa.Table]:
    """Every table holding OneRoster records (each has status and dateLastModified)."""
    tables = {
        mapper.local_table
        for mapper in Base.registry.mappers
        if issubclass(mapper.class_, OneRosterRow) and isinstance(mapper.local_table, sa.Table)
    }
    return sorted(tables, key=lambda t: t.name)


def purge_tombstones(
    session: Session, older_than: dt.timedelta, *, dry_run: bool = False
) -> PurgeReport:
    """Deletes tombstones last modified before now - older_than (counts only when dry_run).

    The caller commits. Mapping links of purged OneRoster records go too when their Ed-Fi
    record is gone as well (a link with an Ed-Fi record still keeps that record's sourcedId).
    """
    if older_than <= dt.timedelta(0):
        raise ValueError("the retention period must be positive")
    report = PurgeReport(cutoff=utcnow() - older_than, dry_run=dry_run)
    purged_ids: list[str] = []
    for table in oneroster_tables():
        expired = sa.and_(table.c.status == TOMBSTONE, table.c.date_last_modified < report.cutoff)
        if dry_run:
            count = session.scalar(sa.select(sa.func.count()).where(expired))
            report.counts[table.name] = count or 0
            continue
        ids = session.scalars(sa.delete(table).where(expired).returning(table.c.sourced_id)).all()
        report.counts[table.name] = len(ids)
        purged_ids.extend(ids)

    edfi_expired = tracked_changes.c.created_at < report.cutoff
    if dry_run:
        count = session.scalar(sa.select(sa.func.count()).where(edfi_expired))
        report.counts[tracked_changes.name] = count or 0
        return report
    report.counts[tracked_changes.name] = _deleted(
        session, sa.delete(tracked_changes).where(edfi_expired), tracked_changes.c.change_version
    )
    if purged_ids:
        report.counts[mapping_links.name] = _deleted(
            session,
            sa.delete(mapping_links).where(
                mapping_links.c.sourced_id == sa.any_(sa.literal(purged_ids, ARRAY(sa.String))),
                mapping_links.c.edfi_id.is_(None),
            ),
            mapping_links.c.sourced_id,
        )
    session.add(
        AuditRecord(
            client_key=None,
            action="purge",
            method="CLI",
            path="gateway purge",
            query="&".join(
                [f"older_than_days={older_than.days}", f"cutoff={report.cutoff.isoformat()}"]
                + [f"{name}={n}" for name, n in report.counts.items()]
            ),
            record_ids=purged_ids,  # the OneRoster sourcedIds removed
            status=200,
        )
    )
    return report


def _deleted(session: Session, delete: sa.Delete, key: sa.Column) -> int:
    return len(session.scalars(delete.returning(key)).all())
