"""Input a hostile client controls answers 4xx in the envelope of the API called, never a 500.

Issue 14, finding 6: change versions beyond PostgreSQL's bigint and deeply nested JSON bodies.
"""

from __future__ import annotations

import pytest

from tests.edfi.conftest import descriptors_loaded  # noqa: F401 - a fixture
from tests.oneroster.factories import BASE, district

DATA = "/data/v3/ed-fi"
BIGINT_MAX = 2**63 - 1
# Each nests far deeper than Python's recursion limit.
DEEP_BODIES = {"array": "[" * 10_000, "object": '{"a":' * 10_000}


def _problem(response, status: int = 400) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["type"].startswith("urn:ed-fi:api:bad-request")
    return body


@pytest.fixture
def edfi_headers(auth_headers):
    return auth_headers()


@pytest.mark.parametrize(
    "path",
    [
        "students",
        "schools",
        "students/deletes",
        "studentSchoolAssociations/keyChanges",
        "gradeLevelDescriptors",
        "gradeLevelDescriptors/deletes",
    ],
)
@pytest.mark.parametrize("name", ["minChangeVersion", "maxChangeVersion"])
@pytest.mark.parametrize(
    "value", [str(BIGINT_MAX + 1), "99999999999999999999999999", "-1", "-9223372036854775809", "x1"]
)
def test_change_version_out_of_range_is_400(client, edfi_headers, path, name, value):
    response = client.get(f"{DATA}/{path}?{name}={value}", headers=edfi_headers)
    body = _problem(response)
    assert name in " ".join(body.get("validationErrors", {})) or name.lower() in body["detail"]


def test_largest_change_version_is_accepted(client, edfi_headers):
    response = client.get(f"{DATA}/students?minChangeVersion={BIGINT_MAX}", headers=edfi_headers)
    assert response.status_code == 200
    assert response.get_json() == []


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_deep_json_on_edfi_post_and_put(client, edfi_headers, shape):
    headers = {**edfi_headers, **JSON}
    body = _problem(client.post(f"{DATA}/students", data=DEEP_BODIES[shape], headers=headers))
    assert "nest" in body["detail"]
    put = client.put(
        f"{DATA}/students/00000000-0000-0000-0000-000000000001",
        data=DEEP_BODIES[shape],
        headers=headers,
    )
    assert "nest" in _problem(put)["detail"]


def test_moderately_nested_json_is_refused_before_parsing_completes(client, edfi_headers):
    """Below the recursion limit but far deeper than any document: still a clear 400."""
    headers = {**edfi_headers, **JSON}
    response = client.post(f"{DATA}/students", data="[" * 500 + "]" * 500, headers=headers)
    assert "nest" in _problem(response)["detail"]


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_deep_json_on_oneroster_gradebook_put(db_session, client, auth_headers, shape):
    district(db_session)
    response = client.put(
        BASE + "/categories/deep", data=DEEP_BODIES[shape], headers={**auth_headers(), **JSON}
    )
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["imsx_codeMajor"] == "failure"
    assert "nest" in body["imsx_description"]


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
@pytest.mark.parametrize(("method", "path"), [("post", "/profiles"), ("patch", "/profiles/p1")])
def test_deep_json_on_profiles(client, auth_headers, shape, method, path):
    headers = {**auth_headers(scopes=["profiles.read", "profiles.write"]), **JSON}
    response = getattr(client, method)(path, data=DEEP_BODIES[shape], headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["error"] == "bad-request" and "nest" in body["message"]


@pytest.mark.parametrize("shape", sorted(DEEP_BODIES))
def test_deep_json_on_oauth_token(client, shape):
    response = client.post("/oauth/token", data=DEEP_BODIES[shape], headers=JSON)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["error"] == "invalid_request" and "nest" in body["error_description"]


def test_ordinary_nesting_still_parses(client, edfi_headers):
    """A real document's depth (a few levels) is far below the limit."""
    nested = {"a": [{"b": [{"c": {"d": [1, 2, {"e": "f"}]}}]}]}
    response = client.post(f"{DATA}/students", json=nested, headers=edfi_headers)
    assert response.status_code == 400  # a bad student, not a parse failure
    assert "nest" not in response.get_json()["detail"]


@pytest.mark.usefixtures("descriptors_loaded")
@pytest.mark.parametrize("depth", [200, 10_000])
def test_deep_json_line_in_an_edfi_bulk_package(client, edfi_headers, depth):
    """NDJSON lines of a bulk job meet the same nesting limit as request bodies."""
    import io

    from tests.edfi.test_bulk_jobs import JOBS

    app = client.application
    previous = app.config.get("CSV_IMPORT_MODE")
    app.config["CSV_IMPORT_MODE"] = "sync"
    try:
        line = '{"studentUniqueId": "D-1", "x": ' + "[" * depth + "]" * depth + "}\n"
        response = client.post(
            JOBS,
            data={"file": (io.BytesIO(line.encode()), "students.ndjson")},
            headers=edfi_headers,
            content_type="multipart/form-data",
        )
    finally:
        app.config["CSV_IMPORT_MODE"] = previous
    job = response.get_json()
    assert job["status"] == "rejected", job
    [rejection] = job["report"]["rejected"]
    assert rejection["source"] == "students.ndjson line 1"
    assert "nested more than 64 levels" in rejection["reason"]


def test_deep_json_with_a_trailing_comma_is_refused_too(client, edfi_headers):
    """The ODS-compatible reading of trailing commas never sees a body the depth check refused."""
    for body in ("[" * 10_000 + "1," + "]" * 10_000, '{"a":' * 500 + "1," + "}" * 500):
        response = client.post(
            f"{DATA}/students",
            data=body,
            headers={**edfi_headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
