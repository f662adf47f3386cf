"""OneRoster CSV import against the physical floor (raw COPY of the same rows), in one run.

    python bench/csv_import.py [--students 50000] [--phases]

Generates a district package into a temp dir (students, teachers, demographics, academic sessions,
classes, ≥ 500,000 enrollments), then measures, each in a fresh subprocess (wall time and peak
RSS): the bulk import into an empty database and a raw COPY of the same files into bare text tables
(interleaved, --bulk-runs times each, default 3; the medians count), a re-import of the unchanged
package, and a 1% delta. Prints the ratios and the load average.

It also measures a second floor, the schema floor: the rows the bulk import stored (OneRoster,
Ed-Fi, the links between them), dumped in binary and loaded into a fresh database the cheapest way
PostgreSQL has (emptied tables, no keys or indexes while loading, each built once afterwards). That
is what storing this package costs in the gateway's tables before any parsing or checking; the
bulk import / schema floor ratio is the importer's own overhead.

--without-projection leaves out the Ed-Fi projection (the mapping layer's share), to measure the
importer's own cost.

--phases also prints where the bulk import's (and the re-import's) time goes: the wall time of
each step of the importer (stage, value checks, duplicates, references, typed insert, index
builds, projection, commit), per file, measured by wrapping those functions in the child process.

Uses DATABASE_URL's server when set, else the embedded PostgreSQL in GATEWAY_DATA_DIR; the run
works in a database of its own (`csv_bench`), recreated each time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from edfi_common import libpq  # noqa: E402

SCHOOLS = 20
CLASSES_PER_SCHOOL = 120
CLASSES_PER_STUDENT = 10
STAMP = "2026-01-15T10:01:02.000Z"


# --------------------------------------------------------------------------- the package
def _header(name: str) -> list[str]:
    from gateway.oneroster.csv.catalogue import catalogue

    return catalogue().file(name).header


def _writer(folder: Path, name: str):
    fh = open(folder / f"{name}.csv", "w", newline="", encoding="utf-8")  # noqa: SIM115
    out = csv.writer(fh, lineterminator="\r\n")
    out.writerow(_header(name))
    return fh, out


def _row(name: str, values: dict[str, str]) -> list[str]:
    base = {"status": "active", "dateLastModified": STAMP, **values}
    return [base.get(h, "") for h in _header(name)]


def generate(folder: Path, students: int) -> dict[str, int]:
    rng = random.Random(6)
    counts: dict[str, int] = {}
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, rows) -> None:
        fh, out = _writer(folder, name)
        n = 0
        for values in rows:
            out.writerow(_row(name, values))
            n += 1
        fh.close()
        counts[name] = n

    schools = [f"sch-{s:03d}" for s in range(SCHOOLS)]
    write(
        "orgs",
        [{"sourcedId": "dist-1", "name": "Bench ISD", "type": "district", "identifier": "900000"}]
        + [
            {
                "sourcedId": s,
                "name": f"School {i}",
                "type": "school",
                "identifier": str(900001 + i),
                "parentSourcedId": "dist-1",
            }
            for i, s in enumerate(schools)
        ],
    )
    write(
        "academicSessions",
        [
            {
                "sourcedId": "as-2026",
                "title": "2025-2026",
                "type": "schoolYear",
                "startDate": "2025-08-15",
                "endDate": "2026-06-01",
                "schoolYear": "2026",
            },
            {
                "sourcedId": "as-s1",
                "title": "Fall",
                "type": "semester",
                "startDate": "2025-08-15",
                "endDate": "2025-12-20",
                "parentSourcedId": "as-2026",
                "schoolYear": "2026",
            },
            {
                "sourcedId": "as-s2",
                "title": "Spring",
                "type": "semester",
                "startDate": "2026-01-05",
                "endDate": "2026-06-01",
                "parentSourcedId": "as-2026",
                "schoolYear": "2026",
            },
        ],
    )
    write(
        "courses",
        (
            {
                "sourcedId": f"crs-{s}-{c}",
                "title": f"Course {c}",
                "courseCode": f"C{c:03d}",
                "schoolYearSourcedId": "as-2026",
                "orgSourcedId": s,
                "grades": "09,10",
            }
            for s in schools
            for c in range(CLASSES_PER_SCHOOL // 2)
        ),
    )
    classes = {s: [f"cls-{s}-{c}" for c in range(CLASSES_PER_SCHOOL)] for s in schools}
    write(
        "classes",
        (
            {
                "sourcedId": k,
                "title": f"Class {k}",
                "classType": "scheduled",
                "courseSourcedId": f"crs-{s}-{i // 2}",
                "schoolSourcedId": s,
                "termSourcedIds": "as-s1" if i % 2 else "as-s1,as-s2",
                "periods": "1",
            }
            for s in schools
            for i, k in enumerate(classes[s])
        ),
    )
    teachers = len(schools) * CLASSES_PER_SCHOOL // 2
    names = ["דוד", "Seán", "O'Brien", "בן-ציון", "Zoë", "Ana", "Li", "Kofi"]

    def users():
        for t in range(teachers):
            yield {
                "sourcedId": f"t-{t}",
                "enabledUser": "true",
                "role": "teacher",
                "orgSourcedIds": schools[t % SCHOOLS],
                "username": f"teacher{t}",
                "givenName": rng.choice(names),
                "familyName": f"Teacher {t}",
                "email": f"t{t}@bench.example",
            }
        for s in range(students):
            yield {
                "sourcedId": f"s-{s}",
                "enabledUser": "true",
                "role": "student",
                "orgSourcedIds": schools[s % SCHOOLS],
                "username": f"student{s}",
                "userIds": f"{{SIS:{100000 + s}}}",
                "givenName": rng.choice(names),
                "familyName": f"Student {s}",
                "identifier": str(100000 + s),
                "grades": "09",
            }

    write("users", users())
    write(
        "demographics",
        (
            {
                "sourcedId": f"s-{s}",
                "birthDate": "2010-03-04",
                "sex": "female" if s % 2 else "male",
                "white": str(s % 3 == 0).lower(),
                "hispanicOrLatinoEthnicity": "0",
            }
            for s in range(students)
        ),
    )

    def enrollments():
        n = 0
        for t in range(teachers):
            school = schools[t % SCHOOLS]
            for k in classes[school][(t // SCHOOLS) * 2 : (t // SCHOOLS) * 2 + 2]:
                n += 1
                yield {
                    "sourcedId": f"e-{n}",
                    "classSourcedId": k,
                    "schoolSourcedId": school,
                    "userSourcedId": f"t-{t}",
                    "role": "teacher",
                    "primary": "true",
                }
        for s in range(students):
            school = schools[s % SCHOOLS]
            for k in rng.sample(classes[school], CLASSES_PER_STUDENT):
                n += 1
                yield {
                    "sourcedId": f"e-{n}",
                    "classSourcedId": k,
                    "schoolSourcedId": school,
                    "userSourcedId": f"s-{s}",
                    "role": "student",
                    "primary": "false",
                }

    write("enrollments", enrollments())
    _manifest(folder, {name: "bulk" for name in counts})
    return counts


def _manifest(folder: Path, modes: dict[str, str]) -> None:
    lines = ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.1"]
    lines += [f"file.{name},{mode}" for name, mode in modes.items()]
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_delta(full: Path, folder: Path, fraction: float) -> dict[str, int]:
    """Every 1/fraction-th user renamed, every 1/fraction-th enrollment deleted."""
    folder.mkdir(parents=True, exist_ok=True)
    step = round(1 / fraction)
    counts = {}
    for name, change in (("users", "rename"), ("enrollments", "delete")):
        with open(full / f"{name}.csv", newline="", encoding="utf-8") as src:
            reader = csv.reader(src)
            header = next(reader)
            fh, out = _writer(folder, name)
            n = 0
            for i, row in enumerate(reader):
                if i % step:
                    continue
                record = dict(zip(header, row, strict=True))
                record["dateLastModified"] = "2026-02-01T00:00:00.000Z"
                if change == "rename":
                    record["familyName"] += " Jr"
                else:
                    record["status"] = "tobedeleted"
                out.writerow([record.get(h, "") for h in header])
                n += 1
            fh.close()
            counts[name] = n
    _manifest(folder, {"users": "delta", "enrollments": "delta"})
    return counts


def zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, path.name)
    return target


# --------------------------------------------------------------------------- phases
def _timed_phases() -> dict[str, float]:
    """Wrap the importer's steps with timers; returns the dict the timings accumulate in."""
    from contextlib import contextmanager

    from gateway.oneroster.csv import apply, checks, importer, staging

    spent: dict[str, float] = {}

    def add(key: str, seconds: float) -> None:
        spent[key] = spent.get(key, 0.0) + seconds

    def wrap(module, name: str, label) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                add(label(args), time.perf_counter() - started)

        setattr(module, name, timed)

    def by_file(step: str):
        def label(args) -> str:
            for arg in args:
                for attr in ("file", "staged"):
                    inner = getattr(arg, attr, None)
                    if inner is not None and hasattr(inner, "name"):
                        return f"{step} {inner.name}"
                    if inner is not None and hasattr(inner, "file"):
                        return f"{step} {inner.file.name}"
                if hasattr(arg, "filename"):
                    return f"{step} {arg.name}"
            return step

        return label

    wrap(importer, "stage_file", by_file("stage"))
    wrap(checks, "check_values", by_file("check values"))
    wrap(checks, "check_duplicates", by_file("check duplicates"))
    wrap(checks, "check_references", by_file("check references"))
    wrap(checks, "collect", lambda a: "collect issues")
    wrap(importer, "build_typed", by_file("typed"))
    wrap(importer, "apply_file", by_file("apply"))
    wrap(importer, "project_import", lambda a: "projection")
    original_rebuild = apply.indexes_rebuilt_after

    @contextmanager
    def rebuild(conn, table, enabled, **kwargs):
        with original_rebuild(conn, table, enabled, **kwargs):
            yield
            started = time.perf_counter()
        add(f"  of which index build {table}", time.perf_counter() - started)

    apply.indexes_rebuilt_after = rebuild
    wrap(importer, "drop_work_tables", lambda a: "drop work tables")
    # With wal_level=minimal the commit writes out the files the load created instead of WAL.
    from sqlalchemy.orm import Session

    wrap(Session, "commit", lambda a: "commit")
    del staging
    return spent


