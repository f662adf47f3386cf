"""An independent, hand-written reading of RFC 5849 (signature base string and HMAC signing), kept
on the test side only: the fake vendor server verifies with it, and it checks that the conformance
runner (Authlib's client) and the gateway (Authlib's server) agree with a second implementation,
itself checked against the RFC's own example."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote, urlsplit

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
