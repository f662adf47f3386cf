"""Anything the gateway stores it can export, and anything it exports it imports: an export of an
Ed-Fi-born state (the Ed-Fi API's writes, the demo district), a CSV-loaded state and a REST-written
gradebook, imported with `gateway import-csv` into an empty gateway, exports the same data (every
column but dateLastModified, which says when each gateway stored the row)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.oneroster.csv.export import export_stream
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district
from tests.csv.test_cli import fresh_db  # noqa: F401  (fixture)
from tests.mapping.conftest import OR

do_import = csv_suite.do_import
Tables = dict[str, list[tuple[str, ...]]]


def tables(data: bytes) -> Tables:
    """Each CSV file of a package: its rows without dateLastModified, sorted."""
    out: Tables = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name == "manifest.csv":
                continue
            rows = list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))
            keep = [i for i, h in enumerate(rows[0]) if h != "dateLastModified"]
            out[name] = sorted(tuple(r[i] for i in keep) for r in rows[1:])
    return out


def exported(app, session) -> bytes:
    with app.app_context():
        return b"".join(export_stream(session))


def reimported(tmp_path: Path, env: dict[str, str], data: bytes) -> bytes:
    package = tmp_path / "export.zip"
    package.write_bytes(data)
    runner = CliRunner()
    result = runner.invoke(cli, ["import-csv", str(package)], env=env)
    assert result.exit_code == 0, result.output
    again = tmp_path / "again.zip"
    result = runner.invoke(cli, ["export-csv", "--out", str(again)], env=env)
    assert result.exit_code == 0, result.output
    return again.read_bytes()


def assert_same(first: bytes, second: bytes) -> None:
    a, b = tables(first), tables(second)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], name


def test_edfi_born_state_reimports(tmp_path, app, db_session, rostered, fresh_db):  # noqa: F811
    data = exported(app, db_session)
    assert tables(data)["lineItems.csv"], "the Ed-Fi gradebook entry is exported"
    assert_same(data, reimported(tmp_path, fresh_db("gateway_reimport_edfi"), data))


def test_csv_loaded_state_reimports(tmp_path, app, db_session, do_import, fresh_db):  # noqa: F811
    assert do_import(write_package(tmp_path, district())).status == "applied"
    data = exported(app, db_session)
    assert_same(data, reimported(tmp_path, fresh_db("gateway_reimport_csv"), data))


def test_rest_written_gradebook_reimports(
    tmp_path,
    app,
    db_session,
    client,
    auth_headers,
    rostered,
    fresh_db,  # noqa: F811
):
    headers = auth_headers()
    classes = client.get(f"{OR}/classes", headers=headers).get_json()["classes"]
    sessions = client.get(f"{OR}/academicSessions", headers=headers).get_json()
    term = sessions["academicSessions"][0]["sourcedId"]
    student = client.get(f"{OR}/students", headers=headers).get_json()["users"][0]
    assert client.put(
        f"{OR}/categories/cat-rest", json={"category": {"title": "Quizzes"}}, headers=headers
    ).status_code in (200, 201)
    line_item = {
        "title": "Quiz 1",
        "assignDate": "2021-09-02",
        "dueDate": "2021-09-09",
        "class": {"sourcedId": classes[0]["sourcedId"]},
        "category": {"sourcedId": "cat-rest"},
        "gradingPeriod": {"sourcedId": term},
        "resultValueMin": 0,
        "resultValueMax": 20,
    }
    put = client.put(f"{OR}/lineItems/li-rest", json={"lineItem": line_item}, headers=headers)
    assert put.status_code == 201, put.get_json()
    result = {
        "lineItem": {"sourcedId": "li-rest"},
        "student": {"sourcedId": student["sourcedId"]},
        "scoreStatus": "fully graded",
        "score": 17,
        "scoreDate": "2021-09-10",
    }
    put = client.put(f"{OR}/results/res-rest", json={"result": result}, headers=headers)
    assert put.status_code == 201, put.get_json()
    data = exported(app, db_session)
    assert any(r[0] == "li-rest" for r in tables(data)["lineItems.csv"])
    assert_same(data, reimported(tmp_path, fresh_db("gateway_reimport_rest"), data))


@pytest.mark.timeout(1200)  # the whole sample district through the Ed-Fi loader
def test_demo_district_reimports(tmp_path, app, db_session, edfi, fresh_db):  # noqa: F811
    from gateway.edfi.demo import load_demo

    assert load_demo(db_session).rejected == []
    data = exported(app, db_session)
    assert_same(data, reimported(tmp_path, fresh_db("gateway_reimport_demo"), data))
