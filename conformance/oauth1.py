"""OAuth 1.0a request signing (RFC 5849), HMAC-SHA256 or HMAC-SHA1, for OneRoster consumers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qsl, quote, urlsplit

import requests

_DIGESTS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}


def percent_encode(value: str) -> str:
    """RFC 5849 3.6: only unreserved characters stay; a space becomes %20, never '+'."""
    return quote(value, safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 3.4.1.2: lower-case scheme and host, default port dropped, no query or fragment."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def signature_base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 3.4.1: method, base URI, sorted encoded parameters (query + oauth + form)."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join(
        [method.upper(), percent_encode(base_string_uri(url)), percent_encode(normalized)]
    )


def sign(
    method: str,
    url: str,
    params: list[tuple[str, str]],
    consumer_secret: str,
    signature_method: str = "HMAC-SHA256",
    token_secret: str = "",
) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    base = signature_base_string(method, url, params)
    digest = hmac.new(key.encode(), base.encode(), _DIGESTS[signature_method]).digest()
    return base64.b64encode(digest).decode()


def authorization_header(
    method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    signature_method: str = "HMAC-SHA256",
    form: list[tuple[str, str]] | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    oauth = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_signature_method", signature_method),
        ("oauth_timestamp", str(int(time.time()) if timestamp is None else timestamp)),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_version", "1.0"),
    ]
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    signature = sign(method, url, query + oauth + (form or []), consumer_secret, signature_method)
    fields = oauth + [("oauth_signature", signature)]
    return "OAuth " + ", ".join(f'{k}="{percent_encode(v)}"' for k, v in fields)


class OAuth1Auth(requests.auth.AuthBase):
    """Signs every prepared request; the URL it signs is the one that goes on the wire."""

    def __init__(self, key: str, secret: str, signature_method: str = "HMAC-SHA256") -> None:
        self.key, self.secret, self.signature_method = key, secret, signature_method

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        form: list[tuple[str, str]] = []
        content_type = r.headers.get("Content-Type", "")
        if content_type.startswith("application/x-www-form-urlencoded") and r.body:
            body = r.body if isinstance(r.body, str) else r.body.decode()
            form = parse_qsl(body, keep_blank_values=True)
        r.headers["Authorization"] = authorization_header(
            r.method or "GET",
            r.url or "",
            self.key,
            self.secret,
            signature_method=self.signature_method,
            form=form,
        )
        return r
