"""POST /oneroster/csv/imports (multipart, 202 + job), GET the job, GET /oneroster/csv/export."""

from __future__ import annotations

import io
import zipfile

from tests.csv.conftest import write_package
from tests.csv.district import district

IMPORT = "oneroster.csv.import"
EXPORT = "oneroster.csv.export"


def _post(client, headers, path, **form):
    with open(path, "rb") as fh:
        data = {"file": (io.BytesIO(fh.read()), "package.zip"), **form}
    return client.post(
        "/oneroster/csv/imports", data=data, headers=headers, content_type="multipart/form-data"
    )


def test_import_job_is_accepted_and_readable(tmp_path, client, auth_headers, sync_jobs, rows):
    headers = auth_headers(scopes=[IMPORT])
    response = _post(client, headers, write_package(tmp_path, district()))
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"].endswith(f"/oneroster/csv/imports/{job['id']}")
    read = client.get(f"/oneroster/csv/imports/{job['id']}", headers=headers)
    assert read.status_code == 200
    body = read.get_json()
    assert body["status"] == "applied"
    assert body["counts"]["users.csv"]["created"] == 4
    assert body["report"]["totals"]["created"] == 20
    assert "u-s1" in rows("users", "status")


def test_rejected_package_job_carries_the_report(tmp_path, client, auth_headers, sync_jobs):
    headers = auth_headers(scopes=[IMPORT])
    data = district()
    data["users"][0]["role"] = "wizard"
    job = _post(client, headers, write_package(tmp_path, data)).get_json()
    body = client.get(f"/oneroster/csv/imports/{job['id']}", headers=headers).get_json()
    assert body["status"] == "rejected"
    users = next(f for f in body["report"]["files"] if f["file"] == "users.csv")
    assert users["issues"][0]["line"] == 2
    assert users["issues"][0]["column"] == "role"
    assert users["issues"][0]["value"] == "wizard"


def test_dry_run_job(tmp_path, client, auth_headers, sync_jobs, rows):
    headers = auth_headers(scopes=[IMPORT])
    job = _post(client, headers, write_package(tmp_path, district()), dryRun="true").get_json()
    assert job["status"] == "dry-run" and job["dryRun"] is True
    assert rows("users", "status") == {}


