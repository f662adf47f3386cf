"""OAuth 1.0a signatures, OAuth 2 scopes, organization isolation."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.oneroster.conftest import ids
from tests.oneroster.factories import BASE
from tests.oneroster.oauth1_client import Consumer, SkewedConsumer, signed

HOST = "http://localhost"
SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/"


@pytest.fixture
def consumer_keys(make_api_client):
    return make_api_client(name="lms")


def imsx_minor(response) -> str:
    return response.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"
    ]


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256"])
@pytest.mark.parametrize("placement", ["HEADER", "QUERY"])
def test_oauth1_signed_requests(roster, client, consumer_keys, method, placement):
    key, secret = consumer_keys
    consumer = Consumer(key, secret, signature_method=method, signature_type=placement)
    filter_ = quote("familyName='O''Brien' OR role='teacher'", safe="")
    url, headers, _ = signed(consumer, "GET", f"{HOST}{BASE}/users?filter={filter_}&limit=10")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ids(response, "users") == ["u-s2", "u-t1", "u-t2"]


def test_oauth1_values_with_spaces_and_unicode(roster, client, consumer_keys):
    key, secret = consumer_keys
    filter_ = quote("givenName='דוד' AND role='student'")  # spaces travel as %20
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/users?filter={filter_}")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ids(response, "users") == ["u-s1"]


def test_oauth1_replay_is_rejected(roster, client, consumer_keys):
    key, secret = consumer_keys
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/orgs")
    assert client.get(url, headers=headers).status_code == 200
    again = client.get(url, headers=headers)
    assert again.status_code == 401
    assert again.get_json()["imsx_codeMajor"] == "failure"


def test_oauth1_timestamp_skew_is_rejected(roster, client, consumer_keys):
    key, secret = consumer_keys
    url, headers, _ = signed(SkewedConsumer(key, secret), "GET", f"{HOST}{BASE}/orgs")
    response = client.get(url, headers=headers)
    assert response.status_code == 401
    assert "window" in response.get_json()["imsx_description"]


def test_oauth1_wrong_secret_or_key(roster, client, consumer_keys):
    key, secret = consumer_keys
    for consumer in (Consumer(key, secret + "x"), Consumer("nobody", secret)):
        url, headers, _ = signed(consumer, "GET", f"{HOST}{BASE}/orgs")
        response = client.get(url, headers=headers)
        assert response.status_code == 401
        assert imsx_minor(response) == "unauthorisedrequest"


def test_oauth1_tampered_query_is_rejected(roster, client, consumer_keys):
    key, secret = consumer_keys
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/users?limit=1")
    response = client.get(url.replace("limit=1", "limit=2"), headers=headers)
    assert response.status_code == 401


def test_oauth1_unsupported_method(roster, client, consumer_keys):
    key, secret = consumer_keys
    url, headers, _ = signed(
        Consumer(key, secret, signature_method="PLAINTEXT"), "GET", f"{HOST}{BASE}/orgs"
    )
    assert client.get(url, headers=headers).status_code == 401


def test_no_credentials_is_401(roster, client):
    response = client.get(BASE + "/users")
    assert response.status_code == 401
    assert response.get_json()["imsx_codeMajor"] == "failure"
    assert imsx_minor(response) == "unauthorisedrequest"
    assert client.get(BASE + "/users", headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(
    ("scope", "path", "expect"),
    [
        ("roster-core.readonly", "/users", 200),
        ("roster-core.readonly", "/demographics", 403),
        ("roster-core.readonly", "/demographics/u-s1", 403),
        ("roster.readonly", "/demographics", 200),
        ("roster-demographics.readonly", "/demographics/u-s1", 200),
        ("roster-demographics.readonly", "/users", 403),
        ("resource.readonly", "/resources", 200),
        ("resource.readonly", "/classes/k1/resources", 200),
        ("roster.readonly", "/courses/c1/resources", 403),
        ("gradebook.readonly", "/classes/k1/results", 200),
        ("gradebook.readonly", "/lineItems", 200),
        ("roster.readonly", "/results", 403),
    ],
)
def test_oauth2_scopes(roster, client, auth_headers, scope, path, expect):
    response = client.get(BASE + path, headers=auth_headers(scopes=[SCOPE + scope]))
    assert response.status_code == expect
    if expect == 403:
        assert imsx_minor(response) == "forbidden"


def test_gradebook_writes_need_write_scopes(roster, client, auth_headers):
    read_only = auth_headers(scopes=[SCOPE + "gradebook.readonly"])
    body = {"category": {"title": "Quizzes"}}
    assert client.put(BASE + "/categories/cat9", json=body, headers=read_only).status_code == 403
    assert client.delete(BASE + "/categories/cat1", headers=read_only).status_code == 403
    put_only = auth_headers(scopes=[SCOPE + "gradebook.createput"])
    assert client.put(BASE + "/categories/cat9", json=body, headers=put_only).status_code == 201
    assert client.delete(BASE + "/categories/cat9", headers=put_only).status_code == 403
    delete_only = auth_headers(scopes=[SCOPE + "gradebook.delete"])
    assert client.delete(BASE + "/categories/cat9", headers=delete_only).status_code == 204


def test_oauth1_client_scopes_apply(roster, client, make_api_client):
    key, secret = make_api_client(name="core", scopes=[SCOPE + "roster-core.readonly"])
    url, headers, _ = signed(Consumer(key, secret), "GET", f"{HOST}{BASE}/demographics")
    assert client.get(url, headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("/orgs", "orgs", ["d1", "s1", "s2"]),
        ("/schools", "orgs", ["s1", "s2"]),
        (
            "/users",
            "users",
            ["u-p1", "u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-s6", "u-t1", "u-t2"],
        ),
        ("/classes", "classes", ["k1", "k2", "k3"]),
        ("/courses", "courses", ["c1", "c2"]),
        ("/enrollments?filter=role%3D'teacher'", "enrollments", ["e-t1-k1", "e-t1-k2", "e-t2-k3"]),
        ("/demographics", "demographics", ["u-s1"]),
        ("/lineItems", "lineItems", ["li1", "li2"]),
        ("/results", "results", ["r1", "r2", "r3"]),
        ("/terms", "academicSessions", ["t1", "t2"]),
        ("/terms/t1/classes", "classes", ["k1", "k3"]),
    ],
)
def test_district_client_sees_its_district_only(roster, client, auth_headers, path, key, expected):
    response = client.get(BASE + path, headers=auth_headers(edorgs=["d1"]))
    assert response.status_code == 200
    assert ids(response, key) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/schools/s3",
        "/classes/k4",
        "/users/u-s7",
        "/demographics/u-s7",
        "/results/r4",
        "/schools/s3/students",
        "/classes/k4/students",
        "/schools/s2/classes",
    ],
)
def test_school_client_cannot_reach_other_schools(roster, client, auth_headers, path):
    response = client.get(BASE + path, headers=auth_headers(edorgs=["s1"]))
    assert response.status_code == 404


def test_school_client_by_identifier(roster, client, auth_headers):
    # an organization is also known by its identifier (its Ed-Fi id when it came from Ed-Fi)
    response = client.get(BASE + "/classes", headers=auth_headers(edorgs=["S2"]))
    assert ids(response, "classes") == ["k3"]
