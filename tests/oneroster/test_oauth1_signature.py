"""Which requests are OAuth 1.0a signed (else the bearer scheme applies)."""

from __future__ import annotations

from gateway.auth import oauth1


def test_unsigned_request_is_not_oauth1():
    assert not oauth1.is_signed(None, "limit=5", None)
    assert not oauth1.is_signed("Bearer abc", "", None)
    assert not oauth1.is_signed("Bearer abc", "oauth_nonce=1", "a=b")


def test_signed_request_in_header_query_or_body():
    assert oauth1.is_signed('OAuth oauth_consumer_key="k"', "", None)
    assert oauth1.is_signed(None, "limit=5&oauth_signature=x", None)
    assert oauth1.is_signed(None, "", "oauth_signature=x&a=b")
