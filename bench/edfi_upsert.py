"""Benchmark: POST upsert throughput of students through the Ed-Fi API (token, validation,
authorization, change version, commit per request) vs the raw single-row upsert + commit; and the
set-based interchange path (one transaction) vs the raw multi-row upsert of the same records in one
transaction (one INSERT … SELECT FROM unnest per 500 records), each floor doing what its side does.

Run: .venv/bin/python bench/edfi_upsert.py [--records 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from edfi_common import bearer, database, libpq, make_app, seed_descriptors  # noqa: E402

BLOCK = 50
_UPSERT_TAIL = """
ON CONFLICT (student_unique_id) DO UPDATE
   SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
       birth_date = EXCLUDED.birth_date, change_version = EXCLUDED.change_version,
       _last_modified_date = EXCLUDED._last_modified_date
"""
RAW_UPSERT = (
    """
INSERT INTO students (student_unique_id, first_name, last_name, birth_date, _etag,
                      _last_modified_date, change_version, origin)
VALUES (%s, %s, %s, %s, '1', now(), nextval('change_version_seq'), 'edfi')"""
    + _UPSERT_TAIL
)
RAW_BULK_UPSERT = (
    """
INSERT INTO students (student_unique_id, first_name, last_name, birth_date, _etag,
                      _last_modified_date, change_version, origin)
SELECT u, f, l, b, '1', now(), nextval('change_version_seq'), 'edfi'
  FROM unnest(%s::text[], %s::text[], %s::text[], %s::date[]) AS r(u, f, l, b)"""
    + _UPSERT_TAIL
)
CHUNK = 500


def body(n: int, prefix: str) -> dict:
    return {
        "studentUniqueId": f"{prefix}{n:08d}",
        "firstName": f"First{n}",
        "lastSurname": f"Last{n % 997}",
        "birthDate": "2010-09-13",
        "birthSexDescriptor": "uri://ed-fi.org/SexDescriptor#Female",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=2000)
    args = parser.parse_args()
    n = args.records
    with database() as url:
        app = make_app(url)
        seed_descriptors(app)
        headers = bearer(app)
        client = app.test_client()
        client.post("/data/v3/ed-fi/students", json=body(0, "W"), headers=headers)  # warm up
        times = {"api new": 0.0, "raw new": 0.0, "api existing": 0.0, "raw existing": 0.0}
        with psycopg.connect(libpq(url)) as conn:

            def api(i: int, status: int) -> None:
                r = client.post("/data/v3/ed-fi/students", json=body(i, "A"), headers=headers)
                assert r.status_code == status, r.get_data(as_text=True)

            def raw(i: int) -> None:
                b = body(i, "R")
                params = (b["studentUniqueId"], b["firstName"], b["lastSurname"], b["birthDate"])
                conn.execute(RAW_UPSERT, params)
                conn.commit()

            # interleaved blocks, so both sides see the same machine load
            for phase, status in (("new", 201), ("existing", 200)):
                for start in range(0, n, BLOCK):
                    block = range(start, min(n, start + BLOCK))
                    began = time.perf_counter()
                    for i in block:
                        api(i, status)
                    times[f"api {phase}"] += time.perf_counter() - began
                    began = time.perf_counter()
                    for i in block:
                        raw(i)
                    times[f"raw {phase}"] += time.perf_counter() - began

        # the set-based path interchange loads use: same checks, multi-row statements
        from gateway.db import get_session
        from gateway.edfi.bulk import BulkUpsert
        from gateway.edfi.definitions import registry

        with app.app_context():
            session = get_session()
            began = time.perf_counter()
            result = BulkUpsert(session, registry()).run(
                registry().resources["students"], [body(i, "B") for i in range(n)]
            )
            session.commit()
            times["bulk"] = time.perf_counter() - began
            assert result.created == n and not result.rejected

        with psycopg.connect(libpq(url)) as conn:
            began = time.perf_counter()
            for start in range(0, n, CHUNK):
                docs = [body(i, "C") for i in range(start, min(n, start + CHUNK))]
                columns = ("studentUniqueId", "firstName", "lastSurname", "birthDate")
                conn.execute(RAW_BULK_UPSERT, [[d[c] for d in docs] for c in columns])
            conn.commit()
            times["raw bulk"] = time.perf_counter() - began

    print(f"records: {n} per phase, interleaved in blocks of {BLOCK}")
    for phase in ("new", "existing"):
        api_t, raw_t = times[f"api {phase}"], times[f"raw {phase}"]
        print(f"  {phase:9} API POST {n / api_t:7.0f}/s   raw upsert + commit {n / raw_t:7.0f}/s")
    print(f"  bulk load (interchange path) {n / times['bulk']:7.0f}/s in one transaction")
    print(f"  raw multi-row upsert         {n / times['raw bulk']:7.0f}/s in one transaction")
    for phase in ("new", "existing"):
        ratio = times[f"api {phase}"] / times[f"raw {phase}"]
        print(f"ratio API / raw ({phase}): {ratio:5.2f}x the time per record")
    ratio = times["bulk"] / times["raw bulk"]
    print(f"ratio bulk / raw multi-row upsert: {ratio:5.2f}x the time per record")
    speedup = times["api new"] / times["bulk"]
    print(f"bulk path vs API POST (new): {speedup:.0f}x the records/s")


if __name__ == "__main__":
    main()