# --------------------------------------------------------------------------- children
def child_import(url: str, package: str, phases: bool = False, projection: bool = True) -> dict:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench")
    from gateway.app import create_app
    from gateway.config import Config
    from gateway.db import get_session
    from gateway.oneroster.csv import importer
    from gateway.oneroster.csv.importer import run_import

    if not projection:  # the importer's own cost, without the mapping layer's
        importer.project_import = lambda session, typed_tables: None
    spent = _timed_phases() if phases else {}
    app = create_app(Config())
    with app.app_context():
        baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = run_import(get_session(), package)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "status": report.status,
        "totals": report.totals(),
        "baseline_mb": baseline / 1024,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "phases": spent,
    }


def child_copy(url: str, folder: str) -> dict:
    """The floor: COPY the same files into bare text tables (no types, keys, indexes or checks)."""
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for path in sorted(Path(folder).glob("*.csv")):
            if path.name == "manifest.csv":
                continue
            with open(path, "rb") as fh:
                header = fh.readline().decode().strip().split(",")
                table = f"bare_{path.stem.lower()}"
                conn.execute(f"DROP TABLE IF EXISTS {table}")
                cols = ", ".join(f'"{h}" text' for h in header)
                conn.execute(f"CREATE TABLE {table} ({cols})")
                with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
                    while block := fh.read(1 << 20):
                        copy.write(block)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# The second floor: what storing the import's own rows costs in the gateway's tables, whoever writes
