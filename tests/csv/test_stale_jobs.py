"""A job whose worker dies is reported `failed`, not `running` forever, and does not block the next
import. The killed worker is a real process killed with SIGKILL; the other cases set the lease
in the real database. Committed rows are needed, so these tests use a database of their own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select

from gateway.db import get_session, utcnow
from gateway.oneroster import csv as csv_context
from gateway.oneroster.csv import lease
from gateway.oneroster.csv.importer import LOCK_CLASS
from gateway.oneroster.csv.models import CsvImportJob
from tests.csv.conftest import import_client, write_package
from tests.csv.district import district

# The worker: creates a job for the client key given, prints its id, then runs it.
WORKER = """
import json, os, sys
from pathlib import Path
from gateway.app import create_app
from gateway.config import Config
from gateway.db import get_session
from gateway.oneroster.csv import jobs

app = create_app(Config())
with app.app_context():
    session = get_session()
    job = jobs.create_job(session, client_key=sys.argv[1], filename="district.zip", dry_run=False)
    print(json.dumps({"id": str(job.id)}), flush=True)
    jobs.execute(session, job, Path(sys.argv[2]), None)
"""


@pytest.fixture
def jobs_app(own_app):
    return own_app("gateway_csv_stale")


def _libpq(app) -> str:
    return (
        app.extensions["gateway.db"]
        .engine.url.set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def _add_job(app, client_key: str, **values) -> uuid.UUID:
    with app.app_context():
        session = get_session()
        job = CsvImportJob(
            id=uuid.uuid4(),
            client_key=client_key,
            filename="district.zip",
            dry_run=False,
            progress_done=0,
            progress_total=0,
            created_at=utcnow(),
            **values,
        )
        session.add(job)
        session.commit()
        return job.id


def _wait_for(condition, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_killed_worker_job_is_failed_and_does_not_block_the_next_import(jobs_app, tmp_path):
    key, headers = import_client(jobs_app, "stale")
    package = write_package(tmp_path, district())
    libpq = _libpq(jobs_app)
    with psycopg.connect(libpq) as blocker:
        # Holding the organizations table stops the worker inside its import transaction,
        # after it has taken the organization lock: the moment to kill it.
        blocker.execute("LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE")
        env = {**os.environ, "DATABASE_URL": libpq, "SECRET_KEY": "stale-jobs"}
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, key, str(package)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            job_id = json.loads(worker.stdout.readline())["id"]
            with psycopg.connect(libpq, autocommit=True) as probe:
                _wait_for(
                    lambda: probe.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE application_name = %s "
                        "AND wait_event_type = 'Lock'",
                        (f"csv-import:{job_id}",),
                    ).fetchone()
                )
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)

                client = jobs_app.test_client()
                body = client.get(f"/oneroster/csv/imports/{job_id}", headers=headers).get_json()
                assert body["status"] == "failed"
                assert body["progress"]["phase"] == "done"
                assert body["finishedAt"] is not None
                assert body["report"]["message"] == (
                    "the import did not finish: its worker stopped; nothing was applied"
                )
                reason = body["report"]["files"][0]["issues"][0]["reason"]
                assert reason.endswith("is no longer running")
                assert f":{worker.pid})" in reason
                # The dead worker's database session, still waiting, was ended with its locks.
                _wait_for(
                    lambda: (
                        not probe.execute(
                            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s",
                            (f"csv-import:{job_id}",),
                        ).fetchone()
                    )
                )
                assert probe.execute(
                    "SELECT pg_try_advisory_lock(hashtext(%s), 0)", (LOCK_CLASS,)
                ).fetchone()[0]
                probe.execute("SELECT pg_advisory_unlock(hashtext(%s), 0)", (LOCK_CLASS,))
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        blocker.rollback()

    # Nothing of the killed import was applied; a new import of the same package applies.
    with psycopg.connect(libpq) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    jobs_app.config["CSV_IMPORT_MODE"] = "sync"
    with open(package, "rb") as fh:
        accepted = jobs_app.test_client().post(
            "/oneroster/csv/imports",
            data={"file": (fh, "district.zip")},
            headers=headers,
            content_type="multipart/form-data",
        )
    assert accepted.status_code == 202
    assert accepted.get_json()["status"] == "applied"


def test_expired_lease_is_failed_on_read_and_a_live_one_is_not(jobs_app):
    key, headers = import_client(jobs_app, "stale")
    past = utcnow() - timedelta(seconds=1)
    expired = _add_job(
        jobs_app, key, status="running", worker="elsewhere:4242", lease_expires_at=past
    )
    live = _add_job(
        jobs_app,
        key,
        status="running",
        worker="elsewhere:4243",
        lease_expires_at=utcnow() + timedelta(minutes=5),
    )
    client = jobs_app.test_client()
    body = client.get(f"/oneroster/csv/imports/{expired}", headers=headers).get_json()
    assert body["status"] == "failed"
    reason = body["report"]["files"][0]["issues"][0]["reason"]
    assert reason.startswith("its worker (elsewhere:4242) stopped renewing the lease; it expired")
    still = client.get(f"/oneroster/csv/imports/{live}", headers=headers).get_json()
    assert still["status"] == "running"


def test_start_up_sweeps_stale_jobs(jobs_app):
    key, _headers = import_client(jobs_app, "stale")
    past = utcnow() - timedelta(seconds=1)
    queued = _add_job(jobs_app, key, status="queued", worker="elsewhere:1", lease_expires_at=past)
    done = _add_job(jobs_app, key, status="applied", worker="elsewhere:1", lease_expires_at=past)
    csv_context.bootstrap(jobs_app)
    with jobs_app.app_context():
        statuses = dict(
            get_session()
            .execute(
                select(CsvImportJob.id, CsvImportJob.status).where(
                    CsvImportJob.id.in_([queued, done])
                )
            )
            .all()
        )
    assert statuses == {queued: "failed", done: "applied"}


def test_a_running_job_renews_its_lease(jobs_app):
    key, _headers = import_client(jobs_app, "stale")
    jobs_app.config["CSV_IMPORT_LEASE_SECONDS"] = 0.4
    start = utcnow()
    job_id = _add_job(
        jobs_app, key, status="running", worker=lease.this_worker(), lease_expires_at=start
    )
    with jobs_app.app_context():
        engine = jobs_app.extensions["gateway.db"].engine
        with lease.held(engine, job_id):
            time.sleep(0.6)
        session = get_session()
        renewed = session.get(CsvImportJob, job_id).lease_expires_at
        assert renewed > start + timedelta(seconds=0.3)
        # Renewed, the job is not stale, although its first lease has long expired.
        assert lease.expire_stale(session, job_id) == []
