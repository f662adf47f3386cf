"""A test-side OAuth 1.0a consumer built on Authlib (independent of gateway.auth.oauth1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from authlib.oauth1.rfc5849.client_auth import ClientAuth
from authlib.oauth1.rfc5849.signature import generate_signature_base_string
from authlib.oauth1.rfc5849.util import escape


def _sign_hmac_sha256(client: ClientAuth, request) -> str:
    base = generate_signature_base_string(request)
    key = f"{escape(client.client_secret or '')}&{escape(client.token_secret or '')}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


class Consumer(ClientAuth):
    SIGNATURE_METHODS = {**ClientAuth.SIGNATURE_METHODS, "HMAC-SHA256": _sign_hmac_sha256}


class SkewedConsumer(Consumer):
    """Signs with a timestamp an hour old."""

    def get_oauth_params(self, nonce, timestamp):
        return super().get_oauth_params(nonce, str(int(time.time()) - 3600))


def signed(consumer: ClientAuth, method: str, url: str, body: str = "", content_type: str = ""):
    headers = {"Content-Type": content_type} if content_type else {}
    return consumer.prepare(method, url, headers, body)


class CraftedConsumer(Consumer):
    """Signs correctly over OAuth parameters the test chose: a fixed nonce or timestamp, or
    without some parameters altogether."""

    def __init__(self, *args, nonce=None, timestamp=None, drop=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = {"oauth_nonce": nonce, "oauth_timestamp": timestamp}
        self.drop = set(drop)

    def get_oauth_params(self, nonce, timestamp):
        params = []
        for name, value in super().get_oauth_params(nonce, timestamp):
            if name in self.drop:
                continue
            fixed = self.fixed.get(name)
            params.append((name, value if fixed is None else str(fixed)))
        return params
