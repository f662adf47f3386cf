"""Benchmark: a 500-record page of students through the Ed-Fi API, first page vs a page 90% deep
(cursor paging, and offset paging for contrast), each against the raw SQL reading the same rows.

With --schools N (default 10) the students are enrolled round-robin in N schools, and the same
pages are read by a client limited to one school (the application's filter and, where the database
has it, row-level security), against the raw SQL of that school's students.

Run: .venv/bin/python bench/edfi_paging.py [--students 100000] [--repeat 15] [--schools 10]
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
# the students of some schools, as the application's filter and the RLS policy both say it
_AT_SCHOOL = (
    "EXISTS (SELECT 1 FROM student_school_associations a "
    "WHERE a.student_unique_id = s.student_unique_id AND a.school_id = ANY(%s))"
)
RAW_SCHOOL = f"SELECT s.* FROM students s WHERE {_AT_SCHOOL} AND s.id > %s ORDER BY s.id LIMIT %s"
RAW_SCHOOL_FIRST = f"SELECT s.* FROM students s WHERE {_AT_SCHOOL} ORDER BY s.id LIMIT %s"
FIRST_SCHOOL = 100


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


def enroll(url: str, schools: int) -> None:
    """`schools` schools, and each student enrolled in one of them (round-robin)."""
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(
            "INSERT INTO schools (school_id, name_of_institution) "
            "SELECT %s + k, 'School ' || k FROM generate_series(0, %s - 1) AS k",
            (FIRST_SCHOOL, schools),
        )
        conn.execute(
            """
            INSERT INTO student_school_associations (student_unique_id, school_id, entry_date,
                                                     _etag, _last_modified_date, change_version)
            SELECT student_unique_id,
                   %s + (row_number() OVER (ORDER BY student_unique_id) %% %s)::int,
                   date '2025-08-20', nextval('change_version_seq')::text, now(),
                   currval('change_version_seq')
              FROM students
            """,
            (FIRST_SCHOOL, schools),
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE schools")
        conn.execute("VACUUM ANALYZE student_school_associations")


def school_bearer(app, school_id: int) -> dict[str, str]:
    """A token of a client limited to one school."""
    from gateway.auth.clients import create_client
    from gateway.auth.tokens import issue_token
    from gateway.db import get_session

    with app.app_context():
        session = get_session()
        client, _ = create_client(
            session, name="bench-school", education_organization_ids=[str(school_id)]
        )
        token = issue_token(session, client, list(client.scopes), 3600)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--schools", type=int, default=10, help="0: no school-limited client")
    args = parser.parse_args()
    from gateway.edfi.paging import encode_token

    with database() as url:
        seed(url, args.students)
        if args.schools:
            enroll(url, args.schools)
        app = make_app(url)
        headers = bearer(app)
        school_headers = school_bearer(app, FIRST_SCHOOL) if args.schools else None
        client = app.test_client()
        with psycopg.connect(libpq(url)) as conn:
            deep_after = conn.execute(
                "SELECT id FROM students ORDER BY id OFFSET %s LIMIT 1", (int(args.students * 0.9),)
            ).fetchone()[0]
            token = encode_token(deep_after, None)
            deep_offset = int(args.students * 0.9)

            def api(query: str, size: int = PAGE, who: dict[str, str] = headers):
                def call():
                    r = client.get(f"/data/v3/ed-fi/students?{query}", headers=who)
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
                # a walk's first page: by limit (as the ODS/API 7.3, a pageSize needs a token)
                "first": api(f"limit={PAGE}"),
                "deep": api(f"pageSize={PAGE}&pageToken={token}"),
                "offset": api(f"limit={PAGE}&offset={deep_offset}"),
                "raw_first": raw(RAW_FIRST, (PAGE,)),
                "raw_deep": raw(RAW, (deep_after, PAGE)),
                # the fixed cost of any request: token look-up, audit record, routing
                "one": api("limit=1", 1),
            }
            if school_headers is not None:
                school = [FIRST_SCHOOL]
                in_school = args.students // args.schools
                school_after = conn.execute(
                    f"SELECT s.id FROM students s WHERE {_AT_SCHOOL} ORDER BY s.id "
                    "OFFSET %s LIMIT 1",
                    (school, int(in_school * 0.9) - PAGE),
                ).fetchone()[0]
                school_token = encode_token(school_after, None)
                calls |= {
                    "school_first": api(f"limit={PAGE}", who=school_headers),
                    "school_deep": api(
                        f"pageSize={PAGE}&pageToken={school_token}", who=school_headers
                    ),
                    "school_raw_first": raw(RAW_SCHOOL_FIRST, (school, PAGE)),
                    "school_raw_deep": raw(RAW_SCHOOL, (school, school_after, PAGE)),
                }
                samples |= {k: [] for k in calls if k.startswith("school")}
            for _ in range(args.repeat):
                for name, call in calls.items():
                    samples[name].append(median_seconds(call, 1))
            medians = {k: statistics.median(v) for k, v in samples.items()}
            first, deep, offset_deep, raw_first, raw_deep, one = (
                medians[k] for k in ("first", "deep", "offset", "raw_first", "raw_deep", "one")
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
    if "school_first" in medians:
        s_first, s_deep = medians["school_first"], medians["school_deep"]
        s_raw_first, s_raw_deep = medians["school_raw_first"], medians["school_raw_deep"]
        per_school = args.students // args.schools
        print(f"client limited to 1 of {args.schools} schools ({per_school} students):")
        print(f"  API cursor first page      {s_first * 1000:8.1f} ms   raw SQL", end=" ")
        print(f"{s_raw_first * 1000:6.1f} ms")
        print(f"  API cursor page 90% deep   {s_deep * 1000:8.1f} ms   raw SQL", end=" ")
        print(f"{s_raw_deep * 1000:6.1f} ms")
        print(f"ratio deep/first (school):      {s_deep / s_first:5.2f}  (aim <= 1.5)")
        print(f"ratio first page / raw (school):{s_first / s_raw_first:5.2f}  (aim <= 3)")
        print(f"ratio deep page / raw (school): {s_deep / s_raw_deep:5.2f}  (aim <= 3)")


if __name__ == "__main__":
    main()
