"""Absolute URLs (OneRoster hrefs and Link headers, Ed-Fi Location and discovery) never come from
a Host header a client chose.

- PUBLIC_BASE_URL (`https://roster.district.org`) set: every request is seen as made to it.
- else, with TRUSTED_PROXIES: the trusted proxy's X-Forwarded-* (werkzeug's ProxyFix, applied
  before this) and the Host header it forwards.
- else: the address the server listens on (WSGI SERVER_NAME and SERVER_PORT); the client's Host
  header is set aside, kept only to check OAuth 1.0a signatures, which the client made over the
  URL it used (a signature proves nothing about the host, and builds no URL).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Request
from werkzeug.sansio.utils import get_current_url

CLIENT_HOST = "gateway.client_host"


class PublicURL:
    def __init__(self, app: Any, base_url: str | None, trusted_proxies: int) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies
        self.scheme = self.host = None
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"PUBLIC_BASE_URL must be http(s)://host[:port], got {base_url!r}")
            self.scheme, self.host = parts.scheme, parts.netloc

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if self.host is not None:
            environ[CLIENT_HOST] = environ.get("HTTP_HOST")
            environ["wsgi.url_scheme"] = self.scheme
            environ["HTTP_HOST"] = self.host
        elif not self.trusted_proxies and "HTTP_HOST" in environ:
            environ[CLIENT_HOST] = environ.pop("HTTP_HOST")
        return self.app(environ, start_response)


def signed_url(request: Request) -> str:
    """The URL an OAuth 1.0a client signed: the one it sent its request to."""
    host = request.environ.get(CLIENT_HOST)
    if not host or request.environ.get("HTTP_HOST") == host:
        return request.base_url
    return get_current_url(request.scheme, host, request.root_path, request.path)
