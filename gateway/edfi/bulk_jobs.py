"""Ed-Fi bulk jobs: a package of Ed-Fi JSON or interchange XML loaded in one transaction.

A job reads the package (gateway/edfi/uploads.py), then loads its records set-based in dependency
order through the same checks as the per-record API — validation, descriptors, references,
education organization ids and, for the client that sent it, the same write authorization
(gateway/edfi/bulk.py) — with the OneRoster projection in the same transaction. It is all or
nothing: when any record is rejected the transaction is rolled back and the report names every
rejected record (file and line, resource, reason with its JSON path); otherwise it commits. A dry
run checks everything and always rolls back.

Jobs are recorded, leased and swept like CSV import jobs (same table, `kind = 'edfi-bulk'`), and
run as CSV_IMPORT_MODE says: in a background thread of the worker, or inside the request.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from gateway.db import database, utcnow
from gateway.edfi.definitions import registry
from gateway.edfi.loader import LoadReport, load_records
from gateway.edfi.security import Authorizer
from gateway.edfi.uploads import Rejection, read_upload
from gateway.gc_pause import collection_paused
from gateway.oneroster.csv import jobs, lease
from gateway.oneroster.csv.models import CsvImportJob

log = logging.getLogger(__name__)
KIND = "edfi-bulk"
UNPACK_FACTOR = 8  # a zip may unpack to this many times MAX_CONTENT_LENGTH


def execute(
    session: Session, job: CsvImportJob, path: Path, authorizer: Authorizer, progress: Any = None
) -> dict[str, Any]:
    """Run the job to its end and record how it ended; returns its report."""
    jobs.start(session, job)
    try:
        with lease.held(database().engine, job.id):
            lease.mark_application(session, job.id)
            with collection_paused():
                report = _load(session, job, path, authorizer, progress)
    except Exception:  # the job must record the failure, whatever it was
        log.exception("Ed-Fi bulk job %s failed", job.id)
        session.rollback()
        report = {
            "status": "failed",
            "dryRun": job.dry_run,
            "message": "the load failed unexpectedly; nothing was applied (see the server log)",
            "counts": {},
            "rejected": [],
            "skipped": {},
        }
    job.status, job.phase = report["status"], "done"
    job.report, job.counts = report, report["counts"]
    job.finished_at, job.lease_expires_at = utcnow(), None
    session.commit()
    return report


def _load(
    session: Session, job: CsvImportJob, path: Path, authorizer: Authorizer, progress: Any
) -> dict[str, Any]:
    limit = UNPACK_FACTOR * int(current_app.config.get("MAX_CONTENT_LENGTH") or 1 << 29)
    with tempfile.TemporaryDirectory(dir=path.parent) as work_dir:
        package = read_upload(path, job.filename or "", registry(), Path(work_dir), limit)
        loaded = LoadReport()
        load_records(
            session,
            package.records,
            loaded,
            authorizer=authorizer,
            commit_each=False,
            progress=progress,
        )
    rejected = package.rejected + [Rejection(*r) for r in loaded.rejected]
    if rejected or job.dry_run:
        session.rollback()
        status = "rejected" if rejected else "dry-run"
    else:
        session.commit()
        status = "applied"
    rejected_by: Counter = Counter(r.resource for r in rejected)
    names = sorted((set(loaded.created) | set(loaded.updated) | set(rejected_by)) - {""})
    counts = {
        name: {
            "created": loaded.created[name],
            "updated": loaded.updated[name],
            "rejected": rejected_by[name],
        }
        for name in names
    }
    messages = {
        "applied": "every record was loaded",
        "dry-run": "every record passed; nothing was applied (dry run)",
        "rejected": f"{len(rejected)} record(s) rejected; nothing was applied",
    }
    return {
        "status": status,
        "dryRun": job.dry_run,
        "message": messages[status],
        "records": len(package.records),
        "counts": counts,
        "rejected": [r.as_dict() for r in rejected],
        "skipped": dict(package.skipped),
    }


def submit(session: Session, job: CsvImportJob, path: Path, authorizer: Authorizer) -> None:
    def work(session: Session, job: CsvImportJob, path: Path, progress: Any) -> None:
        execute(session, job, path, authorizer, progress)

    jobs.submit_work(session, job, path, work)
