"""Authentication: OAuth 2 client credentials, OAuth 1.0a signatures, 401/403/405 envelopes."""

from __future__ import annotations

import base64
import time
import uuid

from conformance.http import BearerAuth, json_of
from conformance.oauth1 import OAuth1Auth, authorization_header
from conformance.oneroster.common import ENDPOINTS, describe, expect_imsx, expect_status, get
from conformance.runner import CheckFailed, CheckList, Context, ensure, not_requested, skip

checks = CheckList()
ROSTER_CORE = ENDPOINTS["scopes"]["roster-core.readonly"]


def fetch_token(ctx: Context, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    r = ctx.http.request(
        "POST",
        ctx.options["token_url"],
        data=data,
        auth=False,
        headers={"Authorization": _basic(ctx)},
    )
    expect_status(r, 200)
    body = json_of(r)
    ensure(
        isinstance(body, dict)
        and body.get("access_token")
        and str(body.get("token_type", "")).lower() == "bearer",
        f"{describe(r)}: no bearer access_token in the answer",
    )
    return body["access_token"]


def _basic(ctx: Context) -> str:
    pair = f"{ctx.options['key']}:{ctx.options['secret']}".encode()
    return "Basic " + base64.b64encode(pair).decode()


@checks.add("authentication", "credentials are accepted (OAuth 2 token, OAuth 1.0a or bearer)")
def _login(ctx: Context) -> None:
    o = ctx.options
    if o["token"]:
        ctx.http.auth = BearerAuth(o["token"])
    elif o["oauth1"]:
        ctx.http.auth = OAuth1Auth(o["key"], o["secret"], o["signature_method"])
    else:
        ctx.http.auth = BearerAuth(fetch_token(ctx))
    r = get(ctx, "/orgs", {"limit": 1})
    expect_status(r, 200)


@checks.add("authentication", "no credentials → 401 (imsx)")
def _anonymous(ctx: Context) -> None:
    expect_imsx(get(ctx, "/orgs", auth=False), 401)


@checks.add("authentication", "an unknown bearer token → 401 (imsx)")
def _bad_token(ctx: Context) -> None:
    expect_imsx(get(ctx, "/orgs", auth=BearerAuth("conformance-" + uuid.uuid4().hex)), 401)


def _oauth1_only(ctx: Context) -> None:
    if not ctx.options["oauth1"]:
        not_requested("run with --oauth1 to check OAuth 1.0a signing")


@checks.add("authentication", "OAuth 1.0a: HMAC-SHA256 and HMAC-SHA1 signatures are accepted")
def _both_methods(ctx: Context) -> None:
    _oauth1_only(ctx)
    o = ctx.options
    for method in ("HMAC-SHA256", "HMAC-SHA1"):
        r = get(ctx, "/orgs", {"limit": 1}, auth=OAuth1Auth(o["key"], o["secret"], method))
        ensure(r.status_code == 200, f"{method}: {describe(r)}")


@checks.add("authentication", "OAuth 1.0a: query parameters with spaces are signed as %20")
def _spaces(ctx: Context) -> None:
    _oauth1_only(ctx)
    r = get(ctx, "/orgs", {"filter": "name~'conformance with spaces'", "limit": 1})
    expect_status(r, 200)


def _signed(ctx: Context, url: str, **kw: object) -> dict[str, str]:
    o = ctx.options
    return {
        "Authorization": authorization_header(
            "GET", url, o["key"], o["secret"], signature_method=o["signature_method"], **kw
        )
    }


@checks.add("authentication", "OAuth 1.0a: a replayed nonce → 401")
def _replay(ctx: Context) -> None:
    _oauth1_only(ctx)
    url = ctx.http.url(ctx.options["root"] + "/orgs", {"limit": 1})
    headers = _signed(ctx, url)
    first = ctx.http.get(url, headers=headers, auth=False)
    expect_status(first, 200)
    expect_imsx(ctx.http.get(url, headers=headers, auth=False), 401)


@checks.add("authentication", "OAuth 1.0a: a timestamp a day old → 401")
def _stale(ctx: Context) -> None:
    _oauth1_only(ctx)
    url = ctx.http.url(ctx.options["root"] + "/orgs", {"limit": 1})
    headers = _signed(ctx, url, timestamp=int(time.time()) - 86400)
    expect_imsx(ctx.http.get(url, headers=headers, auth=False), 401)


@checks.add("authentication", "OAuth 1.0a: a wrong signature → 401")
def _wrong_secret(ctx: Context) -> None:
    _oauth1_only(ctx)
    auth = OAuth1Auth(ctx.options["key"], "not-the-secret", ctx.options["signature_method"])
    expect_imsx(get(ctx, "/orgs", auth=auth), 401)


@checks.add(
    "authorization", "a roster-core.readonly token reads /orgs but gets 403 on /demographics (imsx)"
)
def _core_scope(ctx: Context) -> None:
    if ctx.options["oauth1"] or ctx.options["token"]:
        not_requested("needs --key/--secret with OAuth 2 to ask for a narrower scope")
    try:
        token = fetch_token(ctx, ROSTER_CORE)
    except CheckFailed as exc:
        skip(f"no roster-core.readonly token for this client ({exc.reason})")
    auth = BearerAuth(token)
    expect_status(get(ctx, "/orgs", {"limit": 1}, auth=auth), 200)
    expect_imsx(get(ctx, "/demographics", {"limit": 1}, auth=auth), 403)


@checks.add("errors", "a write verb on a read-only collection → 405 (imsx)")
def _not_allowed(ctx: Context) -> None:
    r = ctx.http.request("POST", ctx.options["root"] + "/orgs", json_body={"org": {}})
    expect_imsx(r, 405)
