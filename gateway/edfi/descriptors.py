"""Seed the descriptors table from the official Ed-Fi descriptor XML files in descriptors/."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.edfi.definitions import registry

FIELDS = {
    "CodeValue": "code_value",
    "ShortDescription": "short_description",
    "Description": "description",
    "Namespace": "namespace",
    "EffectiveBeginDate": "effective_begin_date",
    "EffectiveEndDate": "effective_end_date",
}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_descriptor_file(path: Path) -> Iterator[dict]:
    """Stream one interchange file: each <XxxDescriptor> element becomes a row."""
    known = set(registry().descriptor_names)
    for _event, elem in ET.iterparse(path, events=("end",)):
        name = local(elem.tag)
        if name in known:
            row: dict[str, object] = {"descriptor_name": name}
            for child in elem:
                column = FIELDS.get(local(child.tag))
                if column:
                    text = (child.text or "").strip()
                    row[column] = (
                        date.fromisoformat(text) if column.startswith("effective") else text
                    )
            elem.clear()
            yield row


def load_descriptors(session: Session, directory: Path) -> int:
    """Insert every descriptor value not yet present, set-based. Returns how many were inserted."""
    table = registry().resources["gradeLevelDescriptors"].table
    rows = [r for path in sorted(directory.glob("*.xml")) for r in read_descriptor_file(path)]
    if not rows:
        return 0
    now = utcnow()
    for r in rows:
        for column in FIELDS.values():
            r.setdefault(column, None)
        r.update(_last_modified_date=now, created_at=now, updated_at=now, origin="edfi")
    stmt = (
        pg_insert(table)
        .values(change_version=sa.func.nextval("change_version_seq"), id=sa.func.gen_random_uuid())
        .on_conflict_do_nothing(index_elements=["descriptor_name", "namespace", "code_value"])
    )
    before = session.scalar(sa.select(sa.func.count()).select_from(table))
    session.execute(stmt, rows)
    session.execute(
        sa.update(table)
        .where(table.c._etag.is_(None))
        .values(_etag=sa.cast(table.c.change_version, sa.String))
    )
    after = session.scalar(sa.select(sa.func.count()).select_from(table))
    session.commit()
    return int(after or 0) - int(before or 0)


def descriptors_missing(session: Session) -> bool:
    table = registry().resources["gradeLevelDescriptors"].table
    return not session.scalar(sa.select(sa.exists().where(table.c.origin == "edfi")))
