"""OAuth 1.0a verification (Authlib's, with our nonce store and timestamp window) as a hostile or
careless consumer meets it: issue 14 findings 6 and 8."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import text

from gateway.app import create_app
from tests.oneroster.factories import BASE
from tests.oneroster.live import close, live_app
from tests.oneroster.oauth1_client import Consumer, CraftedConsumer, signed

HOST = "http://localhost"


@pytest.fixture
def consumer_keys(make_api_client):
    return make_api_client(name="lms")


def refused(response, *words: str) -> str:
    assert response.status_code == 401, response.get_data(as_text=True)
    body = response.get_json()
    assert body["imsx_codeMajor"] == "failure"
    minor = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert minor == "unauthorisedrequest"
    for word in words:
        assert word in body["imsx_description"], body["imsx_description"]
    return body["imsx_description"]


def nonces(db_session, key: str) -> list[str]:
    return list(
        db_session.execute(
            text("SELECT nonce FROM oauth1_nonces WHERE consumer_key = :k"), {"k": key}
        ).scalars()
    )


@pytest.mark.parametrize("nonce", ["abc\x00def", "n" * 256, "tab\there"])
def test_correctly_signed_bad_nonce_is_refused_before_storage(
    roster, client, db_session, consumer_keys, nonce
):
    key, secret = consumer_keys
    url, headers, _ = signed(CraftedConsumer(key, secret, nonce=nonce), "GET", f"{HOST}{BASE}/orgs")
    refused(client.get(url, headers=headers), "invalid_nonce")
    assert nonces(db_session, key) == []


def test_longest_nonce_is_accepted(roster, client, db_session, consumer_keys):
    key, secret = consumer_keys
    consumer = CraftedConsumer(key, secret, nonce="n" * 255)
    url, headers, _ = signed(consumer, "GET", f"{HOST}{BASE}/orgs")
    assert client.get(url, headers=headers).status_code == 200
    assert nonces(db_session, key) == ["n" * 255]


def test_future_timestamp_beyond_the_window(roster, client, consumer_keys):
    key, secret = consumer_keys
    # well past the 300 s window: a slow machine takes seconds between signing and checking
    ahead = CraftedConsumer(key, secret, timestamp=int(time.time()) + 330)
    url, headers, _ = signed(ahead, "GET", f"{HOST}{BASE}/orgs")
    refused(client.get(url, headers=headers), "window")
    within = CraftedConsumer(key, secret, timestamp=int(time.time()) + 200)
    url, headers, _ = signed(within, "GET", f"{HOST}{BASE}/orgs")
    assert client.get(url, headers=headers).status_code == 200


@pytest.mark.parametrize("timestamp", [-5, 10**30, "12ab"])
def test_timestamp_that_is_no_time(roster, client, db_session, consumer_keys, timestamp):
    key, secret = consumer_keys
    url, headers, _ = signed(
        CraftedConsumer(key, secret, timestamp=timestamp), "GET", f"{HOST}{BASE}/orgs"
    )
    refused(client.get(url, headers=headers), "oauth_timestamp")
    assert nonces(db_session, key) == []


@pytest.mark.parametrize("missing", ["oauth_nonce", "oauth_timestamp"])
def test_missing_nonce_or_timestamp(roster, client, db_session, consumer_keys, missing):
    key, secret = consumer_keys
    consumer = CraftedConsumer(key, secret, drop=[missing])
    url, headers, _ = signed(consumer, "GET", f"{HOST}{BASE}/orgs")
    assert missing not in headers["Authorization"]
    refused(client.get(url, headers=headers), "missing", missing)
    assert nonces(db_session, key) == []


def test_revoked_client_is_refused(app, roster, client, db_session, consumer_keys):
    from gateway.auth.clients import revoke_client

    key, secret = consumer_keys
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/orgs")
    with app.app_context():
        revoke_client(db_session, key)
        db_session.flush()
    refused(client.get(url, headers=headers), "invalid_client")


def test_query_parameters_are_in_the_base_string(roster, client, consumer_keys):
    key, secret = consumer_keys
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/users?limit=2&offset=1")
    assert client.get(url, headers=headers).status_code == 200
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/users?limit=2&offset=1")
    refused(client.get(url.replace("offset=1", "offset=0"), headers=headers), "invalid_signature")
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/users?limit=2")
    refused(client.get(url + "&offset=1", headers=headers), "invalid_signature")


def test_raw_reserved_characters_in_the_query(roster, client, consumer_keys):
    """A consumer that leaves ' and spaces-as-+ unescaped signs the decoded values: accepted."""
    key, secret = consumer_keys
    encoded = f"{HOST}{BASE}/users?filter=role%3D%27teacher%27&sort=familyName"
    _url, headers, _ = signed(Consumer(key, secret), "GET", encoded)
    response = client.get(f"{BASE}/users?filter=role='teacher'&sort=familyName", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert {u["role"] for u in response.get_json()["users"]} == {"teacher"}


FORM = "application/x-www-form-urlencoded"


def test_form_body_parameters_are_in_the_base_string(roster, client, consumer_keys):
    key, secret = consumer_keys
    for sent, expect in (("limit=1&fields=sourcedId", 200), ("limit=2&fields=sourcedId", 401)):
        url, headers, _body = signed(
            Consumer(key, secret), "GET", f"{HOST}{BASE}/orgs", "limit=1&fields=sourcedId", FORM
        )
        response = client.get(url, data=sent, headers=headers)
        if expect == 401:
            refused(response, "invalid_signature")
        else:
            assert response.status_code == 200, response.get_data(as_text=True)


def test_oauth_parameters_in_the_body(roster, client, consumer_keys):
    key, secret = consumer_keys
    consumer = Consumer(key, secret, signature_type="BODY")
    url, headers, body = signed(consumer, "GET", f"{HOST}{BASE}/orgs", "limit=1", FORM)
    assert "oauth_signature=" in body and "Authorization" not in headers
    assert client.get(url, data=body, headers=headers).status_code == 200


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "roster.district.org"}