# them. The tables a bulk import filled (OneRoster, Ed-Fi and the links between them) are dumped in
# binary, then loaded into a fresh database the cheapest way PostgreSQL offers: emptied in the
# loading transaction (so with wal_level=minimal the rows skip the WAL), no foreign key, key or
# index while the rows go in, each key and index built once afterwards. No parsing, no checks, no
# Python per row: no importer of this schema can go below it.
def _filled_tables(conn: psycopg.Connection) -> list[str]:
    names = conn.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        " AND relname NOT IN ('alembic_version', 'audit_log')"
        " AND relname NOT LIKE 'bare\\_%'"  # the raw COPY's own tables, when it ran here
        " ORDER BY relname"
    ).fetchall()
    return [
        name
        for (name,) in names
        if conn.execute(f'SELECT EXISTS (SELECT FROM "{name}")').fetchone()[0]  # type: ignore[index]
    ]


def child_schema_dump(url: str, folder: str) -> dict:
    """Dump every table the import filled (and a fresh database leaves empty) into `folder`."""
    with psycopg.connect(url) as conn:
        for table in _filled_tables(conn):
            with open(Path(folder) / f"{table}.bin", "wb") as fh:
                with conn.cursor().copy(f'COPY "{table}" TO STDOUT (FORMAT binary)') as copy:
                    for block in copy:
                        fh.write(block)
    return {"seconds": 0.0, "peak_mb": 0.0}


