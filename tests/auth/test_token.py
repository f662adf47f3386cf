"""POST /oauth/token, /oauth/token_info, /oauth/revoke and the bearer-token check."""

from __future__ import annotations

import base64
import re
import time

import pytest

from gateway.auth.clients import revoke_client

ORS_CORE = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"


def basic(key: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def test_basic_credentials_with_form_body(client, make_api_client):
    key, secret = make_api_client()
    r = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(key, secret)
    )
    assert r.status_code == 200
    body = r.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert "scope" not in body
    assert r.headers["Cache-Control"] == "no-store"


def test_body_credentials_form_and_json_and_trailing_slash(client, make_api_client):
    key, secret = make_api_client()
    creds = {"grant_type": "client_credentials", "client_id": key, "client_secret": secret}
    assert client.post("/oauth/token", data=creds).status_code == 200
    assert client.post("/oauth/token", json=creds).status_code == 200
    assert client.post("/oauth/token/", json=creds).status_code == 200


def test_requested_scope_is_granted_and_echoed(client, make_api_client):
    key, secret = make_api_client(scopes=["edfi.read", ORS_CORE])
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": ORS_CORE},
        headers=basic(key, secret),
    )
    assert r.status_code == 200
    assert r.get_json()["scope"] == ORS_CORE
    info = client.post("/oauth/token_info", json={"token": r.get_json()["access_token"]})
    assert info.get_json()["scopes"] == [ORS_CORE]


@pytest.mark.parametrize(
    ("data", "auth", "status", "error"),
    [
        ({"client_id": "K", "client_secret": "S"}, False, 400, "invalid_request"),
        (
            {"grant_type": "password", "client_id": "K", "client_secret": "S"},
            False,
            400,
            "unsupported_grant_type",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "K", "client_secret": "wrong"},
            False,
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "S"},
            False,
            401,
            "invalid_client",
        ),
        ({"grant_type": "client_credentials"}, False, 401, "invalid_client"),
        (  # no key can hold NUL or be wider than the column: refused, never a 500
            {"grant_type": "client_credentials", "client_id": "\x00", "client_secret": "S"},
            False,
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "k" * 65, "client_secret": "S"},
            False,
            401,
            "invalid_client",
        ),
        (
            {"grant_type": "client_credentials", "scope": "profiles.write"},
            True,
            400,
            "invalid_scope",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "K", "client_secret": "S"},
            True,
            400,
            "invalid_request",
        ),
    ],
)
def test_oauth_errors(client, make_api_client, data, auth, status, error):
    key, secret = make_api_client(scopes=["edfi.read"])
    data = {k: key if v == "K" else secret if v == "S" else v for k, v in data.items()}
    r = client.post("/oauth/token", data=data, headers=basic(key, secret) if auth else {})
    assert r.status_code == status
    assert r.get_json()["error"] == error
    if status == 401:
        assert "WWW-Authenticate" in r.headers


def test_token_info_describes_the_client(client, make_api_client):
    key, secret = make_api_client(
        name="Grand Bend SIS", edorgs=["255901"], scopes=["edfi.read"], namespace="uri://gb.edu"
    )
    token = client.post(
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": key, "client_secret": secret},
    ).get_json()["access_token"]
    info = client.post("/oauth/token_info", json={"token": token}).get_json()
    assert info["active"] is True
    assert info["client_id"] == key
    assert info["name"] == "Grand Bend SIS"
    assert info["education_organizations"] == [{"education_organization_id": "255901"}]
    assert info["namespace_prefixes"] == ["uri://gb.edu"]
    assert info["scopes"] == ["edfi.read"]
    assert info["district_wide"] is False
    assert client.post("/oauth/token_info", json={"token": "nope"}).get_json() == {"active": False}
    assert client.post("/oauth/token_info", json={}).status_code == 400


def _token(client, key, secret) -> str:
    r = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(key, secret)
    )
    return r.get_json()["access_token"]


def test_token_expires(app, client, make_api_client, monkeypatch):
    monkeypatch.setitem(app.config, "TOKEN_EXPIRES_IN", 1)
    key, secret = make_api_client()
    token = _token(client, key, secret)
    assert client.post("/oauth/token_info", json={"token": token}).get_json()["active"] is True
    time.sleep(1.2)
    assert client.post("/oauth/token_info", json={"token": token}).get_json()["active"] is False


def test_revoked_token_and_revoked_client(app, client, db_session, make_api_client):
    key, secret = make_api_client()
    token = _token(client, key, secret)
    r = client.post("/oauth/revoke", data={"token": token}, headers=basic(key, secret))
    assert r.status_code == 200
    assert client.post("/oauth/token_info", json={"token": token}).get_json()["active"] is False

    token2 = _token(client, key, secret)
    with app.app_context():
        assert revoke_client(db_session, key)
    db_session.flush()
    assert client.post("/oauth/token_info", json={"token": token2}).get_json()["active"] is False
    r = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic(key, secret)
    )
    assert r.status_code == 401


# --- The token endpoint as the Ed-Fi ODS/API 7.3 answers it (its Postman suite's token scenarios).


def _post_token(client, headers, **data):
    return client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **data}, headers=headers
    )


def test_empty_basic_credentials_are_an_invalid_request(client):
    r = _post_token(client, basic("", ""))
    assert r.status_code == 401
    assert r.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("header", ["Basic Test Test", "Basic !!!not-base64", "Basic dGVzdA=="])
def test_malformed_basic_header_is_an_invalid_request(client, header):
    """Not base64, or base64 of something without the key:secret colon."""
    r = _post_token(client, {"Authorization": header})
    assert r.status_code == 400
    assert r.get_json()["error"] == "invalid_request"


