"""GET /oneroster/csv/export of an organization-limited client reads under the database's
row-level security (compliance rule 2): with the application's organization condition removed, the
package still holds only that client's organizations' rows."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sqlalchemy import text

from gateway.oneroster.csv import export

EXPORT = "oneroster.csv.export"


@pytest.fixture
def without_app_condition(monkeypatch):
    """The export's organization condition gone, as a bug might lose it."""
    original = export._condition
    monkeypatch.setattr(
        export, "_condition", lambda file, since, _scope: original(file, since, None)
    )


def _package(client, headers, query: str = "") -> zipfile.ZipFile:
    response = client.get("/oneroster/csv/export" + query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return zipfile.ZipFile(io.BytesIO(response.data))


def _ids(zf: zipfile.ZipFile, name: str) -> list[str]:
    if name not in zf.namelist():
        return []
    rows = list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"))))
    return sorted(r[0] for r in rows[1:])


def test_a_school_client_exports_its_school_only_without_the_app_condition(
    client, auth_headers, two_schools, without_app_condition
):
    zf = _package(client, auth_headers(scopes=[EXPORT], edorgs=["org-s2"], name="s2"))
    assert _ids(zf, "users.csv") == ["u-t9"]
    assert _ids(zf, "orgs.csv") == ["org-s2"]
    for name in ("classes.csv", "courses.csv", "enrollments.csv", "demographics.csv"):
        assert _ids(zf, name) == [], name
    for name in ("lineItems.csv", "results.csv"):
        assert _ids(zf, name) == [], name
    # shared catalogue data has no organization: exported whole, as before
    assert _ids(zf, "academicSessions.csv") == ["as-t1", "as-y2026"]


def test_narrowing_to_one_school_holds_without_the_app_condition(
    client, auth_headers, two_schools, without_app_condition
):
    headers = auth_headers(scopes=[EXPORT], edorgs=["org-d1"], name="district")
    assert _ids(_package(client, headers), "users.csv") == ["u-p1", "u-s1", "u-s2", "u-t1", "u-t9"]
    assert _ids(_package(client, headers, "?org=org-s2"), "users.csv") == ["u-t9"]


def test_an_unrestricted_client_exports_everything_without_the_app_condition(
    client, auth_headers, two_schools, without_app_condition
):
    zf = _package(client, auth_headers(scopes=[EXPORT], name="all"))
    assert _ids(zf, "users.csv") == ["u-p1", "u-s1", "u-s2", "u-t1", "u-t9"]
    assert _ids(zf, "enrollments.csv") == ["enr-1", "enr-2", "enr-3"]


def test_the_request_goes_on_as_its_own_role_after_the_export(
    client, auth_headers, two_schools, db_session
):
    me = db_session.scalar(text("SELECT current_user"))
    _package(client, auth_headers(scopes=[EXPORT], edorgs=["org-s2"], name="s2"))
    assert db_session.scalar(text("SELECT current_user")) == me
    assert not db_session.scalar(text("SELECT current_setting('gateway.org_ids', true)"))
