"""An SIS's first load over HTTP: an Ed-Fi bulk job against the per-record API and raw COPY.

    python bench/edfi_bulk_job.py [--students 50000] [--connections 4] [--seconds 8]

Starts `gateway serve` (gunicorn, the embedded default with the demo district) in a temporary data
directory and measures, in the same run:

- **bulk job**: `students.ndjson` and `studentSchoolAssociations.ndjson` (one association per
  student, at a demo school) zipped, submitted to `POST /data/v3/bulkOperations` and polled until
  the job ends: records/s from the upload to the commit, the OneRoster projection included;
- **per-record API**: the same kind of records POSTed one by one from `--connections` keep-alive
  connections for `--seconds` (a student, then its association), half of it before the bulk job
  and half after, so that a change in the machine's load skews both sides alike;
- **raw COPY**: the same documents copied as JSON into a bare table in one transaction.

Printed: records/s of each, bulk/per-record (aim ≥ 50×) and bulk/raw COPY.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
import uuid
import zipfile

import psycopg
from edfi_push import app_push, association, run_threads, student
from serve_common import Server, owner_url


def package(prefix: str, students: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, make in (("students", student), ("studentSchoolAssociations", association)):
            lines = (json.dumps(make(f"{prefix}{i:07d}")) for i in range(students))
            archive.writestr(f"{name}.ndjson", "\n".join(lines) + "\n")
    return buffer.getvalue()


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/zip\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), boundary


def bulk_job(server: Server, bearer: str, content: bytes) -> tuple[float, dict]:
    body, boundary = multipart("district.zip", content)
    conn = server.connection()
    began = time.perf_counter()
    conn.request(
        "POST", "/data/v3/bulkOperations", body=body,
        headers={"Authorization": "Bearer " + bearer,
                 "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    response = conn.getresponse()
    job = json.loads(response.read())
    if response.status != 202:
        raise SystemExit(f"bulk job refused: {response.status} {job}")
    while job["status"] in ("queued", "running"):
        time.sleep(0.2)
        conn.request("GET", job["location"], headers={"Authorization": "Bearer " + bearer})
        job = json.loads(conn.getresponse().read())
    return time.perf_counter() - began, job


def raw_copy(url: str, prefix: str, students: int) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bulk_floor (doc jsonb)")
        conn.commit()
        began = time.perf_counter()
        with conn.cursor().copy("COPY bulk_floor (doc) FROM STDIN") as copy:
            for make in (student, association):
                for i in range(students):
                    copy.write_row((json.dumps(make(f"{prefix}{i:07d}")),))
        conn.commit()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    records = 2 * args.students
    content = package("BJ", args.students)
    with tempfile.TemporaryDirectory(prefix="edfi-bulk-bench-") as data_dir:
        server = Server(data_dir, {"AUDIT_MODE": "async"})
        try:
            bearer = server.token("bulk bench")
            # half before the job, half after: a change in the machine's load skews both sides
            before = run_threads(args.connections, args.seconds / 2, app_push(server, bearer, "PR"))
            seconds, job = bulk_job(server, bearer, content)
            if job["status"] != "applied":
                raise SystemExit(f"bulk job ended {job['status']}: {job['report']}")
            after = run_threads(args.connections, args.seconds / 2, app_push(server, bearer, "PA"))
            per_record = {"rps": (before["rps"] + after["rps"]) / 2}
            with owner_url(data_dir) as url:
                floor = raw_copy(url, "RC", args.students)
        finally:
            server.stop()
    bulk_rate, floor_rate = records / seconds, records / floor
    print(f"records: {records} ({args.students} students + as many associations)")
    print(
        f"per-record API ({args.connections} connections): {per_record['rps']:9.0f} records/s "
        f"({before['rps']:.0f} before the job, {after['rps']:.0f} after)"
    )
    print(f"bulk job (upload to commit):       {bulk_rate:9.0f} records/s ({seconds:.1f} s)")
    print(f"raw COPY of the same documents:    {floor_rate:9.0f} records/s ({floor:.2f} s)")
    print(f"bulk job / per-record API: {bulk_rate / per_record['rps']:.0f}× (aim ≥ 50×)")
    print(f"bulk job / raw COPY:       {floor / seconds:.3f}× ({seconds / floor:.1f}× the time)")


if __name__ == "__main__":
    main()
