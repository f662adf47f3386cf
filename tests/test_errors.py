"""Errors render in the envelope of the API family that was called; never HTML, never a 500
for anything a client can send. Also: NFC normalisation and correlation ids."""

from __future__ import annotations

import unicodedata

import pytest
from flask import request

from gateway.app import create_app
from gateway.errors import NotFound

FAMILIES = {
    "edfi": "/data/v3/ed-fi/echo",
    "oneroster": "/ims/oneroster/v1p1/echo",
    "plain": "/plain/echo",
}


@pytest.fixture
def echo(test_config, app, db_session):
    echo_app = create_app(test_config, database=app.extensions["gateway.db"])
    echo_app.config["MAX_JSON_LENGTH"] = 1000

    def view():
        body = request.get_json()
        if body == {"fail": "not-found"}:
            raise NotFound("No such thing.")
        return {"json": body, "args": request.args.to_dict()}

    for name, path in FAMILIES.items():
        echo_app.add_url_rule(path, f"echo_{name}", view, methods=["POST"])
    return echo_app.test_client()


def assert_envelope(family: str, response, status: int) -> None:
    assert response.status_code == status
    assert response.is_json, response.data[:200]
    body = response.get_json()
    if family == "edfi":
        assert response.mimetype == "application/problem+json"
        assert body["type"].startswith("urn:ed-fi:api:")
        assert body["status"] == status
        assert body["correlationId"] == response.headers["X-Correlation-Id"]
    elif family == "oneroster":
        assert body["imsx_codeMajor"] == "failure"
        assert body["imsx_severity"] == "error"
        assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    else:
        assert body["error"] and body["message"]


@pytest.mark.parametrize("family", FAMILIES)
def test_unknown_route(echo, family):
    assert_envelope(family, echo.get(FAMILIES[family] + "/missing/route"), 404)


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_method(echo, family):
    r = echo.delete(FAMILIES[family])
    assert_envelope(family, r, 405)
    assert "POST" in r.headers["Allow"]


@pytest.mark.parametrize("family", FAMILIES)
def test_malformed_json(echo, family):
    r = echo.post(FAMILIES[family], data="{not json", content_type="application/json")
    assert_envelope(family, r, 400)


@pytest.mark.parametrize("family", FAMILIES)
def test_oversized_body(echo, family):
    r = echo.post(FAMILIES[family], json={"x": "a" * 2000})
    assert_envelope(family, r, 413)


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_content_type(echo, family):
    r = echo.post(FAMILIES[family], data="a=b", content_type="text/plain")
    assert_envelope(family, r, 415)


def test_domain_errors_use_family_codes(echo):
    edfi = echo.post(FAMILIES["edfi"], json={"fail": "not-found"}).get_json()
    assert edfi["type"] == "urn:ed-fi:api:not-found" and edfi["detail"] == "No such thing."
    ims = echo.post(FAMILIES["oneroster"], json={"fail": "not-found"}).get_json()
    minor = ims["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert minor == "unknownobject"


def test_edfi_routes_match_family_case_insensitively(echo):
    r = echo.get("/DATA/v3/ed-fi/nothing-here")
    assert_envelope("edfi", r, 404)


def test_text_is_normalised_to_nfc(echo):
    decomposed = unicodedata.normalize("NFD", "José Müller דוד כהן")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    r = echo.post(
        FAMILIES["plain"] + "?name=" + decomposed,
        json={decomposed: [decomposed, {"n": decomposed}]},
    )
    composed = unicodedata.normalize("NFC", decomposed)
    assert r.get_json() == {
        "json": {composed: [composed, {"n": composed}]},
        "args": {"name": composed},
    }


def test_correlation_id_is_echoed_or_generated(client):
    r = client.get("/health", headers={"X-Correlation-Id": "abc-123"})
    assert r.headers["X-Correlation-Id"] == "abc-123"
    generated = client.get("/health").headers["X-Correlation-Id"]
    assert len(generated) == 32


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert "/oauth/token" in spec.get_json()["paths"]
    page = client.get("/docs")
    assert page.status_code == 200 and b"swagger-ui-bundle.js" in page.data
    assert b"http://" not in page.data and b"https://" not in page.data
    asset = client.get("/docs/static/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000
