"""Seed the descriptors table from the official Ed-Fi descriptor XML files in descriptors/, and the
school year types from descriptors/SchoolYearTypes.json (reference data every ODS/API ships)."""

from __future__ import annotations

import json
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
    # the interchange spells acronyms in capitals (IDEAPartDescriptor), the API does not
    # (ideaPartDescriptors): one descriptor whatever the case, named as the API names it
    known = {n.lower(): n for n in registry().descriptor_names}
    for _event, elem in ET.iterparse(path, events=("end",)):
        name = known.get(local(elem.tag).lower())
        if name:
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


def load_descriptors(session: Session, directory: Path, only: set[str] | None = None) -> int:
    """Insert every descriptor value not yet present (of the descriptors `only` names, lower-cased,
    when given), set-based, and the school year types. Returns how many values were inserted."""
    table = registry().resources["gradeLevelDescriptors"].table
    paths = sorted(directory.glob("*.xml"))
    if only is not None:
        paths = [p for p in paths if p.stem.lower() in only]
    rows = [r for path in paths for r in read_descriptor_file(path)]
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
    load_school_years(session, directory)
    return int(after or 0) - int(before or 0)


def descriptors_without_values(session: Session, directory: Path) -> set[str]:
    """The served descriptors (lower-cased) that `directory` has values for and the deployment has
    none of: all of them on a fresh database; after an upgrade, those a new release reads."""
    table = registry().resources["gradeLevelDescriptors"].table
    served = {n.lower() for n in registry().descriptor_names}
    shipped = {p.stem.lower() for p in directory.glob("*.xml")} & served
    stored = session.scalars(sa.select(table.c.descriptor_name).distinct())
    present = {str(n).lower() for n in stored}
    return shipped - present


def load_school_years(session: Session, directory: Path) -> int:
    """Insert the school year types of SchoolYearTypes.json not yet present (a client may have
    posted or changed some: those stay as they are). Returns how many were inserted."""
    spec = json.loads((directory / "SchoolYearTypes.json").read_text(encoding="utf-8"))
    table = registry().resources["schoolYearTypes"].table
    years = range(spec["firstSchoolYear"], spec["lastSchoolYear"] + 1)
    # every start asks: insert (and take change versions for) only the years not there yet
    present = set(session.scalars(sa.select(table.c.school_year)))
    now = utcnow()
    rows = [
        {
            "school_year": year,
            "current_school_year": False,
            "school_year_description": f"{year - 1}-{year}",
            "_last_modified_date": now,
            "created_at": now,
            "updated_at": now,
            "origin": "edfi",
        }
        for year in years
        if year not in present
    ]
    if rows:
        stmt = (
            pg_insert(table)
            .values(
                change_version=sa.func.nextval("change_version_seq"), id=sa.func.gen_random_uuid()
            )
            .on_conflict_do_nothing(index_elements=["school_year"])
        )
        session.execute(stmt, rows)
    session.commit()
    return len(rows)


def seed_reference_data(session: Session, directory: Path) -> list[str]:
    """What every Ed-Fi deployment starts with: the descriptor values (of every descriptor that has
    none yet) and the school year types (any missing). Returns what was loaded, to log."""
    missing = descriptors_without_values(session, directory)
    if missing:
        return [f"loaded {load_descriptors(session, directory, missing)} descriptor values"]
    years = load_school_years(session, directory)
    return [f"loaded {years} school year types"] if years else []
