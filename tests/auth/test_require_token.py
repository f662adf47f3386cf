"""The reusable token check that every API's blueprints use, and the organization-reach rule."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gateway.app import create_app
from gateway.auth import current_client, require_token
from gateway.auth.access import compute_org_scope


@pytest.fixture
def guarded(test_config, app, db_session):
    """A separate app with routes guarded by require_token, sharing the test's transaction."""
    guarded_app = create_app(test_config, database=app.extensions["gateway.db"])

    @guarded_app.get("/data/v3/guarded")
    @require_token("edfi.read")
    def edfi_guarded():
        return {"client": current_client().name}

    @guarded_app.get("/ims/oneroster/v1p1/guarded")
    @require_token("edfi.write", "profiles.write", any_of=False)
    def oneroster_guarded():
        return {"ok": True}

    return guarded_app.test_client()


def test_missing_and_bad_tokens_are_401_in_the_family_envelope(guarded):
    r = guarded.get("/data/v3/guarded")
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["type"] == "urn:ed-fi:api:security:authentication"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = guarded.get("/ims/oneroster/v1p1/guarded", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.get_json()["imsx_codeMajor"] == "failure"


def test_scopes_are_enforced(guarded, auth_headers):
    ok = guarded.get("/data/v3/guarded", headers=auth_headers(scopes=["edfi.read"], name="Reader"))
    assert ok.status_code == 200
    assert ok.get_json() == {"client": "Reader"}
    r = guarded.get("/data/v3/guarded", headers=auth_headers(scopes=["profiles.read"]))
    assert r.status_code == 403
    assert r.get_json()["type"] == "urn:ed-fi:api:security:authorization"
    both = auth_headers(scopes=["edfi.write", "profiles.write"])
    assert guarded.get("/ims/oneroster/v1p1/guarded", headers=both).status_code == 200
    one = auth_headers(scopes=["edfi.write"])
    r = guarded.get("/ims/oneroster/v1p1/guarded", headers=one)
    assert r.status_code == 403
    minor = r.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert minor == "forbidden"


def test_org_scope_covers_descendants_by_both_names(db_session):
    db_session.execute(
        text(
            "INSERT INTO schools (school_id, state_organization_id, name_of_institution,"
            " local_education_agency_id) VALUES (255901001, 'S1', 'Grand Bend High', 255901),"
            " (255901107, 'S2', 'Grand Bend Middle', 255901), (100001, 'S3', 'Elsewhere', 100)"
        )
    )
    db_session.execute(
        text(
            "INSERT INTO organizations (sourced_id, name, type, identifier, parent_id) VALUES"
            " ('org-district', 'Grand Bend ISD', 'district', '255901', NULL),"
            " ('org-hs', 'Grand Bend High', 'school', '255901001', 'org-district'),"
            " ('org-other', 'Other', 'school', '100001', NULL)"
        )
    )
    by_edfi_id = compute_org_scope(db_session, ("255901",))
    assert by_edfi_id.edfi_ids == {255901, 255901001, 255901107}
    assert by_edfi_id.sourced_ids == {"org-district", "org-hs"}
    by_sourced_id = compute_org_scope(db_session, ("org-district",))
    assert by_sourced_id.edfi_ids == by_edfi_id.edfi_ids
    assert by_sourced_id.sourced_ids == by_edfi_id.sourced_ids
    school_only = compute_org_scope(db_session, ("org-hs",))
    assert school_only.edfi_ids == {255901001}
    assert not school_only.covers_edfi(255901107)
    assert school_only.covers_sourced_id("org-hs")
    everything = compute_org_scope(db_session, ())
    assert everything.unrestricted and everything.covers_edfi(100001)


def test_token_cache_serves_a_valid_token_and_forgets_revoked_ones(
    app, guarded, client, make_api_client, monkeypatch
):
    import base64

    monkeypatch.setitem(app.config, "TOKEN_CACHE_SECONDS", 60)
    key, secret = make_api_client(scopes=["edfi.read"])
    basic = {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=basic
    ).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert guarded.get("/data/v3/guarded", headers=bearer).status_code == 200
    assert guarded.get("/data/v3/guarded", headers=bearer).status_code == 200  # from the cache
    assert client.post("/oauth/revoke", data={"token": token}, headers=basic).status_code == 200
    assert guarded.get("/data/v3/guarded", headers=bearer).status_code == 401
