"""An SIS pushing students: Ed-Fi POST throughput end to end, against the raw floor, in one run.

    python bench/edfi_push.py [--connections 1,4,8,16] [--seconds 8] [--workers 2]

Starts `gateway serve` (gunicorn, the embedded default with the demo district) in a temporary data
directory. At each level, N client threads with keep-alive connections each push new students as an
SIS does: a `students` POST, then a `studentSchoolAssociations` POST enrolling that student in a
demo school, as fast as they are answered (each POST counts as one request). Then, from the same
number of connections to the same PostgreSQL server, the floor: one single-row INSERT of the same
student document into a bare table and a COMMIT per request. App and floor alternate level by level,
so a change in the machine's load skews both alike.

Printed per level: requests/s, p50 and p99 for the app and the floor, and floor/app (how many times
the raw insert + commit's rate the app is below). The gateway's own projection, reference checks,
audit row and HTTP stack are what the ratio measures."""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid

import psycopg
from serve_common import Server, in_threads, owner_url, percentile

SCHOOL_ID = 255901001
GRADE = "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"


def student(unique_id: str) -> dict:
    return {
        "studentUniqueId": unique_id,
        "birthDate": "2011-04-02",
        "firstName": "Push",
        "lastSurname": "Bench " + unique_id[-6:],
    }


def association(unique_id: str) -> dict:
    return {
        "studentReference": {"studentUniqueId": unique_id},
        "schoolReference": {"schoolId": SCHOOL_ID},
        "entryDate": "2026-08-20",
        "entryGradeLevelDescriptor": GRADE,
    }


def run_threads(n: int, seconds: float, work) -> dict[str, float]:
    """Run `work(stop_at, record)` in n threads; requests/s and latency percentiles."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    failures = [0]

    def body(_index: int) -> None:
        mine: list[float] = []
        failed = work(stop_at, mine.append)
        with lock:
            latencies.extend(mine)
            failures[0] += failed

    wall = in_threads(body, n)
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "failed": failures[0],
    }


def app_push(server: Server, bearer: str, run: str):
    headers = {"Authorization": "Bearer " + bearer, "Content-Type": "application/json"}

    def work(stop_at: float, record) -> int:
        conn = server.connection()
        prefix = f"{run}{uuid.uuid4().hex[:6]}"
        failed, i = 0, 0
        while time.monotonic() < stop_at:
            unique_id = f"{prefix}{i:06d}"
            i += 1
            for path, doc in (
                ("/data/v3/ed-fi/students", student(unique_id)),
                ("/data/v3/ed-fi/studentSchoolAssociations", association(unique_id)),
            ):
                start = time.perf_counter()
                conn.request("POST", path, body=json.dumps(doc), headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status in (200, 201):
                    record(time.perf_counter() - start)
                else:
                    failed += 1
        conn.close()
        return failed

    return work


def floor_push(url: str, run: str):
    def work(stop_at: float, record) -> int:
        with psycopg.connect(url) as conn:
            prefix = f"{run}{uuid.uuid4().hex[:6]}"
            i = 0
            while time.monotonic() < stop_at:
                unique_id = f"{prefix}{i:06d}"
                i += 1
                for kind, doc in (("s", student(unique_id)), ("a", association(unique_id))):
                    start = time.perf_counter()
                    conn.execute(
                        "INSERT INTO push_floor (natural_key, doc) VALUES (%s, %s)",
                        (kind + unique_id, json.dumps(doc)),
                    )
                    conn.commit()
                    record(time.perf_counter() - start)
        return 0

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", default="1,4,8,16")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    levels = [int(c) for c in args.connections.split(",")]
    with tempfile.TemporaryDirectory(prefix="edfi-push-bench-") as data_dir:
        server = Server(data_dir, {"AUDIT_MODE": "async"}, args.workers)
        try:
            bearer = server.token("push bench")
            with owner_url(data_dir) as url:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS push_floor (id bigserial PRIMARY KEY,"
                        " natural_key text UNIQUE, doc jsonb)"
                    )
                run_threads(2, 1.0, app_push(server, bearer, "w"))  # warm workers and pools
                print(f"{'conns':>5}  {'app req/s':>9} {'p50 ms':>7} {'p99 ms':>7}   "
                      f"{'raw req/s':>9} {'p50 ms':>7} {'p99 ms':>7}   raw/app")  # fmt: skip
                for n in levels:
                    app = run_threads(n, args.seconds, app_push(server, bearer, f"a{n}"))
                    raw = run_threads(n, args.seconds, floor_push(url, f"f{n}"))
                    print(
                        f"{n:5}  {app['rps']:9.1f} {app['p50'] * 1e3:7.1f} {app['p99'] * 1e3:7.1f}"
                        f"   {raw['rps']:9.1f} {raw['p50'] * 1e3:7.1f} {raw['p99'] * 1e3:7.1f}"
                        f"   {raw['rps'] / app['rps']:6.1f}×"
                        + (f"   ({app['failed']} app requests failed)" if app["failed"] else ""),
                        flush=True,
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
