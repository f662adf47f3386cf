"""OAuth 1.0a request verification (RFC 5849, two-legged) for OneRoster 1.1, through Authlib.

OneRoster consumers sign each request with the client key and secret (no token). Parameters may
arrive in the Authorization header, the query string or a form body; all are in the base string.
Authlib parses the request, builds the base string and checks HMAC-SHA1 signatures (HMAC-SHA256,
which OneRoster requires, is registered here on Authlib's base string). What stays ours: the
timestamp window in both directions (OAUTH1_TIMESTAMP_WINDOW), the nonce store in PostgreSQL,
and the rule that the nonce and consumer key are checked before either reaches the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, quote, urlencode

from authlib.oauth1.rfc5849 import errors
from authlib.oauth1.rfc5849.base_server import BaseServer
from authlib.oauth1.rfc5849.signature import (
    SIGNATURE_HMAC_SHA1,
    generate_signature_base_string,
    verify_hmac_sha1,
)
from authlib.oauth1.rfc5849.util import escape
from authlib.oauth1.rfc5849.wrapper import OAuth1Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.errors import Unauthorized

SIGNATURE_HMAC_SHA256 = "HMAC-SHA256"
DEFAULT_WINDOW_SECONDS = 300
MAX_NONCE_LENGTH = 255  # oauth1_nonces.nonce is varchar(255)
MAX_KEY_LENGTH = 64  # api_clients.key / oauth1_nonces.consumer_key are varchar(64)


def verify_hmac_sha256(request: OAuth1Request) -> bool:
    """HMAC-SHA256 over Authlib's signature base string (RFC 5849 §3.4.2 with SHA-256)."""
    secret = request.client_secret
    if not secret or not request.signature:
        return False
    key = f"{escape(secret)}&{escape(request.token_secret or '')}"
    base = generate_signature_base_string(request)
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), request.signature)


class _Consumer:
    """What Authlib's signature checks read from a client."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def get_client_secret(self) -> str:
        return self.secret

    def get_rsa_public_key(self) -> None:
        return None


def _printable(value: str, limit: int) -> bool:
    return 0 < len(value) <= limit and value.isprintable()


class TwoLeggedServer(BaseServer):
    """Authlib's server checks for consumer-signed requests (no oauth_token), with our nonce
    store and a timestamp window that refuses the future as well as the past."""

    SIGNATURE_METHODS = {
        SIGNATURE_HMAC_SHA1: verify_hmac_sha1,
        SIGNATURE_HMAC_SHA256: verify_hmac_sha256,
    }
    SUPPORTED_SIGNATURE_METHODS = [SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256]

    def __init__(
        self,
        session: Session,
        secret_for: Callable[[Session, str], str | None],
        window_seconds: int,
        now: float | None = None,
    ) -> None:
        self.session, self.secret_for, self.now = session, secret_for, now
        self.EXPIRY_TIME = window_seconds

    def get_client_by_id(self, client_id: str) -> _Consumer | None:
        secret = self.secret_for(self.session, client_id)
        return _Consumer(secret) if secret else None

    def validate_request(self, request: OAuth1Request) -> str:
        """Signature, then window and nonce (stored only for a correctly signed request)."""
        params = request.oauth_params
        for name in ("oauth_consumer_key", "oauth_signature_method", "oauth_signature"):
            if not params.get(name):
                raise errors.MissingRequiredParameterError(name)
        if not _printable(request.client_id, MAX_KEY_LENGTH):
            raise errors.InvalidClientError()
        nonce = params.get("oauth_nonce")
        if nonce and not _printable(nonce, MAX_NONCE_LENGTH):
            raise errors.InvalidNonceError(
                description=f"oauth_nonce must be 1 to {MAX_NONCE_LENGTH} printable characters"
            )
        if params.get("oauth_version", "1.0") != "1.0":
            raise errors.InvalidRequestError('Unsupported "oauth_version"')
        request.client = self.get_client_by_id(request.client_id)
        if request.client is None:
            raise errors.InvalidClientError()
        self.validate_oauth_signature(request)
        self.validate_timestamp_and_nonce(request)
        return request.client_id

    def validate_timestamp_and_nonce(self, request: OAuth1Request) -> None:
        timestamp = request.oauth_params.get("oauth_timestamp")
        if not timestamp:
            raise errors.MissingRequiredParameterError("oauth_timestamp")
        try:
            skew = abs((time.time() if self.now is None else self.now) - int(timestamp))
        except ValueError:
            raise errors.InvalidRequestError('Invalid "oauth_timestamp" value') from None
        if skew > self.EXPIRY_TIME:
            raise errors.InvalidRequestError("oauth_timestamp outside the accepted window")
        super().validate_timestamp_and_nonce(request)

    def exists_nonce(self, nonce: str, request: OAuth1Request) -> bool:
        # The unique key on (consumer_key, nonce, timestamp) makes a replay fail atomically, even
        # when two workers see the same request at once.
        inserted = self.session.execute(
            text(
                "INSERT INTO oauth1_nonces (consumer_key, nonce, timestamp, created_at) "
                "VALUES (:key, :nonce, :ts, now()) ON CONFLICT DO NOTHING RETURNING 1"
            ),
            {"key": request.client_id, "nonce": nonce, "ts": int(request.timestamp)},
        ).first()
        return inserted is None


def _canonical(encoded: str) -> str:
    """A query or form body re-encoded with every reserved character escaped: the same decoded
    parameters (so the same base string), in the form Authlib's strict parser accepts."""
    return urlencode(parse_qsl(encoded, keep_blank_values=True), quote_via=quote)


def is_signed(authorization: str | None, query_string: str, form_body: str | None) -> bool:
    """Whether the request carries OAuth 1.0a parameters at all (else another scheme applies)."""
    if authorization and authorization.strip()[:6].lower() == "oauth ":
        return True
    params = parse_qsl(f"{query_string}&{form_body or ''}", keep_blank_values=True)
    return any(name == "oauth_signature" for name, _ in params)


def verify(
    session: Session,
    *,
    http_method: str,
    base_url: str,
    authorization: str | None,
    query_string: str,
    form_body: str | None,
    secret_for: Callable[[Session, str], str | None],
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    now: float | None = None,
) -> str:
    """The consumer key of a correctly signed, fresh, never-seen request; else Unauthorized."""
    headers = {}
    if authorization and authorization.strip()[:6].lower() == "oauth ":
        headers["Authorization"] = authorization.strip()
    query = _canonical(query_string)
    uri = f"{base_url}?{query}" if query else base_url
    body = _canonical(form_body) if form_body else None
    server = TwoLeggedServer(session, secret_for, window_seconds, now)
    try:
        key = server.validate_request(OAuth1Request(http_method, uri, body, headers))
    except errors.OAuth1Error as exc:
        description = exc.description or exc.error
        raise Unauthorized(
            f"OAuth 1.0a {exc.error}: {description}", code_minor="unauthorisedrequest"
        ) from None
    except ValueError as exc:  # Authlib: a malformed header or parameter encoding
        raise Unauthorized(
            f"OAuth 1.0a invalid_request: {exc}", code_minor="unauthorisedrequest"
        ) from None
    # Nonces older than the window can never be replayed (the timestamp check refuses them).
    session.execute(
        text("DELETE FROM oauth1_nonces WHERE created_at < now() - make_interval(secs => :age)"),
        {"age": 2 * window_seconds},
    )
    session.commit()
    return key
