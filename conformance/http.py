"""HTTP client for the suites: builds URLs, authenticates, and records each exchange for reports."""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import quote, urlencode, urljoin

import requests

from conformance.runner import CheckFailed, Exchange

BODY_EXCERPT = 2000
_HIDDEN = {"authorization", "cookie", "set-cookie"}


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def _excerpt(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = str(body)
    if text.startswith(("{", "[")):
        try:  # indented JSON reads better in a report
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text if len(text) <= BODY_EXCERPT else text[:BODY_EXCERPT] + f"… ({len(text)} chars)"


def _headers(headers: Any) -> dict[str, str]:
    # Credentials never reach a report.
    return {k: ("…" if k.lower() in _HIDDEN else v) for k, v in headers.items()}


class Http:
    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # Read proxy and CA settings from the environment once, not on every request.
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle
        self.session.trust_env = False
        self.auth: requests.auth.AuthBase | None = None
        self.exchanges: list[Exchange] = []

    def url(self, path: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if params:
            # %20 for spaces (not '+'): OAuth 1.0a signatures and OneRoster filters expect it.
            query = urlencode(params, quote_via=quote, safe="")
            url += ("&" if "?" in url else "?") + query
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: Any = True,
    ) -> requests.Response:
        url = self.url(path, params)
        # auth=True: the suite's credentials; False: none (401 checks); or an AuthBase to use.
        chosen = self.auth if auth is True else (None if auth is False else auth)
        req = requests.Request(
            method, url, headers=headers or {}, json=json_body, data=data, auth=chosen
        )
        prepared = self.session.prepare_request(req)
        start = time.monotonic()

        def record(status: int | None, headers: dict[str, str], body: str) -> None:
            elapsed = int((time.monotonic() - start) * 1000) if status is not None else 0
            self.exchanges.append(
                Exchange(
                    method,
                    url,
                    _headers(prepared.headers),
                    _excerpt(prepared.body),
                    status,
                    headers,
                    body,
                    elapsed,
                )
            )

        try:
            response = self.session.send(prepared, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            record(None, {}, str(exc))
            raise CheckFailed(f"{method} {url}: no response ({type(exc).__name__})") from exc
        record(response.status_code, _headers(response.headers), _excerpt(response.content))
        return response

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def close(self) -> None:
        self.session.close()


def json_of(response: requests.Response) -> Any:
    """The JSON body, or a failure naming the request when it is not JSON."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError) as exc:
        raise CheckFailed(
            f"{response.request.method} {response.url} answered {response.status_code} "
            f"with a body that is not JSON"
        ) from exc


def absolute(base: str, href: str) -> str:
    return urljoin(base + "/", href)
