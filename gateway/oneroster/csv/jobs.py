"""Import jobs: the record of every package imported or rejected, with its report.

`CSV_IMPORT_MODE` decides how a job runs: "thread" (default) starts it in a background thread of
the worker and returns at once, progress being written by short separate transactions; "sync"
runs it inside the request before the 202 (tests, or deployments that prefer no threads).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.db import database, get_session, utcnow
from gateway.oneroster.csv import lease
from gateway.oneroster.csv.importer import run_import
from gateway.oneroster.csv.models import CsvImportJob
from gateway.oneroster.csv.report import ImportReport, Issue

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_SECONDS = 1.0
CSV_JOB = "oneroster-csv"  # the kind of a CSV import job (the table keeps other jobs too)


def uploads_dir() -> Path:
    path = Path(current_app.config["GATEWAY_DATA_DIR"]) / "csv-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_job(
    session: Session,
    *,
    client_key: str | None,
    filename: str | None,
    dry_run: bool,
    kind: str = CSV_JOB,
) -> CsvImportJob:
    job = CsvImportJob(
        id=uuid.uuid4(),
        kind=kind,
        client_key=client_key,
        filename=(filename or "")[:255] or None,
        dry_run=dry_run,
        status="queued",
        progress_done=0,
        progress_total=0,
        created_at=utcnow(),
        worker=lease.this_worker(),
        lease_expires_at=lease.lease_deadline(),
    )
    session.add(job)
    session.commit()
    return job


def start(session: Session, job: CsvImportJob) -> None:
    """Mark the job running in this worker, its lease renewed from now on (commits)."""
    job.status, job.started_at = "running", utcnow()
    job.worker, job.lease_expires_at = lease.this_worker(), lease.lease_deadline()
    session.commit()


def _finish(session: Session, job: CsvImportJob, report: ImportReport) -> None:
    job.status = report.status
    job.phase = "done"
    job.report = report.as_dict()
    job.counts = {f.filename: dict(f.counts) for f in report.files.values()}
    job.finished_at = utcnow()
    job.lease_expires_at = None
    session.commit()


def execute(
    session: Session,
    job: CsvImportJob,
    path: Path,
    scope: OrgScope | None,
    progress=None,
    allow_deletions: bool = False,
) -> ImportReport:
    start(session, job)
    try:
        with lease.held(database().engine, job.id):
            lease.mark_application(session, job.id)
            report = run_import(
                session,
                path,
                dry_run=job.dry_run,
                scope=scope,
                progress=progress,
                allow_deletions=allow_deletions,
            )
    except Exception:  # the job must record the failure, whatever it was
        log.exception("CSV import job %s failed", job.id)
        session.rollback()
        report = ImportReport(
            status="failed",
            dry_run=job.dry_run,
            message="the import failed unexpectedly; nothing was applied",
        )
        report.add(Issue("", 0, "", "", "internal error (see the server log)"))
    _finish(session, job, report)
    return report


class _ProgressRecorder:
    """Writes progress in its own short transactions, at most once a second, so readers see it
    while the import's transaction is still open."""

    def __init__(self, job_id: uuid.UUID) -> None:
        self.job_id = job_id
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL_SECONDS and done < total:
            return
        self.last = now
        with database().engine.begin() as conn:
            conn.execute(
                update(CsvImportJob)
                .where(CsvImportJob.id == self.job_id)
                .values(phase=phase, progress_done=done, progress_total=total)
            )


# The work of a job: runs it to its end (the job row says how it ended); `progress` may be None.
Work = Callable[[Session, CsvImportJob, Path, Any], object]


def _run_in_thread(app: Flask, job_id: uuid.UUID, path: Path, work: Work) -> None:
    with app.app_context():
        session = get_session()
        job = session.get(CsvImportJob, job_id)
        try:
            if job is not None:
                work(session, job, path, _ProgressRecorder(job_id))
        finally:
            path.unlink(missing_ok=True)


def submit(
    session: Session,
    job: CsvImportJob,
    path: Path,
    scope: OrgScope | None,
    allow_deletions: bool = False,
) -> None:
    """Run the CSV import job the configured way; the upload at `path` is removed when done.
    `allow_deletions`: apply bulk files even when they delete more than the guard's share."""

    def work(session: Session, job: CsvImportJob, path: Path, progress: Any) -> None:
        execute(session, job, path, scope, progress, allow_deletions)

    submit_work(session, job, path, work)


def submit_work(session: Session, job: CsvImportJob, path: Path, work: Work) -> None:
    """Run a job's work as CSV_IMPORT_MODE says (in the request, or in a background thread of
    the worker); the upload at `path` is removed when it is done."""
    # A job left `running` by a dead worker is closed first; its lingering database session,
    # and the organization locks it holds, would otherwise make this import wait.
    lease.expire_stale(session)
    mode = current_app.config.get("CSV_IMPORT_MODE") or os.environ.get("CSV_IMPORT_MODE")
    if (mode or "thread") == "sync":
        try:
            work(session, job, path, None)
        finally:
            path.unlink(missing_ok=True)
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=_run_in_thread,
        args=(app, job.id, path, work),
        name=f"{job.kind}-{job.id}",
        daemon=True,
    )
    thread.start()


def list_jobs(
    session: Session, client_key: str | None, limit: int, offset: int, *, every_client: bool = False
) -> tuple[list[CsvImportJob], int]:
    """CSV import jobs newest first, a page of them, and how many there are (a client's own, or
    every client's)."""
    query = select(CsvImportJob).where(CsvImportJob.kind == CSV_JOB)
    if not every_client:
        query = query.where(CsvImportJob.client_key == client_key)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(
        query.order_by(CsvImportJob.created_at.desc(), CsvImportJob.id).limit(limit).offset(offset)
    )
    return list(page), total


def job_view(job: CsvImportJob, with_report: bool = True) -> dict[str, Any]:
    def iso(value):
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "id": str(job.id),
        "status": job.status,
        "dryRun": job.dry_run,
        "filename": job.filename,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "progress": {"phase": job.phase, "done": job.progress_done, "total": job.progress_total},
        "counts": job.counts,
        **({"report": job.report} if with_report else {}),
    }
