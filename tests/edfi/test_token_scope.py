"""A token requested with `scope=<education organization id>` (as the Ed-Fi ODS/API 7.3 allows)
reaches that organization only, though its client has more."""

from __future__ import annotations

from tests.auth.test_token import _post_token, basic


def test_scope_of_an_education_organization_limits_what_the_token_reaches(
    client, make_api_client, district
):
    district()
    key, secret = make_api_client(edorgs=["255901", "255902"])
    ids = {}
    for scope in (None, "255902"):
        extra = {"scope": scope} if scope else {}
        token = _post_token(client, basic(key, secret), **extra).get_json()["access_token"]
        r = client.get("/data/v3/ed-fi/schools", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        ids[scope] = sorted(s["schoolId"] for s in r.get_json())
    assert ids[None] == [255901001, 255901107, 255902001]
    assert ids["255902"] == [255902001]
