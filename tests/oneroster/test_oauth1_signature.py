"""The RFC 5849 signature base string and signing, checked against the RFC's own example."""

from __future__ import annotations

import pytest

from gateway.auth import oauth1

# RFC 5849 §3.4.1.1: POST /request?b5=%3D%253D&a3=a&c%40=&a2=r%20b, body c2&a3=2+q.
RFC_HEADER = (
    'OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", '
    'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", '
    'oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"'
)
RFC_BASE_STRING = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D"
    "%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a"
    "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201"
    "%26oauth_token%3Dkkk9d7dh3k39sjv7"
)


def test_rfc5849_base_string():
    signed = oauth1.collect(RFC_HEADER, "b5=%3D%253D&a3=a&c%40=&a2=r%20b", "c2&a3=2+q")
    assert signed is not None and signed.signature == "bYT5CMsGcbgUdFHObYMEfcx6bsw="
    assert (
        oauth1.base_string("POST", "http://example.com/request?x=1", signed.params)
        == RFC_BASE_STRING
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),
        ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
        ("https://example.org:443/a", "https://example.org/a"),
    ],
)
def test_base_string_uri(url, expected):
    assert oauth1.base_string_uri(url) == expected


def test_percent_encoding_of_spaces_and_unicode():
    assert oauth1.encode("a b+c~d") == "a%20b%2Bc~d"
    assert oauth1.encode("דוד") == "%D7%93%D7%95%D7%93"


def test_unsigned_request_is_not_oauth1():
    assert oauth1.collect(None, "limit=5", None) is None
    assert oauth1.collect("Bearer abc", "", None) is None
