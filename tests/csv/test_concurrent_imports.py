"""CSV imports end to end on a committed database (issue 14, finding 8): two real uploads at once
are serialised by the importer's own lock and leave one consistent state; an import that fails
while applying leaves every table exactly as it was (no savepoint, no rolled-back test
transaction: what the database holds after the commit that did not happen)."""

from __future__ import annotations

import io
import threading
import time

import pytest
from sqlalchemy import text

from tests.csv.conftest import import_client, write_package
from tests.csv.district import district

# Tables an import legitimately writes whatever its outcome: its own job record and the audit trail.
BOOKKEEPING = {"csv_import_jobs", "audit_log", "alembic_version"}


def upload(app, headers, package: bytes, name: str) -> str:
    # Each package replaces the other's 400 students: the operator allows those deletions.
    accepted = app.test_client().post(
        "/oneroster/csv/imports",
        data={"file": (io.BytesIO(package), name), "allowDeletions": "true"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert accepted.status_code == 202, accepted.get_data(as_text=True)
    return accepted.get_json()["id"]


def wait(app, headers, job_id: str, seconds: float = 240) -> dict:
    client = app.test_client()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = client.get(f"/oneroster/csv/imports/{job_id}", headers=headers).get_json()
        if body["status"] not in ("queued", "running"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {body['status']} after {seconds} s")


def with_students(prefix: str, n: int) -> dict:
    """The test district plus `n` students of its own (a bulk package: it replaces the roster)."""
    data = district()
    student = next(u for u in data["users"] if u["role"] == "student")
    extra = [
        {**student, "sourcedId": f"{prefix}{i}", "username": f"{prefix}{i}", "identifier": ""}
        for i in range(n)
    ]
    data["users"] = data["users"] + extra
    return data


def active_users(engine) -> set[str]:
    with engine.connect() as connection:
        return set(
            connection.execute(
                text("SELECT sourced_id FROM users WHERE status = 'active'")
            ).scalars()
        )


def test_two_uploads_at_once_are_serialised(own_app, tmp_path):
    app = own_app("gateway_csv_concurrent")
    app.config["CSV_IMPORT_MODE"] = "thread"
    engine = app.extensions["gateway.db"].engine
    _key, headers = import_client(app, "concurrent")
    packages = {}
    for prefix in ("ua-", "ub-"):
        where = tmp_path / prefix
        where.mkdir()
        packages[prefix] = write_package(where, with_students(prefix, 400)).read_bytes()

    barrier = threading.Barrier(2)
    jobs: dict[str, str] = {}

    def send(prefix: str) -> None:
        barrier.wait()
        jobs[prefix] = upload(app, headers, packages[prefix], f"{prefix}.zip")

    threads = [threading.Thread(target=send, args=(p,)) for p in packages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    results = {prefix: wait(app, headers, job) for prefix, job in jobs.items()}
    assert {r["status"] for r in results.values()} == {"applied"}, results

    with engine.connect() as connection:
        times = {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                text(
                    "SELECT id::text, started_at, finished_at FROM csv_import_jobs "
                    "WHERE id::text = ANY(:ids)"
                ),
                {"ids": list(jobs.values())},
            )
        }
    finished = {job: done for job, (_started, done) in times.items()}
    # They really ran at once: each had started before either finished.
    assert max(s for s, _ in times.values()) < min(finished.values()), times
    last = max(jobs, key=lambda prefix: finished[jobs[prefix]])
    # Bulk files replace the roster: the state is exactly the package applied last, never a mix.
    expected = {u["sourcedId"] for u in with_students(last, 400)["users"]}
    assert active_users(engine) == expected
    # ... and the first package's own students were all retired by the second, not one left over.
    first = next(p for p in jobs if p != last)
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM users WHERE sourced_id LIKE :p AND status = 'active'"),
            {"p": first + "%"},
        ).scalar_one()
    assert left == 0


def snapshot(engine) -> dict[str, str]:
    """Every application table's full contents, as one digest per table."""
    with engine.connect() as connection:
        tables = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ).scalars()
        return {
            table: connection.execute(
                text(
                    f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "
                    f"ORDER BY t::text)), '') FROM \"{table}\" t"
                )
            ).scalar_one()
            for table in tables
            if table not in BOOKKEEPING
        }


@pytest.mark.parametrize("mode", ["thread", "sync"])
def test_import_failing_late_leaves_the_committed_database_unchanged(own_app, tmp_path, mode):
    app = own_app(f"gateway_csv_atomic_{mode}")
    app.config["CSV_IMPORT_MODE"] = mode
    engine = app.extensions["gateway.db"].engine
    _key, headers = import_client(app, "atomic")
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    job = upload(app, headers, write_package(first, district()).read_bytes(), "first.zip")
    assert wait(app, headers, job)["status"] == "applied"
    before = snapshot(engine)
    assert int(before["users"].split(":")[0]) > 0 and int(before["organizations"].split(":")[0])

    # Consistent in itself, so it passes validation; users.csv then trips uq_users_username in
    # the middle of the apply, after orgs and classes were written in the same transaction.
    data = district()
    data["orgs"][1]["name"] = "Renamed High School"
    data["classes"][0]["title"] = "Renamed class"
    data["users"].append({**data["users"][0], "sourcedId": "u-t2", "username": "sobrien"})
    data["users"] = [u for u in data["users"] if u["sourcedId"] != "u-s2"]
    data["enrollments"] = [e for e in data["enrollments"] if e["userSourcedId"] != "u-s2"]
    job = upload(app, headers, write_package(second, data).read_bytes(), "second.zip")
    result = wait(app, headers, job)
    assert result["status"] == "rejected", result
    assert snapshot(engine) == before
