"""OAuth 1.0a request verification (RFC 5849, HMAC-SHA1 and HMAC-SHA256), as OneRoster 1.1 uses it.

OneRoster consumers sign each request with the client key and secret (no token). Parameters may
arrive in the Authorization header, the query string or a form body; all are in the base string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.errors import Unauthorized

SIGNATURE_METHODS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
DEFAULT_WINDOW_SECONDS = 300
_REQUIRED = ("oauth_consumer_key", "oauth_signature_method", "oauth_timestamp", "oauth_nonce")


@dataclass(frozen=True)
class SignedRequest:
    consumer_key: str
    signature: str
    method: str
    timestamp: int
    nonce: str
    params: tuple[tuple[str, str], ...]  # every parameter but oauth_signature and realm


def encode(value: str) -> str:
    """RFC 3986 percent-encoding of everything but unreserved characters (so a space is %20)."""
    return quote(value, safe="-._~")


def parse_authorization(header: str) -> list[tuple[str, str]]:
    """`OAuth k="v", k2="v2"` → [(k, v), …] with values percent-decoded."""
    body = header.strip()[len("OAuth") :].strip()
    pairs = []
    for item in body.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.partition("=")
        if not sep:
            raise Unauthorized(
                "Malformed OAuth Authorization header", code_minor="unauthorisedrequest"
            )
        pairs.append((unquote(name.strip()), unquote(value.strip().strip('"'))))
    return pairs


def base_string_uri(url: str) -> str:
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    netloc = host if port is None or default else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    normalized = "&".join(f"{k}={v}" for k, v in sorted((encode(k), encode(v)) for k, v in params))
    return "&".join((method.upper(), encode(base_string_uri(url)), encode(normalized)))


def sign(method_name: str, base: str, consumer_secret: str, token_secret: str = "") -> str:
    key = f"{encode(consumer_secret)}&{encode(token_secret)}".encode()
    digest = hmac.new(key, base.encode(), SIGNATURE_METHODS[method_name]).digest()
    return base64.b64encode(digest).decode()


def collect(
    authorization: str | None, query_string: str, form_body: str | None
) -> SignedRequest | None:
    """The request's OAuth parameters, or None when the request is not OAuth 1.0a signed."""
    header = []
    if authorization and authorization.strip()[:6].lower() == "oauth ":
        header = parse_authorization(authorization)
    query = parse_qsl(query_string, keep_blank_values=True)
    form = parse_qsl(form_body, keep_blank_values=True) if form_body else []
    everything = [(k, v) for k, v in (*header, *query, *form) if k != "realm"]
    oauth = dict((k, v) for k, v in everything if k.startswith("oauth_"))
    if "oauth_signature" not in oauth:
        return None
    missing = [name for name in _REQUIRED if not oauth.get(name)]
    if missing:
        raise Unauthorized(
            f"Missing OAuth parameter(s): {', '.join(missing)}", code_minor="unauthorisedrequest"
        )
    if oauth["oauth_signature_method"] not in SIGNATURE_METHODS:
        raise Unauthorized("Unsupported oauth_signature_method", code_minor="unauthorisedrequest")
    if oauth.get("oauth_version", "1.0") != "1.0":
        raise Unauthorized("Unsupported oauth_version", code_minor="unauthorisedrequest")
    try:
        timestamp = int(oauth["oauth_timestamp"])
    except ValueError:
        raise Unauthorized("Malformed oauth_timestamp", code_minor="unauthorisedrequest") from None
    return SignedRequest(
        consumer_key=oauth["oauth_consumer_key"],
        signature=oauth["oauth_signature"],
        method=oauth["oauth_signature_method"],
        timestamp=timestamp,
        nonce=oauth["oauth_nonce"],
        params=tuple((k, v) for k, v in everything if k != "oauth_signature"),
    )


def verify(
    session: Session,
    signed: SignedRequest,
    *,
    http_method: str,
    url: str,
    consumer_secret: str | None,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    now: float | None = None,
) -> None:
    """Checks signature, timestamp window and nonce; raises Unauthorized on any failure."""
    failure = Unauthorized("Invalid OAuth 1.0a signature", code_minor="unauthorisedrequest")
    if consumer_secret is None:
        raise failure
    expected = sign(signed.method, base_string(http_method, url, signed.params), consumer_secret)
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise failure
    current = time.time() if now is None else now
    if abs(current - signed.timestamp) > window_seconds:
        raise Unauthorized(
            "oauth_timestamp outside the accepted window", code_minor="unauthorisedrequest"
        )
    # The unique key on (consumer_key, nonce, timestamp) makes a replay fail atomically, even
    # when two workers see the same request at once.
    inserted = session.execute(
        text(
            "INSERT INTO oauth1_nonces (consumer_key, nonce, timestamp, created_at) "
            "VALUES (:key, :nonce, :ts, now()) ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"key": signed.consumer_key, "nonce": signed.nonce, "ts": signed.timestamp},
    ).first()
    if inserted is None:
        raise Unauthorized("oauth_nonce already used", code_minor="unauthorisedrequest")
    # Nonces older than the window can never be replayed (the timestamp check refuses them).
    session.execute(
        text("DELETE FROM oauth1_nonces WHERE created_at < now() - make_interval(secs => :age)"),
        {"age": 2 * window_seconds},
    )
    session.commit()
