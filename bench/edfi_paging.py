"""Benchmark: a 500-record page of students through the Ed-Fi API, first page vs a page 90% deep
(cursor paging, and offset paging for contrast), each against the raw SQL reading the same rows.

Run: .venv/bin/python bench/edfi_paging.py [--students 100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from edfi_common import bearer, database, libpq, make_app, median_seconds  # noqa: E402

PAGE = 500
RAW = "SELECT * FROM students WHERE id > %s ORDER BY id LIMIT %s"
RAW_FIRST = "SELECT * FROM students ORDER BY id LIMIT %s"


def seed(url: str, count: int) -> None:
    """Students inserted set-based (the benchmark measures reads, not this load)."""
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(
            """
            INSERT INTO students (student_unique_id, first_name, last_name, birth_date, _etag,
                                  _last_modified_date, change_version, origin)
            SELECT 'B' || lpad(n::text, 8, '0'), 'First' || n, 'Last' || (n %% 997),
                   date '2008-01-01' + (n %% 2000), nextval('change_version_seq')::text, now(),
                   currval('change_version_seq'), 'edfi'
              FROM generate_series(1, %s) AS n
            """,
            (count,),
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE students")  # as autovacuum would, before reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    from gateway.edfi.paging import encode_token

    with database() as url:
        seed(url, args.students)
        app = make_app(url)
        headers = bearer(app)
        client = app.test_client()
        with psycopg.connect(libpq(url)) as conn:
            deep_after = conn.execute(
                "SELECT id FROM students ORDER BY id OFFSET %s LIMIT 1", (int(args.students * 0.9),)
            ).fetchone()[0]
            token = encode_token(deep_after, None)
            deep_offset = int(args.students * 0.9)

            def api(query: str, size: int = PAGE):
                def call():
                    r = client.get(f"/data/v3/ed-fi/students?{query}", headers=headers)
                    assert r.status_code == 200 and len(r.get_json()) == size, r.status_code

                return call

            def raw(sql: str, params: tuple):
                def call():
                    rows = conn.execute(sql, params).fetchall()
                    assert len(rows) == PAGE

                return call

            # alternate API and raw measurements so both see the same machine load
            samples: dict[str, list[float]] = {
                k: [] for k in ("first", "deep", "offset", "raw_first", "raw_deep", "one")
            }
            calls = {
                "first": api(f"pageSize={PAGE}"),
                "deep": api(f"pageSize={PAGE}&pageToken={token}"),
                "offset": api(f"limit={PAGE}&offset={deep_offset}"),
                "raw_first": raw(RAW_FIRST, (PAGE,)),
                "raw_deep": raw(RAW, (deep_after, PAGE)),
                # the fixed cost of any request: token look-up, audit record, routing
                "one": api("pageSize=1", 1),
            }
            for _ in range(args.repeat):
                for name, call in calls.items():
                    samples[name].append(median_seconds(call, 1))
            first, deep, offset_deep, raw_first, raw_deep, one = (
                statistics.median(samples[k])
                for k in ("first", "deep", "offset", "raw_first", "raw_deep", "one")
            )

    print(f"students: {args.students}, page: {PAGE}, median of {args.repeat}")
    print(
        f"  API cursor first page      {first * 1000:8.1f} ms   raw SQL {raw_first * 1000:6.1f} ms"
    )
    print(f"  API cursor page 90% deep   {deep * 1000:8.1f} ms   raw SQL {raw_deep * 1000:6.1f} ms")
    print(f"  API offset page 90% deep   {offset_deep * 1000:8.1f} ms")
    print(f"  API 1-record page          {one * 1000:8.1f} ms   (fixed cost of a request)")
    print(f"ratio deep/first (cursor):      {deep / first:5.2f}  (aim <= 1.5)")
    print(f"ratio first page / raw SQL:     {first / raw_first:5.2f}  (aim <= 3)")
    print(f"ratio deep page / raw SQL:      {deep / raw_deep:5.2f}  (aim <= 3)")
    print(f"ratio offset deep / first:      {offset_deep / first:5.2f}  (for contrast)")
    print(
        f"ratio (first - fixed) / raw:    {(first - one) / raw_first:5.2f}  (the page's own cost)"
    )


if __name__ == "__main__":
    main()
