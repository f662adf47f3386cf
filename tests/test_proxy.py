"""TRUSTED_PROXIES: behind a load balancer, absolute URLs use the public scheme and host."""

from __future__ import annotations

import pytest
from flask import request

from gateway.app import create_app

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "roster.district.org"}


@pytest.mark.parametrize(
    ("hops", "expected"), [(0, "http://localhost/"), (1, "https://roster.district.org/")]
)
def test_forwarded_headers_are_trusted_only_when_configured(test_config, app, hops, expected):
    proxied = create_app(
        {**test_config.as_dict(), "TRUSTED_PROXIES": hops}, database=app.extensions["gateway.db"]
    )
    proxied.add_url_rule("/plain/root", "root", lambda: {"root": request.url_root})
    assert proxied.test_client().get("/plain/root", headers=FORWARDED).get_json() == {
        "root": expected
    }


HOSTILE = {"Host": "evil.example"}


def _root(app, test_config, **settings):
    served = create_app(
        {**test_config.as_dict(), **settings}, database=app.extensions["gateway.db"]
    )
    served.add_url_rule("/plain/root", "root", lambda: {"root": request.url_root})
    return served.test_client()


def test_a_hostile_host_header_never_makes_urls(test_config, app):
    assert _root(app, test_config).get("/plain/root", headers=HOSTILE).get_json() == {
        "root": "http://localhost/"
    }


def test_the_public_base_url_makes_every_url(test_config, app):
    client = _root(app, test_config, PUBLIC_BASE_URL="https://roster.district.org")
    for headers in (HOSTILE, FORWARDED, {}):
        assert client.get("/plain/root", headers=headers).get_json() == {
            "root": "https://roster.district.org/"
        }


def test_oneroster_hrefs_and_links_ignore_a_hostile_host(
    test_config, app, client, db_session, auth_headers
):
    from tests.oneroster.factories import BASE, district

    district(db_session)
    headers = auth_headers() | HOSTILE
    r = client.get(BASE + "/classes?limit=1", headers=headers)
    assert r.status_code == 200
    assert "evil.example" not in r.headers["Link"]
    assert "evil.example" not in r.get_data(as_text=True)
    assert r.headers["Link"].startswith("<http://localhost/ims/oneroster/v1p1/classes?")
    public = create_app(
        {**test_config.as_dict(), "PUBLIC_BASE_URL": "https://roster.district.org"},
        database=app.extensions["gateway.db"],
    ).test_client()
    body = public.get(BASE + "/classes?limit=1", headers=headers).get_json()
    assert body["classes"][0]["course"]["href"].startswith(
        "https://roster.district.org/ims/oneroster/v1p1/courses/"
    )
