"""The demo district's OneRoster-only records (gateway/oneroster/demo/README.md): imported once,
through the CSV importer, when the Ed-Fi sample's records they name are there and they are not."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from gateway.db import get_session
from gateway.oneroster.models import AcademicSession, Resource

log = logging.getLogger(__name__)
SEED_DIR = Path(__file__).resolve().parent / "demo"
# the Grand Bend session the seed's grading periods belong to (a pinned Ed-Fi-born sourcedId)
PARENT_SESSION = "ses-66747110-0623-5d21-a06f-3fb72cee8a96"
MARKER = "demo-res-algebra-text"


def seed_demo() -> None:
    from gateway.oneroster.csv.importer import run_import

    session = get_session()
    named = session.scalar(
        sa.select(sa.exists().where(AcademicSession.sourced_id == PARENT_SESSION))
    )
    seeded = session.scalar(sa.select(sa.exists().where(Resource.sourced_id == MARKER)))
    if not named or seeded:
        return
    report = run_import(session, SEED_DIR)
    if report.status != "applied":
        log.warning(
            "oneroster: the demo's OneRoster-only records were not imported: %s", report.as_dict()
        )
        return
    log.info("oneroster: imported the demo's OneRoster-only records (grading periods, resources)")