def test_another_authorization_scheme_is_an_invalid_client(client):
    r = _post_token(client, {"Authorization": "Test Test"})
    assert r.status_code == 401
    assert r.get_json()["error"] == "invalid_client"


def test_scope_of_an_education_organization_narrows_the_token(client, make_api_client):
    key, secret = make_api_client(edorgs=["255901", "255902"], scopes=["edfi.read"])
    r = _post_token(client, basic(key, secret), scope="255901")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["scope"] == "255901"
    info = client.post("/oauth/token_info", json={"token": r.get_json()["access_token"]})
    assert info.get_json()["education_organizations"] == [{"education_organization_id": "255901"}]
    # the client's named scopes stay with the narrowed token
    assert info.get_json()["scopes"] == ["edfi.read"]
    # a token without the scope keeps both
    plain = _post_token(client, basic(key, secret)).get_json()["access_token"]
    info = client.post("/oauth/token_info", json={"token": plain}).get_json()
    assert {e["education_organization_id"] for e in info["education_organizations"]} == {
        "255901",
        "255902",
    }


@pytest.mark.parametrize(
    ("edorgs", "scope"),
    [
        (["255901"], "343"),
        # a descendant is not explicitly associated with the client
        (["255901"], "255901001"),
        # a client reaching every organization has none explicitly
        ([], "255901"),
    ],
)
def test_scope_of_an_education_organization_the_client_lacks_is_an_invalid_scope(
    client, make_api_client, edorgs, scope
):
    key, secret = make_api_client(edorgs=edorgs)
    r = _post_token(client, basic(key, secret), scope=scope)
    assert r.status_code == 400
    assert r.get_json() == {
        "error": "invalid_scope",
        "error_description": "The client is not explicitly associated with the "
        "EducationOrganizationId specified in the requested 'scope'.",
    }


def test_scope_of_two_education_organizations_is_an_invalid_scope(client, make_api_client):
    key, secret = make_api_client(edorgs=["255901", "255902"])
    r = _post_token(client, basic(key, secret), scope="255901 255902")
    assert r.status_code == 400
    assert r.get_json()["error"] == "invalid_scope"


def _token_info(client, key, secret) -> dict:
    token = _post_token(client, basic(key, secret)).get_json()["access_token"]
    return client.post("/oauth/token_info", json={"token": token}).get_json()


def test_token_info_lists_the_resources_and_services_of_the_claim_set(client, make_api_client):
    """The harness claim set "Token Introspection Test": Create and Read on the educationStandards
    domain reach the resources below it; Update and Delete on one descriptor; the identity
    service (what the ODS/API suite's token introspection scenario asserts)."""
    from gateway.edfi.claim_sets import CLAIM_PREFIX, claim_name, metadata
    from gateway.edfi.definitions import registry

    key, secret = make_api_client(edorgs=["255901"], claim_set="Token Introspection Test")
    info = _token_info(client, key, secret)
    assert info["claim_set"] == {"name": "Token Introspection Test"}
    standards = {
        f"/ed-fi/{res.name}"
        for res in registry().resources.values()
        if metadata().claims[claim_name(res)].parent == CLAIM_PREFIX + "domains/educationStandards"
    }
    expected = {path: ["Create", "Read"] for path in standards}
    expected["/ed-fi/stateAbbreviationDescriptors"] = ["Update", "Delete"]
    assert {r["resource"]: r["operations"] for r in info["resources"]} == expected
    assert info["services"] == [{"service": "identity", "operations": ["ReadChanges"]}]


def test_token_info_resources_follow_the_claim_set(client, make_api_client):
    sandbox = _token_info(client, *make_api_client(edorgs=["255901"], claim_set="Ed-Fi Sandbox"))
    sis = _token_info(client, *make_api_client(edorgs=["255901"], claim_set="SIS Vendor"))
    ops = {
        n: {r["resource"]: r["operations"] for r in i["resources"]}
        for n, i in (("sandbox", sandbox), ("sis", sis))
    }
    assert ops["sandbox"]["/ed-fi/schools"][:4] == ["Create", "Read", "Update", "Delete"]
    assert ops["sis"]["/ed-fi/schools"] == ["Read"]
    assert ops["sandbox"]["/ed-fi/students"][:4] == ["Create", "Read", "Update", "Delete"]


def test_tokens_take_the_ods_form_of_32_hex_characters(client, make_api_client):
    """As the ODS/API issues them (a GUID's 128 bits); clients such as the ODS/API's own suite
    tell token kinds apart by that length."""
    key, secret = make_api_client()
    tokens_issued = {
        _post_token(client, basic(key, secret)).get_json()["access_token"] for _ in "ab"
    }
    assert len(tokens_issued) == 2
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in tokens_issued)


def test_a_scope_that_is_neither_a_number_nor_a_known_scope_is_refused_in_ods_words(
    client, make_api_client
):
    key, secret = make_api_client(edorgs=["255901"], scopes=["edfi.read"])
    r = _post_token(client, basic(key, secret), scope="test")
    assert r.status_code == 400
    assert r.get_json() == {
        "error": "invalid_scope",
        "error_description": "The supplied 'scope' was not a number (it should be an "
        "EducationOrganizationId that is explicitly associated with the client).",
    }
    # a scope the gateway knows but the client does not hold names what was not granted
    r = _post_token(client, basic(key, secret), scope=ORS_CORE)
    assert r.get_json()["error_description"] == f"Scope not granted to this client: {ORS_CORE}"
