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
