"""X-Total-Count and Link on first, middle and last pages; consumers that page by either signal."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.oneroster.conftest import ids
from tests.oneroster.factories import BASE
from tests.oneroster.oauth1_client import Consumer, signed

ALL_USERS = ["u-p1", "u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-s6", "u-s7", "u-t1", "u-t2"]


def links(response) -> dict[str, str]:
    return {
        rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"])
    }


def offset_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["offset"][0])


def test_first_page(roster, get):
    response = get("/users?limit=3&sort=sourcedId")
    assert ids(response, "users") == ALL_USERS[:3]
    assert response.headers["X-Total-Count"] == "10"
    found = links(response)
    assert set(found) == {"first", "next", "last"}
    assert (
        offset_of(found["next"]) == 3
        and offset_of(found["last"]) == 9
        and offset_of(found["first"]) == 0
    )
    assert found["next"].startswith("http://localhost/ims/oneroster/v1p1/users?")
    assert parse_qs(urlsplit(found["next"]).query)["sort"] == ["sourcedId"]


def test_middle_page(roster, get):
    response = get("/users?limit=3&offset=3")
    assert ids(response, "users") == ALL_USERS[3:6]
    found = links(response)
    assert set(found) == {"first", "prev", "next", "last"}
    assert offset_of(found["prev"]) == 0 and offset_of(found["next"]) == 6


def test_last_page(roster, get):
    response = get("/users?limit=3&offset=9")
    assert ids(response, "users") == ALL_USERS[9:]
    found = links(response)
    assert set(found) == {"first", "prev", "last"}
    assert offset_of(found["prev"]) == 6 and offset_of(found["last"]) == 9


def test_past_the_end_and_empty(roster, get):
    response = get("/users?limit=3&offset=30")
    assert ids(response, "users") == [] and response.headers["X-Total-Count"] == "10"
    assert offset_of(links(response)["prev"]) == 9
    empty = get("/users?filter=role%3D'aide'")
    assert empty.headers["X-Total-Count"] == "0" and set(links(empty)) == {"first", "last"}


def test_filter_kept_in_links_and_total_counts_filtered(roster, get):
    response = get("/users?filter=role%3D'student'&limit=2&offset=2")
    assert response.headers["X-Total-Count"] == "7"
    nxt = links(response)["next"]
    assert parse_qs(urlsplit(nxt).query)["filter"] == ["role='student'"]


def test_nested_collections_page_too(roster, get):
    response = get("/schools/s1/students?limit=2&offset=2")
    assert ids(response, "users") == ["u-s3", "u-s4"]
    assert response.headers["X-Total-Count"] == "5"
    assert "next" in links(response) and "prev" in links(response)


def _oauth1_get(client, consumer, url):
    signed_url, headers, _ = signed(consumer, "GET", url)
    response = client.get(signed_url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize("placement", ["HEADER", "QUERY"])
def test_consumer_following_link_next_only(roster, client, make_api_client, placement):
    consumer = Consumer(
        *make_api_client(name="link-pager"),
        signature_method="HMAC-SHA256",
        signature_type=placement,
    )
    url, seen, requests = f"http://localhost{BASE}/users?limit=3", [], 0
    while url:
        response = _oauth1_get(client, consumer, url)
        seen += ids(response, "users")
        url = links(response).get("next")
        assert "oauth_" not in response.headers["Link"]
        requests += 1
    assert seen == ALL_USERS and requests == 4


def test_consumer_using_total_count_only(roster, client, make_api_client):
    consumer = Consumer(*make_api_client(name="count-pager"))
    first = _oauth1_get(client, consumer, f"http://localhost{BASE}/enrollments?limit=4")
    total, seen = int(first.headers["X-Total-Count"]), ids(first, "enrollments")
    for offset in range(4, total, 4):
        seen += ids(
            _oauth1_get(
                client, consumer, f"http://localhost{BASE}/enrollments?limit=4&offset={offset}"
            ),
            "enrollments",
        )
    assert total == 11 and len(seen) == 11 and len(set(seen)) == 11