def test_import_needs_a_file_and_the_scope(tmp_path, client, auth_headers, sync_jobs):
    no_file = client.post(
        "/oneroster/csv/imports",
        data={},
        headers=auth_headers(scopes=[IMPORT]),
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 400
    assert no_file.get_json()["error"] == "bad-request"
    wrong = _post(client, auth_headers(scopes=[EXPORT]), write_package(tmp_path, district()))
    assert wrong.status_code == 403
    anonymous = client.post("/oneroster/csv/imports")
    assert anonymous.status_code == 401


def test_a_job_is_visible_only_to_its_client(tmp_path, client, auth_headers, sync_jobs):
    job = _post(client, auth_headers(scopes=[IMPORT]), write_package(tmp_path, district()))
    other = auth_headers(scopes=[IMPORT], name="other")
    assert (
        client.get(f"/oneroster/csv/imports/{job.get_json()['id']}", headers=other).status_code
        == 404
    )
    assert client.get("/oneroster/csv/imports/not-a-uuid", headers=other).status_code == 404


def test_export_streams_a_package(tmp_path, client, auth_headers, sync_jobs):
    _post(client, auth_headers(scopes=[IMPORT]), write_package(tmp_path, district()))
    response = client.get("/oneroster/csv/export", headers=auth_headers(scopes=[EXPORT]))
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "manifest.csv" in names and "users.csv" in names


def test_export_respects_the_client_organizations(tmp_path, client, auth_headers, sync_jobs):
    _post(client, auth_headers(scopes=[IMPORT]), write_package(tmp_path, district()))
    outside = auth_headers(scopes=[EXPORT], edorgs=["org-elsewhere"], name="outside")
    zf = zipfile.ZipFile(io.BytesIO(client.get("/oneroster/csv/export", headers=outside).data))
    assert "users.csv" not in zf.namelist()
    assert "academicSessions.csv" in zf.namelist()  # shared catalogue data
    denied = client.get("/oneroster/csv/export?org=org-s1", headers=outside)
    assert denied.status_code == 403
    bad = client.get(
        "/oneroster/csv/export?since=yesterday", headers=auth_headers(scopes=[EXPORT], name="x")
    )
    assert bad.status_code == 400
    unstorable = client.get(
        "/oneroster/csv/export?org=%00", headers=auth_headers(scopes=[EXPORT], name="y")
    )
    assert unstorable.status_code == 400
    assert "org" in unstorable.get_json()["message"]


def test_export_is_audited(tmp_path, client, auth_headers, sync_jobs, audit_rows):
    headers = auth_headers(scopes=[EXPORT], name="auditor")
    headers["X-Correlation-Id"] = "csv-export-audit"
    assert client.get("/oneroster/csv/export", headers=headers).status_code == 200
    assert [r["action"] for r in audit_rows("csv-export-audit")] == ["export"]


def test_imports_are_audited_applied_or_rejected(
    tmp_path, client, auth_headers, sync_jobs, audit_rows
):
    headers = auth_headers(scopes=[IMPORT], name="auditor")
    applied = _post(
        client,
        headers | {"X-Correlation-Id": "csv-import-audit"},
        write_package(tmp_path, district()),
    )
    assert applied.status_code == 202
    [row] = audit_rows("csv-import-audit")
    assert (row["action"], row["method"], row["status"]) == ("import", "POST", 202)
    assert row["record_ids"] == [f"csv-import:{applied.get_json()['id']}"]
    assert row["path"] == "/oneroster/csv/imports" and row["client_key"]
    job = applied.get_json()["id"]
    read = client.get(
        f"/oneroster/csv/imports/{job}", headers=headers | {"X-Correlation-Id": "csv-job-audit"}
    )
    assert read.status_code == 200
    assert [r["action"] for r in audit_rows("csv-job-audit")] == ["read"]
    data = district()
    data["users"][0]["role"] = "wizard"
    (tmp_path / "bad").mkdir()
    rejected = _post(
        client,
        headers | {"X-Correlation-Id": "csv-rejected-audit"},
        write_package(tmp_path / "bad", data),
    )
    assert rejected.status_code == 202
    assert [r["status"] for r in audit_rows("csv-rejected-audit")] == [202]
    refused = _post(
        client,
        auth_headers(scopes=[EXPORT], name="no-import") | {"X-Correlation-Id": "csv-refused-audit"},
        write_package(tmp_path / "bad", data),
    )
    assert refused.status_code == 403
    assert [(r["action"], r["status"]) for r in audit_rows("csv-refused-audit")] == [
        ("create", 403)
    ]


def test_export_passwords_only_for_allowed_clients(
    tmp_path, app, client, auth_headers, make_api_client, sync_jobs
):
    import base64

    data = district()
    data["users"][0]["password"] = "s3cret"
    _post(client, auth_headers(scopes=[IMPORT]), write_package(tmp_path, data))

    def password_of_u_t1(headers) -> str:
        zf = zipfile.ZipFile(io.BytesIO(client.get("/oneroster/csv/export", headers=headers).data))
        lines = zf.read("users.csv").decode().splitlines()
        header = lines[0].split(",")
        row = next(r for r in lines[1:] if r.startswith("u-t1,"))
        return row.split(",")[header.index("password")]

    key, secret = make_api_client(name="sis", scopes=[EXPORT])
    basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
    token = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    ).get_json()["access_token"]
    sis = {"Authorization": f"Bearer {token}"}
    assert password_of_u_t1(sis) == ""
    previous = app.config.get("ONEROSTER_PASSWORD_CLIENTS")
    app.config["ONEROSTER_PASSWORD_CLIENTS"] = [key]
    try:
        assert password_of_u_t1(sis) == "s3cret"
    finally:
        app.config["ONEROSTER_PASSWORD_CLIENTS"] = previous
