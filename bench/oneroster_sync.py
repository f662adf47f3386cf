"""An LMS full sync: OneRoster users, classes and enrollments at limit=5000, against the JSON floor.

    python bench/oneroster_sync.py [--users 20000] [--readers 1,4] [--workers 2]

Starts `gateway serve` (gunicorn, the embedded default) in a temporary data directory and adds the
generated district of bench/oneroster_rest.py to its database. A full sync reads every page of
`/users`, `/classes` and `/enrollments` with `limit=5000`, as an LMS does; with several readers the
pages of each collection are shared among them (reader r reads pages r, r + R, …). The floor is the
same rows as JSON straight out of PostgreSQL: one `COPY (SELECT row_to_json(…)) TO STDOUT` per
table, split among the same number of connections by ranges of sourcedId. App and floor alternate,
and each is timed twice (the better run counts), so a change in the machine's load skews both alike.

Printed per reader count: records/s through the API, records/s of the floor, and app/floor."""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import psycopg
from serve_common import Server, in_threads, owner_url

COLLECTIONS = {"users": "users", "classes": "classes", "enrollments": "enrollments"}
PAGE = 5000
BASE = "/ims/oneroster/v1p1/"


def generate(url: str, users: int) -> None:
    import oneroster_rest

    with psycopg.connect(url) as conn:
        oneroster_rest.generate(conn, users)


def totals(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for name, table in COLLECTIONS.items()
        }


def api_sync(server: Server, bearer: str, counts: dict[str, int], readers: int) -> int:
    """Read every page of every collection with `readers` threads; the records received."""
    received = [0] * readers
    headers = {"Authorization": "Bearer " + bearer}

    def reader(r: int) -> None:
        conn = server.connection()
        for name, total in counts.items():
            for page in range(r, (total + PAGE - 1) // PAGE, readers):
                path = f"{BASE}{name}?limit={PAGE}&offset={page * PAGE}"
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    raise SystemExit(f"{name} page {page}: HTTP {response.status}")
                received[r] += len(json.loads(body)[name])
        conn.close()

    in_threads(reader, readers)
    return sum(received)


def floor_sync(url: str, readers: int) -> int:
    """The same tables as JSON by COPY, each split among `readers` connections; rows received."""
    with psycopg.connect(url) as conn:
        bounds = {
            table: conn.execute(
                "SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY sourced_id)"
                f" FROM {table}",
                ([i / readers for i in range(1, readers)],),
            ).fetchone()[0]
            or []
            for table in COLLECTIONS.values()
        }
    received = [0] * readers

    def reader(r: int) -> None:
        with psycopg.connect(url) as conn:
            for table, cuts in bounds.items():
                low = cuts[r - 1] if r > 0 else None
                high = cuts[r] if r < len(cuts) else None
                limits = (("sourced_id >= %(low)s", low), ("sourced_id < %(high)s", high))
                where = " AND ".join(part for part, value in limits if value is not None)
                query = f"SELECT row_to_json(t) FROM {table} t"
                if where:
                    query += " WHERE " + where
                with conn.cursor().copy(
                    f"COPY ({query} ORDER BY sourced_id) TO STDOUT",
                    {"low": low, "high": high},
                ) as copy:
                    for data in copy:
                        received[r] += bytes(data).count(b"\n")

    in_threads(reader, readers)
    return sum(received)


def best_rate(fn, runs: int = 2) -> float:
    best = 0.0
    for _ in range(runs):
        start = time.perf_counter()
        records = fn()
        best = max(best, records / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--readers", default="1,4")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oneroster-sync-bench-") as data_dir:
        server = Server(data_dir, {"AUDIT_MODE": "async"}, args.workers)
        try:
            bearer = server.token("sync bench")
            with owner_url(data_dir) as url:
                generate(url, args.users)
                counts = totals(url)
                print("records: " + ", ".join(f"{n} {c}" for n, c in counts.items()), flush=True)
                api_sync(server, bearer, {"users": PAGE}, 2)  # warm the workers' plans
                for readers in (int(r) for r in args.readers.split(",")):
                    app = best_rate(lambda n=readers: api_sync(server, bearer, counts, n))
                    floor = best_rate(lambda n=readers: floor_sync(url, n))
                    print(
                        f"{readers} reader(s): API {app:9.0f} records/s, JSON COPY floor"
                        f" {floor:9.0f} records/s, API/floor {app / floor:.2f}×",
                        flush=True,
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
