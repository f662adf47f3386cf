"""Import jobs whose worker died: a lease renewed while the job runs, and the sweep that ends it.

A worker killed mid-import leaves its transaction to be rolled back (nothing is applied), but the
job row would say `running` forever. So the worker that owns a job (`worker`: host and pid)
renews `lease_expires_at` from a background thread while the job is queued or running. A job whose
lease has expired, or whose worker is a process of this host that no longer exists, is marked
`failed` with the reason: when it is read, before a new import starts, and at start-up.

The import's database session carries `application_name = csv-import:<job id>`, so the sweep can
also end a backend its dead worker left behind (a vanished host's connection lingers until TCP
gives up), and with it the advisory locks that would block the next import of the organization.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app, has_app_context
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.oneroster.csv.models import CsvImportJob
from gateway.oneroster.csv.report import ImportReport, Issue

log = logging.getLogger(__name__)
DEFAULT_LEASE_SECONDS = 120
UNFINISHED = ("queued", "running")
APPLICATION_NAME = "csv-import:{}"


def lease_seconds() -> float:
    configured = current_app.config.get("CSV_IMPORT_LEASE_SECONDS") if has_app_context() else None
    return float(configured or os.environ.get("CSV_IMPORT_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS)


def _host() -> str:
    """This host, with its process-id namespace: containers sharing a host name (host
    networking) number their processes independently."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/{namespace.removeprefix('pid:[').removesuffix(']')}"


def this_worker() -> str:
    # Read at use, not import: gunicorn forks its workers after the app module is loaded.
    return f"{_host()}:{os.getpid()}"


def lease_deadline():
    return utcnow() + timedelta(seconds=lease_seconds())


def mark_application(session: Session, job_id: uuid.UUID) -> None:
    """Name the import's transaction after its job (reverts at the end of the transaction)."""
    session.execute(
        text("SELECT set_config('application_name', :name, true)"),
        {"name": APPLICATION_NAME.format(job_id)},
    )


@contextmanager
def held(engine: Engine, job_id: uuid.UUID) -> Iterator[None]:
    """Renew the job's lease every quarter of its length until the block ends, in short
    transactions of their own: the import's transaction stays open for minutes."""
    seconds = lease_seconds()
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(seconds / 4):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(CsvImportJob)
                        .where(CsvImportJob.id == job_id, CsvImportJob.status.in_(UNFINISHED))
                        .values(lease_expires_at=utcnow() + timedelta(seconds=seconds))
                    )
            except DBAPIError:  # a missed renewal is retried; the lease is four beats long
                log.warning("could not renew the lease of CSV import job %s", job_id)

    thread = threading.Thread(target=renew, name=f"csv-import-lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _worker_gone(worker: str | None) -> bool:
    """True when `worker` is a process of this host that no longer exists."""
    host, _, pid = (worker or "").rpartition(":")
    if host != _host() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


def _failure_report(job: CsvImportJob, why: str) -> ImportReport:
    report = ImportReport(
        status="failed",
        dry_run=job.dry_run,
        message="the import did not finish: its worker stopped; nothing was applied",
    )
    report.add(Issue("", 0, "", "", why))
    return report


def expire_stale(session: Session, job_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Mark unfinished jobs (all, or `job_id`) whose worker is gone `failed`; end the database
    backends they left behind. Commits; returns the ids marked."""
    now = utcnow()
    query = select(CsvImportJob).where(CsvImportJob.status.in_(UNFINISHED))
    if job_id is not None:
        query = query.where(CsvImportJob.id == job_id)
    # Locked rows belong to a sweep running elsewhere, or to the job's own status change.
    candidates = session.scalars(query.with_for_update(skip_locked=True)).all()
    failed = []
    for job in candidates:
        if _worker_gone(job.worker):
            why = f"the worker running it ({job.worker}) is no longer running"
        elif job.lease_expires_at is not None and job.lease_expires_at < now:
            why = (
                f"its worker ({job.worker or 'unknown'}) stopped renewing the lease; "
                f"it expired at {job.lease_expires_at.isoformat().replace('+00:00', 'Z')}"
            )
        else:
            continue
        report = _failure_report(job, why)
        job.status = report.status
        job.phase = "done"
        job.report = report.as_dict()
        job.counts = {}
        job.finished_at = now
        failed.append(job.id)
    if failed:
        _end_backends(session, failed)
    session.commit()
    return failed


def _end_backends(session: Session, job_ids: list[uuid.UUID]) -> None:
    names = [APPLICATION_NAME.format(job_id) for job_id in job_ids]
    savepoint = session.begin_nested()
    try:
        ended = session.execute(
            text(
                "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = ANY(:names) AND pid <> pg_backend_pid()"
            ),
            {"names": names},
        ).all()
        savepoint.commit()
    except DBAPIError:  # not allowed to signal it: it ends when its connection times out
        savepoint.rollback()
        log.warning("could not end the database sessions of stale CSV import jobs %s", job_ids)
        return
    for pid, _ in ended:
        log.warning("ended database session %s left behind by a stale CSV import job", pid)
