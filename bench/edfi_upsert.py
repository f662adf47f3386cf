"""Benchmark: POST upsert throughput of students through the Ed-Fi API (token, validation,
authorization, change version, commit per request) vs the raw single-row upsert + commit.

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

RAW_UPSERT = """
INSERT INTO students (student_unique_id, first_name, last_name, birth_date, _etag,
                      _last_modified_date, change_version, origin)
VALUES (%s, %s, %s, %s, '1', now(), nextval('change_version_seq'), 'edfi')
ON CONFLICT (student_unique_id) DO UPDATE
   SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name,
       birth_date = EXCLUDED.birth_date, change_version = EXCLUDED.change_version,
       _last_modified_date = EXCLUDED._last_modified_date
"""


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

        started = time.perf_counter()
        for i in range(n):
            r = client.post("/data/v3/ed-fi/students", json=body(i, "A"), headers=headers)
            assert r.status_code == 201, r.get_data(as_text=True)
        api_insert = time.perf_counter() - started

        started = time.perf_counter()
        for i in range(n):
            r = client.post("/data/v3/ed-fi/students", json=body(i, "A"), headers=headers)
            assert r.status_code == 200, r.get_data(as_text=True)
        api_update = time.perf_counter() - started

        with psycopg.connect(libpq(url)) as conn:
            started = time.perf_counter()
            for i in range(n):
                b = body(i, "R")
                conn.execute(
                    RAW_UPSERT,
                    (b["studentUniqueId"], b["firstName"], b["lastSurname"], b["birthDate"]),
                )
                conn.commit()
            raw = time.perf_counter() - started

    print(f"records: {n}")
    print(f"  API POST (new)        {n / api_insert:8.0f} records/s")
    print(f"  API POST (existing)   {n / api_update:8.0f} records/s")
    print(f"  raw upsert + commit   {n / raw:8.0f} records/s")
    print(f"ratio API new / raw:      {api_insert / raw:5.2f}x the time per record")
    print(f"ratio API existing / raw: {api_update / raw:5.2f}x the time per record")


if __name__ == "__main__":
    main()
