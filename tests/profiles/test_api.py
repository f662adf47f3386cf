"""/profiles through the Flask app, against real PostgreSQL and the embedded DynamoDB endpoint."""

from __future__ import annotations

import pytest

from gateway.profiles.cursor import CursorCodec

from .factories import make_profile, unique

READ_WRITE = ("profiles.read", "profiles.write")


@pytest.fixture
def headers(auth_headers):
    return auth_headers(scopes=READ_WRITE)


def _create(client, headers, **overrides):
    response = client.post("/profiles", json=make_profile(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response


def test_create_then_read_returns_the_document(client, headers):
    document = make_profile()
    created = client.post("/profiles", json=document, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["profile_id"] and body["version"] == 1
    assert created.headers["Location"].endswith(f"/profiles/{body['profile_id']}")
    assert created.headers["ETag"]

    read = client.get(f"/profiles/{body['profile_id']}", headers=headers)
    assert read.status_code == 200
    assert read.headers["ETag"] == created.headers["ETag"]
    got = read.get_json()
    for key, value in document.items():
        assert got[key] == value, key
    assert got["bootcamp_progress"]["total_hours_completed"] == 24.5
    assert got["user_sourced_id"] is None
    assert got["created_at"] == got["updated_at"]


def test_a_given_profile_id_is_kept_and_cannot_be_created_twice(client, headers):
    profile_id = unique("profile")
    assert _create(client, headers, profile_id=profile_id).get_json()["profile_id"] == profile_id
    again = client.post("/profiles", json=make_profile(profile_id=profile_id), headers=headers)
    assert again.status_code == 409
    assert again.get_json()["error"] == "data-conflict"


def test_unknown_profile_is_404(client, headers):
    assert client.get(f"/profiles/{unique('missing')}", headers=headers).status_code == 404


def test_values_round_trip_through_dynamodb_types(client, headers):
    document = make_profile(
        middle_name="",
        specializations=[],
        students_assigned=[],
        preferences={
            "timezone": "",
            "weights": {"a": 0.1, "b": 1e-7, "c": 123456789012345678, "d": -2.5},
            "layout": {"columns": [1, 2, {"nested": [True, False, None]}], "empty": {}},
            "name": "דוד Cohen",
        },
    )
    profile_id = _create(client, headers, **document).get_json()["profile_id"]
    got = client.get(f"/profiles/{profile_id}", headers=headers).get_json()
    assert got["preferences"] == document["preferences"]
    assert got["middle_name"] == "" and got["specializations"] == []
    assert isinstance(got["years_experience"], int) and got["years_experience"] == 10


def test_validation_errors_name_each_bad_field(client, headers):
    document = make_profile(
        role_type="janitor",
        email="not-an-email",
        birth_date="1985-02-30",
        years_experience="ten",
        unexpected=1,
    )
    document["bootcamp_progress"]["completion_percentage"] = 101
    document["bootcamp_progress"]["quiz_attempts"][0]["score"] = -5
    document["bootcamp_progress"]["quiz_attempts"][0]["attempted_at"] = "2024-01-02 14:00"
    del document["first_name"]
    response = client.post("/profiles", json=document, headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad-request:data-validation-failed"
    fields = set(_validation_errors(body))
    assert fields == {
        "$.role_type",
        "$.email",
        "$.birth_date",
        "$.years_experience",
        "$.unexpected",
        "$.first_name",
        "$.bootcamp_progress.completion_percentage",
        "$.bootcamp_progress.quiz_attempts[0].score",
        "$.bootcamp_progress.quiz_attempts[0].attempted_at",
    }


def test_a_body_that_is_not_an_object_is_400(client, headers):
    response = client.post("/profiles", json=[1, 2], headers=headers)
    assert response.status_code == 400
    response = client.post(
        "/profiles", data="{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_put_replaces_and_guards_the_version(client, headers):
    created = _create(client, headers)
    profile_id, etag = created.get_json()["profile_id"], created.headers["ETag"]
    document = {**created.get_json(), "first_name": "Jane", "gender": "female"}

    replaced = client.put(
        f"/profiles/{profile_id}", json=document, headers={**headers, "If-Match": etag}
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["version"] == 2 and replaced.get_json()["first_name"] == "Jane"
    assert replaced.headers["ETag"] != etag
    assert replaced.get_json()["created_at"] == created.get_json()["created_at"]

    stale_tag = client.put(
        f"/profiles/{profile_id}", json=document, headers={**headers, "If-Match": etag}
    )
    assert stale_tag.status_code == 412
    stale_body = client.put(
        f"/profiles/{profile_id}", json={**document, "version": 1}, headers=headers
    )
    assert stale_body.status_code == 409
    assert client.get(f"/profiles/{profile_id}", headers=headers).get_json()["version"] == 2

    moved = client.put(
        f"/profiles/{profile_id}", json={**document, "profile_id": "other"}, headers=headers
    )
    assert moved.status_code == 400
    missing = client.put(f"/profiles/{unique('missing')}", json=make_profile(), headers=headers)
    assert missing.status_code == 404


def test_patch_merges_nested_fields(client, headers):
    created = _create(client, headers).get_json()
    url = f"/profiles/{created['profile_id']}"
    patch = {
        "preferences": {"notification_settings": {"sms_notifications": True}, "timezone": None},
        "bootcamp_progress": {"completion_percentage": 80, "current_module": "leadership"},
        "onboarding_progress": {"is_completed": True},
    }
    response = client.patch(url, json=patch, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == 2
    assert body["preferences"]["notification_settings"] == {
        "email_notifications": True,
        "sms_notifications": True,
        "reminder_frequency": "daily",
    }
    assert "timezone" not in body["preferences"]
    assert body["bootcamp_progress"]["completion_percentage"] == 80
    assert (
        body["bootcamp_progress"]["quiz_attempts"] == created["bootcamp_progress"]["quiz_attempts"]
    )
    assert body["onboarding_progress"] == {"current_step": 3, "is_completed": True}
    assert client.get(url, headers=headers).get_json() == body


def test_patch_accepts_merge_patch_media_type_and_validates_the_result(client, headers):
    created = _create(client, headers)
    url = f"/profiles/{created.get_json()['profile_id']}"
    bad = client.patch(
        url,
        json={"bootcamp_progress": {"completion_percentage": 101}, "first_name": None},
        headers={**headers, "Content-Type": "application/merge-patch+json"},
    )
    assert bad.status_code == 400
    assert set(_validation_errors(bad.get_json())) == {
        "$.bootcamp_progress.completion_percentage",
        "$.first_name",
    }
    assert client.get(url, headers=headers).get_json()["version"] == 1

    stale = client.patch(
        url, json={"gender": "x"}, headers={**headers, "If-Match": '"1-0000000000"'}
    )
    assert stale.status_code == 412
    stale_body = client.patch(url, json={"gender": "x", "version": 5}, headers=headers)
    assert stale_body.status_code == 409
    ok = client.patch(
        url, json={"gender": "x"}, headers={**headers, "If-Match": created.headers["ETag"]}
    )
    assert ok.status_code == 200 and ok.get_json()["gender"] == "x"


def test_delete_removes_the_profile(client, headers):
    created = _create(client, headers)
    url = f"/profiles/{created.get_json()['profile_id']}"
    assert client.delete(url, headers={**headers, "If-Match": '"9-0000000000"'}).status_code == 412
    assert client.delete(url, headers=headers).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert client.delete(url, headers=headers).status_code == 404


def test_school_index_pages_with_a_cursor(client, headers):
    school = unique("school")
    ids = {_create(client, headers, school_id=school).get_json()["profile_id"] for _ in range(5)}
    _create(client, headers)  # another school

    seen, cursor, pages = [], None, 0
    while True:
        query = {"school_id": school, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get("/profiles", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["profiles"]) <= 2
        seen += [p["profile_id"] for p in body["profiles"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5 and pages >= 3


def test_a_tampered_or_foreign_cursor_is_400(client, headers):
    school = unique("school")
    for _ in range(3):
        _create(client, headers, school_id=school)
    first = client.get(
        "/profiles", query_string={"school_id": school, "limit": 1}, headers=headers
    ).get_json()
    cursor = first["next_cursor"]
    assert cursor

    payload, signature = cursor.rsplit(".", 1)
    # Edit the signed text (a signature's last character may carry no data, so leave it alone).
    middle = len(payload) // 2
    swap = "B" if payload[middle] != "B" else "C"
    tampered = payload[:middle] + swap + payload[middle + 1 :] + "." + signature
    other_key = CursorCodec("another-secret").encode(
        "school-index", school, {"profile_id": "x", "school_id": school}
    )
    for query in (
        {"school_id": school, "cursor": tampered},
        {"school_id": school, "cursor": other_key},
        {"school_id": unique("school"), "cursor": cursor},
        {"school_id": school, "cursor": "garbage"},
    ):
        response = client.get("/profiles", query_string=query, headers=headers)
        assert response.status_code == 400, query
        assert "$.cursor" in _validation_errors(response.get_json())


def test_email_index_and_query_parameter_errors(client, headers):
    created = _create(client, headers).get_json()
    found = client.get(
        "/profiles", query_string={"email": created["email"]}, headers=headers
    ).get_json()
    assert [p["profile_id"] for p in found["profiles"]] == [created["profile_id"]]
    assert found["next_cursor"] is None

    assert client.get("/profiles", headers=headers).status_code == 400
    both = {"email": created["email"], "school_id": created["school_id"]}
    assert client.get("/profiles", query_string=both, headers=headers).status_code == 400
    for limit in ("0", "101", "x"):
        query = {"email": created["email"], "limit": limit}
        assert client.get("/profiles", query_string=query, headers=headers).status_code == 400


def test_an_item_over_the_dynamodb_limit_is_413_and_nothing_changes(client, headers):
    created = _create(client, headers).get_json()
    url = f"/profiles/{created['profile_id']}"
    quarter = "x" * (250 * 1024)
    assert (
        client.patch(url, json={"preferences": {"notes_a": quarter}}, headers=headers).status_code
        == 200
    )
    too_big = client.patch(url, json={"preferences": {"notes_b": quarter}}, headers=headers)
    assert too_big.status_code == 413
    after = client.get(url, headers=headers).get_json()
    assert after["version"] == 2 and "notes_b" not in after["preferences"]


def test_scopes_are_required(client, auth_headers):
    read_only = auth_headers(scopes=("profiles.read",))
    assert client.get(f"/profiles/{unique('p')}").status_code == 401
    assert client.post("/profiles", json=make_profile(), headers=read_only).status_code == 403
    assert (
        client.get(
            f"/profiles/{unique('p')}", headers=auth_headers(scopes=("edfi.read",))
        ).status_code
        == 403
    )


def test_profiles_appear_in_the_openapi_document(client):
    spec = client.get("/openapi.json").get_json()
    assert {"/profiles", "/profiles/{profile_id}"} <= set(spec["paths"])
    assert {"get", "put", "patch", "delete"} <= set(spec["paths"]["/profiles/{profile_id}"])


def _validation_errors(body):
    """The {"$.path": [...]} map of a plain JSON error (wherever the envelope keeps it)."""
    details = body.get("details") or {}
    return (
        body.get("validation_errors")
        or body.get("validationErrors")
        or details.get("validation_errors")
        or details
    )


def test_an_unreachable_profile_store_is_503_with_retry_after(
    app, test_config, db_session, auth_headers, unused_tcp_port
):
    import copy

    from gateway.app import create_app

    config = copy.copy(test_config)
    config.DYNAMODB_ENDPOINT_URL = f"http://127.0.0.1:{unused_tcp_port}"
    # Same database (and test transaction) as `app`, a DynamoDB endpoint where nothing listens.
    offline = create_app(config, database=app.extensions["gateway.db"])
    headers = auth_headers(scopes=READ_WRITE)
    response = offline.test_client().get(f"/profiles/{unique('p')}", headers=headers)
    assert response.status_code == 503
    assert response.get_json()["error"] == "service-unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_a_profile_over_400_kb_is_413_and_not_stored(client, headers):
    document = make_profile(documents=[{"document_id": "big", "status": "x" * 50}] * 2)
    document["preferences"]["notes"] = "é" * (205 * 1024)  # two UTF-8 bytes each: over 400 KB
    response = client.post("/profiles", json=document, headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"] == "payload-too-large"
    found = client.get("/profiles", query_string={"email": document["email"]}, headers=headers)
    assert found.get_json()["profiles"] == []


def test_a_profile_written_without_a_version_can_be_patched(client, headers, app):
    from gateway.extensions import dynamodb, dynamodb_table_name
    from gateway.profiles.codec import to_item

    document = make_profile(profile_id=unique("legacy"))
    with app.app_context():
        dynamodb().Table(dynamodb_table_name("profiles")).put_item(Item=to_item(document))
    url = f"/profiles/{document['profile_id']}"
    read = client.get(url, headers=headers)
    assert read.status_code == 200 and read.get_json()["version"] == 0
    patched = client.patch(
        url, json={"gender": "f"}, headers={**headers, "If-Match": read.headers["ETag"]}
    )
    assert patched.status_code == 200 and patched.get_json()["version"] == 1


def test_each_request_is_audited_with_the_profile_ids(client, headers, owner_engine):
    from sqlalchemy import text

    created = _create(client, headers).get_json()
    correlation = unique("corr")
    url = f"/profiles/{created['profile_id']}"
    assert client.get(url, headers={**headers, "X-Correlation-Id": correlation}).status_code == 200
    with owner_engine.connect() as conn:
        row = conn.execute(
            text("SELECT action, record_ids, status FROM audit_log WHERE correlation_id = :c"),
            {"c": correlation},
        ).one()
    assert row.action == "read" and row.record_ids == [created["profile_id"]] and row.status == 200


def test_a_patch_too_long_for_one_update_expression_still_applies(client, headers):
    created = _create(client, headers).get_json()
    url = f"/profiles/{created['profile_id']}"
    settings = {f"widget_{n:03d}": {"visible": n % 2 == 0, "order": n} for n in range(300)}
    response = client.patch(url, json={"preferences": settings}, headers=headers)
    assert response.status_code == 200, response.get_json()
    stored = client.get(url, headers=headers).get_json()["preferences"]
    assert stored == {**created["preferences"], **settings}
