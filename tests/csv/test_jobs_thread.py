"""The default job mode: the import runs in a background thread of the worker and the client polls
the job. It needs committed data, so it runs against a database of its own."""

from __future__ import annotations

import io
import time

import pytest

from tests.csv.conftest import import_client, write_package
from tests.csv.district import district


@pytest.fixture
def threaded_app(own_app):
    return own_app("gateway_csv_jobs")


def test_job_runs_in_the_background_and_reports_progress(threaded_app, tmp_path):
    _key, headers = import_client(threaded_app, "jobs")
    client = threaded_app.test_client()
    package = write_package(tmp_path, district()).read_bytes()
    accepted = client.post(
        "/oneroster/csv/imports",
        data={"file": (io.BytesIO(package), "district.zip")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert accepted.status_code == 202
    job_id = accepted.get_json()["id"]
    deadline = time.monotonic() + 60
    body = {}
    while time.monotonic() < deadline:
        body = client.get(f"/oneroster/csv/imports/{job_id}", headers=headers).get_json()
        if body["status"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    assert body["status"] == "applied", body
    assert body["progress"]["phase"] == "done"
    assert body["progress"]["total"] > 0
    assert body["progress"]["done"] == body["progress"]["total"]
    assert body["counts"]["enrollments.csv"]["created"] == 3
    assert not list((tmp_path / "data" / "csv-imports").iterdir())  # the upload is removed