@pytest.mark.parametrize("hops", [0, 1])
def test_signature_for_the_public_url_behind_a_trusted_proxy(
    test_config, app, roster, consumer_keys, hops
):
    proxied = create_app(
        {**test_config.as_dict(), "TRUSTED_PROXIES": hops}, database=app.extensions["gateway.db"]
    )
    key, secret = consumer_keys
    public = f"https://roster.district.org{BASE}/orgs?limit=1"
    url, headers, _ = signed(Consumer(key, secret), "GET", public)
    response = proxied.test_client().get(f"{BASE}/orgs?limit=1", headers={**headers, **FORWARDED})
    if hops:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:  # the forwarded headers are not believed: the signed URL is not the one served
        refused(response, "invalid_signature")


def test_same_nonce_twice_at_once_only_one_succeeds(test_config):
    """Real concurrent requests, each on its own connection that commits: the nonce store's
    unique key lets exactly one through per nonce."""
    from gateway.auth.clients import create_client
    from gateway.db import get_session

    app = live_app(test_config, DB_POOL_SIZE=4, DB_MAX_OVERFLOW=4)
    with app.app_context():
        session = get_session()
        created, secret = create_client(session, name="oauth1-race", all_organizations=True)
        session.commit()
        client_id, key = created.id, created.key
    try:
        for _round in range(5):
            nonce = uuid.uuid4().hex
            url, headers, _ = signed(
                CraftedConsumer(key, secret, nonce=nonce), "GET", f"{HOST}{BASE}/orgs?limit=1"
            )
            barrier = threading.Barrier(4)
            statuses: list[int] = []

            def call(url=url, headers=headers, barrier=barrier, statuses=statuses):
                http = app.test_client()
                barrier.wait()
                statuses.append(http.get(url, headers=headers).status_code)

            threads = [threading.Thread(target=call) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert sorted(statuses) == [200, 401, 401, 401]
    finally:
        engine = app.extensions["gateway.db"].engine
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM oauth1_nonces WHERE consumer_key = :k"), {"k": key}
            )
        close(app, client_id)


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_a_second_rfc_reading_signs_what_the_gateway_accepts(roster, client, consumer_keys, method):
    """Signed by the hand-written RFC 5849 reading (checked against the RFC's example), not by
    Authlib: the gateway's Authlib verification agrees with it."""
    from urllib.parse import parse_qsl

    from tests.conformance import rfc5849

    key, secret = consumer_keys
    url = f"{HOST}{BASE}/users?filter=givenName%3D%27%D7%93%D7%95%D7%93%27&limit=3"
    oauth = [
        ("oauth_consumer_key", key),
        ("oauth_signature_method", method),
        ("oauth_timestamp", str(int(time.time()))),
        ("oauth_nonce", uuid.uuid4().hex),
        ("oauth_version", "1.0"),
    ]
    query = parse_qsl(url.split("?", 1)[1], keep_blank_values=True)
    signature = rfc5849.sign("GET", url, query + oauth, secret, method)
    header = "OAuth " + ", ".join(
        f'{k}="{rfc5849.percent_encode(v)}"' for k, v in [*oauth, ("oauth_signature", signature)]
    )
    response = client.get(url, headers={"Authorization": header})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [u["sourcedId"] for u in response.get_json()["users"]] == ["u-s1"]