_CONSTRAINTS = """
    SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
     WHERE contype IN ('p', 'u') AND conrelid = ANY(%(t)s::regclass[])
        OR contype = 'f' AND (conrelid = ANY(%(t)s::regclass[])
                              OR confrelid = ANY(%(t)s::regclass[]))
     ORDER BY contype <> 'f', contype  -- foreign keys dropped first, added back last
"""
_INDEXES = """
    SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
     WHERE indrelid = ANY(%s::regclass[])
       AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexrelid)
"""


def child_schema_load(url: str, folder: str) -> dict:
    tables = sorted(path.stem for path in Path(folder).glob("*.bin"))
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        quoted = ", ".join(f'"{table}"' for table in tables)
        conn.execute(f"TRUNCATE {quoted} CASCADE")
        constraints = conn.execute(_CONSTRAINTS, {"t": tables}).fetchall()
        indexes = conn.execute(_INDEXES, (tables,)).fetchall()
        for table, name, _ in constraints:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        for table in tables:
            with open(Path(folder) / f"{table}.bin", "rb") as fh:
                with conn.cursor().copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                    while block := fh.read(1 << 20):
                        copy.write(block)
        for table, name, definition in reversed(constraints):
            # The rows came from a database that held these constraints: a foreign key need not be
            # checked again (NOT VALID), the keys are rebuilt (which checks them, as a load must).
            valid = " NOT VALID" if definition.startswith("FOREIGN KEY") else ""
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}{valid}')
        for _, definition in indexes:
            conn.execute(definition)
    return {
        "seconds": time.perf_counter() - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(kind: str, url: str, target: Path, *extra: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, url, str(target), *extra],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    if out.returncode:
        sys.exit(f"the {kind} step failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main
def server_url() -> tuple[str, object]:
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured, None
    from gateway.config import Config
    from gateway.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(Path(Config().GATEWAY_DATA_DIR), database="postgres")
    return server.start(), server


def fresh_database(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    from gateway import migrate

    with psycopg.connect(libpq(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url


def median_run(runs: list[dict]) -> dict:
    """The run whose time is the median (the lower middle of an even count: never the slower)."""
    return sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--phases", action="store_true", help="time each step of the bulk import")
    parser.add_argument(
        "--bulk-runs", type=int, default=3, help="bulk imports into a fresh database (median)"
    )
    parser.add_argument(
        "--without-projection",
        action="store_true",
        help="leave out the Ed-Fi projection (the importer's own cost)",
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "URL", "TARGET"))
    args = parser.parse_args()
    if args.child:
        kind, url, target = args.child
        if kind == "copy":
            result = child_copy(url, target)
        elif kind == "schema-dump":
            result = child_schema_dump(url, target)
        elif kind == "schema-load":
            result = child_schema_load(url, target)
        else:
            result = child_import(
                url,
                target,
                phases=kind == "import-phases",
                projection=not args.without_projection,
            )
        print(json.dumps(result))
        return

    server, embedded = server_url()
    try:
        url = fresh_database(server, "csv_bench")
        raw_url = libpq(url)
        with tempfile.TemporaryDirectory(prefix="csv-bench-") as tmp:
            folder = Path(tmp) / "district"
            counts = generate(folder, args.students)
            package = zip_folder(folder, Path(tmp) / "district.zip")
            print(
                "package:",
                ", ".join(f"{n} {k}" for k, n in counts.items()),
                f"({package.stat().st_size / 1e6:.1f} MB zipped)",
                flush=True,
            )
            delta_counts = make_delta(folder, Path(tmp) / "delta", 0.01)
            delta = zip_folder(Path(tmp) / "delta", Path(tmp) / "delta.zip")

            # The floor and the bulk import are measured several times, interleaved, and their
            # medians are used: on a shared machine a neighbour's burst easily doubles one run.
            extra = ("--without-projection",) if args.without_projection else ()
            kind = "import-phases" if args.phases else "import"
            floors, bulks = [], []
            for n in range(args.bulk_runs):
                floors.append(run_child("copy", raw_url, folder))
                if n:
                    url = fresh_database(server, "csv_bench")
                bulks.append(run_child(kind, url, package, *extra))
            dump = Path(tmp) / "schema-floor"
            dump.mkdir()
            run_child("schema-dump", libpq(url), dump)
            again = run_child(kind, url, package, *extra)
            floors.append(run_child("copy", raw_url, folder))
            changed = run_child("import", url, delta, *extra)
            schema_floors = [
                run_child("schema-load", libpq(fresh_database(server, "csv_schema_floor")), dump)
                for _ in range(args.bulk_runs)
            ]
    finally:
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]

    loads = os.getloadavg()
    print(f"load average after the runs: {loads[0]:.2f} {loads[1]:.2f} {loads[2]:.2f}")
    print("raw COPY runs (s):   " + " ".join(f"{r['seconds']:.2f}" for r in floors))
    print("bulk import runs (s): " + " ".join(f"{r['seconds']:.2f}" for r in bulks))
    first = median_run(bulks)
    floor = median_run(floors)
    schema_floor = median_run(schema_floors)
    # Each bulk import ran right after its own raw COPY: their ratio is what one run measured.
    paired = sorted(b["seconds"] / f["seconds"] for b, f in zip(bulks, floors, strict=False))

    rows = sum(counts.values())
    print(f"\n{'scenario':34} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}  result")
    print(
        f"{'raw COPY into bare tables (median)':34} {floor['seconds']:8.2f} "
        f"{rows / floor['seconds']:9.0f} {floor['peak_mb']:8.0f}"
    )
    print(
        f"{'schema floor (median)':34} {schema_floor['seconds']:8.2f} "
        f"{rows / schema_floor['seconds']:9.0f} {'':>8}  the import's rows, binary COPY, "
        "keys and indexes after"
    )
    for label, run in (
        ("bulk import, empty db (median)", first),
        ("re-import, unchanged package", again),
        (f"1% delta ({sum(delta_counts.values())} rows)", changed),
    ):
        n = rows if run is not changed else sum(delta_counts.values())
        print(
            f"{label:34} {run['seconds']:8.2f} {n / run['seconds']:9.0f} "
            f"{run['peak_mb']:8.0f}  {run['status']} {run['totals']}"
        )
    for label, run in (("the bulk import", first), ("the unchanged re-import", again)):
        if run["phases"]:
            print(f"\nwhere {label}'s time goes (seconds):")
            for step, seconds in sorted(run["phases"].items(), key=lambda kv: -kv[1]):
                if seconds >= 0.01:
                    print(f"  {step:40} {seconds:7.2f}")
    fastest = min(r["seconds"] for r in bulks) / min(r["seconds"] for r in floors)
    print(
        f"\nbulk import / raw COPY:        {statistics.median(paired):.2f}x (aim ≤ 4x; median of"
        f" the {len(paired)} interleaved pairs, {paired[0]:.2f}–{paired[-1]:.2f})"
    )
    print(f"  (fastest / fastest:          {fastest:.2f}x)")
    print(f"schema floor / raw COPY:       {schema_floor['seconds'] / floor['seconds']:.2f}x")
    print(f"bulk import / schema floor:    {first['seconds'] / schema_floor['seconds']:.2f}x")
    print(f"re-import / bulk import:       {again['seconds'] / first['seconds']:.2f}x")
    print(f"1% delta / bulk import:        {changed['seconds'] / first['seconds']:.2f}x")
    print(
        f"peak memory of the import:     {first['peak_mb']:.0f} MB "
        f"(process baseline {first['baseline_mb']:.0f} MB; aim < 500 MB)"
    )


if __name__ == "__main__":
    main()
