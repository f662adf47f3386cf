"""OAuth 1.0a request signing (RFC 5849) for OneRoster consumers, through Authlib's client.

Authlib builds the signature base string and the Authorization header; OneRoster's HMAC-SHA256 is
registered on Authlib's base string (Authlib ships HMAC-SHA1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from authlib.integrations.requests_client import OAuth1Auth as _AuthlibOAuth1Auth
from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape


def _sign_hmac_sha256(client: ClientAuth, request: object) -> str:
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    base = generate_signature_base_string(request)
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


class OAuth1Auth(_AuthlibOAuth1Auth):
    """A requests auth that signs every prepared request (the URL on the wire is the one signed);
    `timestamp` and `nonce` fix those parameters, for replay and clock-skew checks."""

    SIGNATURE_METHODS = {**ClientAuth.SIGNATURE_METHODS, "HMAC-SHA256": _sign_hmac_sha256}

    def __init__(
        self,
        key: str,
        secret: str,
        signature_method: str = "HMAC-SHA256",
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
    ) -> None:
        super().__init__(key, secret, signature_method=signature_method)
        self.fixed_timestamp, self.fixed_nonce = timestamp, nonce

    def get_oauth_params(self, nonce: str, timestamp: str) -> list[tuple[str, str]]:
        return super().get_oauth_params(
            self.fixed_nonce or nonce,
            timestamp if self.fixed_timestamp is None else str(self.fixed_timestamp),
        )


def authorization_header(
    method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    signature_method: str = "HMAC-SHA256",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> str:
    """The Authorization header of a body-less request to `url` (query parameters signed)."""
    auth = OAuth1Auth(
        consumer_key, consumer_secret, signature_method, timestamp=timestamp, nonce=nonce
    )
    _, headers, _ = auth.prepare(method, url, {}, "")
    return headers["Authorization"]
