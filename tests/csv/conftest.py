"""Fixtures for the CSV tests: packages written to tmp_path, imported with the test session."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest

from tests.csv import district

ALL_FILES = (
    "orgs",
    "academicSessions",
    "categories",
    "resources",
    "courses",
    "classes",
    "users",
    "demographics",
    "enrollments",
    "lineItems",
    "results",
    "classResources",
    "courseResources",
)


def csv_text(header: list[str], rows: list[dict[str, str]], crlf: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue()


def write_package(
    where: Path,
    files: dict[str, list[dict[str, str]] | str],
    modes: dict[str, str] | None = None,
    *,
    as_zip: bool = True,
    bom: bool = False,
    crlf: bool = False,
    headers: dict[str, list[str]] | None = None,
    manifest: str | None = None,
) -> Path:
    """Write a package: `files` maps a file name to rows (dicts) or to raw CSV text."""
    modes = modes or {}
    contents: dict[str, str] = {}
    for name in ALL_FILES:
        mode = modes.get(name, "bulk" if name in files else "absent")
        if name in files:
            data = files[name]
            if isinstance(data, str):
                contents[f"{name}.csv"] = data
            else:
                header = (headers or {}).get(name) or district.HEADERS[name]
                contents[f"{name}.csv"] = csv_text(header, data, crlf)
        modes.setdefault(name, mode)
    if manifest is None:
        lines = ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.1"]
        lines += [f"file.{name},{modes[name]}" for name in ALL_FILES]
        lines += ["source.systemName,Test SIS", "source.systemCode,test"]
        manifest = "\n".join(lines) + "\n"
    contents["manifest.csv"] = manifest
    encoded = {
        name: ("\ufeff" if bom else "").encode() + text.encode("utf-8")
        for name, text in contents.items()
    }
    if as_zip:
        path = where / "package.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in encoded.items():
                zf.writestr(name, data)
        return path
    path = where / "package"
    path.mkdir(exist_ok=True)
    for name, data in encoded.items():
        (path / name).write_bytes(data)
    return path


@pytest.fixture
def do_import(app, db_session):
    from gateway.oneroster.csv.importer import run_import

    def run(path, **kwargs):
        with app.app_context():
            return run_import(db_session, path, **kwargs)

    return run


@pytest.fixture
def two_schools(tmp_path, do_import):
    """The test district imported (school org-s1 with its class, enrollments, results) with a
    second school, org-s2, with one teacher."""
    data = district.district()
    data["orgs"].append(
        {
            "sourcedId": "org-s2",
            "status": "active",
            "name": "Other School",
            "type": "school",
            "parentSourcedId": "org-d1",
        }
    )
    data["users"].append(
        {**data["users"][0], "sourcedId": "u-t9", "username": "other", "orgSourcedIds": "org-s2"}
    )
    assert do_import(write_package(tmp_path, data)).status == "applied"


@pytest.fixture
def rows(db_session):
    """rows(table, *columns): {sourced_id: (columns…)} as stored."""
    from sqlalchemy import text

    def fetch(table: str, *columns: str) -> dict[str, tuple]:
        cols = ", ".join(f'"{c}"' for c in columns)
        query = text(f"SELECT sourced_id, {cols} FROM {table} ORDER BY sourced_id")
        return {r[0]: tuple(r[1:]) for r in db_session.execute(query)}

    return fetch


@pytest.fixture
def own_app(pg_server_url, dynamodb_endpoint, tmp_path):
    """own_app(database) → an app on a database of its own, for tests whose work commits
    (background jobs, killed workers) and so must not meet other tests' open transactions."""
    from gateway import migrate
    from gateway.app import create_app
    from tests.conftest import TestConfig, recreate_database

    made = []

    def make(database: str):
        url = recreate_database(pg_server_url, database)
        migrate.upgrade(url)
        config = TestConfig(url, dynamodb_endpoint)
        config.GATEWAY_DATA_DIR = tmp_path / "data"
        made.append(create_app(config))
        return made[-1]

    yield make
    for app in made:
        app.extensions["gateway.db"].engine.dispose()


def import_client(app, name: str) -> tuple[str, dict[str, str]]:
    """A committed API client allowed to import, and its bearer header."""
    from gateway.auth.clients import create_client
    from gateway.auth.tokens import issue_token
    from gateway.db import get_session

    scopes = ["oneroster.csv.import"]
    with app.app_context():
        session = get_session()
        client, _ = create_client(session, name=name, scopes=scopes, all_organizations=True)
        token = issue_token(session, client, scopes, 3600)
        session.commit()
        return client.key, {"Authorization": f"Bearer {token}"}


def assert_uses_index(session, query: str, index: str) -> None:
    """The planner answers `query` through `index` (sequential scans off, as for a big table)."""
    from sqlalchemy import text

    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(session.execute(text(f"EXPLAIN {query}")).scalars())
    # "Index Scan using ix_… on …" or "Bitmap Index Scan on ix_…"
    assert re.search(rf"(using|Scan on) {index}\b", plan), plan
