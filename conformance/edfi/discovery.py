"""Discovery document, OAuth token endpoint (both credential styles, every error), metadata."""

from __future__ import annotations

import re
import uuid
from typing import Any

from conformance.edfi.common import basic, describe, expect_status
from conformance.http import BearerAuth, json_of
from conformance.runner import CheckFailed, CheckList, Context, ensure
from conformance.schemas import edfi_resource_paths, edfi_validator, schema_errors

checks = CheckList()
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@checks.add("discovery", "GET / without a token: discovery document per the Discovery API")
def _discovery(ctx: Context) -> None:
    r = ctx.http.get("/", auth=False)
    expect_status(r, 200)
    body = json_of(r)
    problems = schema_errors(edfi_validator("metadataRoot", "discovery-api-1.0.yaml"), body)
    if problems:
        raise CheckFailed("the discovery document does not match metadataRoot", problems)
    ensure(
        re.fullmatch(r"\d+(\.\d+)+", str(body["version"])),
        f"version {body['version']!r} is not dotted integers (clients parse it)",
    )
    ensure(
        any(
            m.get("name") == "Ed-Fi" and str(m.get("version", "")).startswith("5.")
            for m in body["dataModels"]
        ),
        "dataModels has no Ed-Fi 5.x data model",
    )
    relative = {
        k: v for k, v in body["urls"].items() if not str(v).startswith(("http://", "https://"))
    }
    ensure(not relative, f"urls are not absolute: {relative}")


@checks.add("health", "GET /health without a token → 200 with the text Healthy, as the ODS/API")
def _health(ctx: Context) -> None:
    r = ctx.http.get("/health", auth=False)
    expect_status(r, 200)
    ensure(
        r.text == "Healthy",
        f"{describe(r)}: body {r.text[:80]!r}, expected 'Healthy' (probes written for the "
        "ODS/API compare the body)",
    )


def _token(
    ctx: Context,
    *,
    data: Any = None,
    json_body: Any = None,
    headers: dict[str, str] | None = None,
    url: str | None = None,
):
    return ctx.http.request(
        "POST",
        url or ctx.options["token_url"],
        data=data,
        json_body=json_body,
        headers=headers,
        auth=False,
    )


def _expect_token(r: Any) -> str:
    expect_status(r, 200)
    body = json_of(r)
    ensure(
        isinstance(body, dict)
        and isinstance(body.get("access_token"), str)
        and body["access_token"],
        f"{describe(r)}: no access_token",
    )
    ensure(
        str(body.get("token_type", "")).lower() == "bearer",
        f"{describe(r)}: token_type {body.get('token_type')!r}, expected bearer",
    )
    ensure(
        isinstance(body.get("expires_in"), int) and body["expires_in"] > 0,
        f"{describe(r)}: expires_in {body.get('expires_in')!r} is not a positive integer",
    )
    return body["access_token"]


def _expect_oauth_error(r: Any, statuses: tuple[int, ...], error: str) -> None:
    expect_status(r, *statuses)
    body = json_of(r)
    ensure(
        isinstance(body, dict) and body.get("error") == error,
        f"{describe(r)}: error {body.get('error') if isinstance(body, dict) else body!r}, "
        f"expected {error!r}",
    )


@checks.add("token", "HTTP Basic credentials + grant_type=client_credentials → bearer token")
def _basic(ctx: Context) -> None:
    o = ctx.options
    r = _token(
        ctx,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": basic(o["key"], o["secret"]), **FORM},
    )
    token = _expect_token(r)
    ctx.http.auth = BearerAuth(token)
    ctx.state["token"] = token


@checks.add("token", "client_id/client_secret in a form body → bearer token")
def _form(ctx: Context) -> None:
    o = ctx.options
    token = _expect_token(
        _token(
            ctx,
            data={
                "grant_type": "client_credentials",
                "client_id": o["key"],
                "client_secret": o["secret"],
            },
        )
    )
    if ctx.state.get("token") is None:  # Basic failed: carry on with this one
        ctx.http.auth = BearerAuth(token)
        ctx.state["token"] = token


@checks.add("token", "credentials in a JSON body → bearer token")
def _json(ctx: Context) -> None:
    o = ctx.options
    _expect_token(
        _token(
            ctx,
            json_body={
                "grant_type": "client_credentials",
                "client_id": o["key"],
                "client_secret": o["secret"],
            },
        )
    )


@checks.add("token", "the token URL with a trailing slash works too")
def _slash(ctx: Context) -> None:
    o = ctx.options
    _expect_token(
        _token(
            ctx,
            url=o["token_url"].rstrip("/") + "/",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(o["key"], o["secret"]), **FORM},
        )
    )


@checks.add(
    "token",
    "token errors: invalid_client (401), invalid_request, "
    "unsupported_grant_type, invalid_scope (400)",
)
def _errors(ctx: Context) -> None:
    o = ctx.options
    good = {"Authorization": basic(o["key"], o["secret"]), **FORM}
    cases = [
        (
            "wrong secret",
            (401,),
            "invalid_client",
            {
                "data": {"grant_type": "client_credentials"},
                "headers": {"Authorization": basic(o["key"], o["secret"] + "x"), **FORM},
            },
        ),
        (
            "unknown client in the body",
            (400, 401),
            "invalid_client",
            {
                "data": {
                    "grant_type": "client_credentials",
                    "client_id": "conf-" + uuid.uuid4().hex,
                    "client_secret": "x",
                }
            },
        ),
        ("no grant_type", (400,), "invalid_request", {"data": {"x": "1"}, "headers": good}),
        (
            "grant_type=password",
            (400,),
            "unsupported_grant_type",
            {"data": {"grant_type": "password"}, "headers": good},
        ),
        (
            "an unknown scope",
            (400,),
            "invalid_scope",
            {
                "data": {"grant_type": "client_credentials", "scope": "conformance-no-such-scope"},
                "headers": good,
            },
        ),
    ]
    problems = []
    for label, statuses, error, kw in cases:
        try:
            _expect_oauth_error(_token(ctx, **kw), statuses, error)
        except CheckFailed as exc:
            problems.append(f"{label}: {exc.reason}")
    if problems:
        raise CheckFailed(f"{len(problems)} of {len(cases)} token errors are wrong", problems)


@checks.add("token", "POST /oauth/token_info describes the token's client")
def _token_info(ctx: Context) -> None:
    token = ctx.need("token")
    url = ctx.options["token_url"].rsplit("/", 1)[0] + "/token_info"
    r = ctx.http.request("POST", url, json_body={"token": token})
    expect_status(r, 200)
    body = json_of(r)
    ensure(isinstance(body, dict), f"{describe(r)}: body is not an object")
    if ctx.options["edorg"]:
        ensure(
            str(ctx.options["edorg"]) in r.text,
            f"{describe(r)}: education organization {ctx.options['edorg']} not mentioned",
        )


def _swagger(ctx: Context, path: str, expected: str) -> None:
    r = ctx.http.get(path)
    expect_status(r, 200)
    body = json_of(r)
    ensure(
        isinstance(body, dict) and ("openapi" in body or "swagger" in body),
        f"{describe(r)}: not an OpenAPI document",
    )
    paths = {p.lower() for p in body.get("paths", {})}
    ensure(
        any(p.endswith(expected.lower()) for p in paths),
        f"{describe(r)}: no path ending in {expected}",
    )


@checks.add("metadata", "GET /metadata/data/v3/resources/swagger.json is an OpenAPI document")
def _resources_swagger(ctx: Context) -> None:
    _swagger(ctx, "/metadata/data/v3/resources/swagger.json", "/ed-fi/students")


@checks.add("metadata", "GET /metadata/data/v3/descriptors/swagger.json is an OpenAPI document")
def _descriptors_swagger(ctx: Context) -> None:
    _swagger(ctx, "/metadata/data/v3/descriptors/swagger.json", "/ed-fi/gradeLevelDescriptors")


@checks.add(
    "metadata",
    "GET /metadata/data/v3/dependencies: load order, schools and students "
    "before their associations",
)
def _dependencies(ctx: Context) -> None:
    r = ctx.http.get("/metadata/data/v3/dependencies")
    expect_status(r, 200)
    body = json_of(r)
    ensure(isinstance(body, list) and body, f"{describe(r)}: not a non-empty array")
    validator = edfi_validator("dependency", "discovery-api-1.0.yaml")
    problems = [
        m for i, entry in enumerate(body) for m in schema_errors(validator, entry, f"$[{i}]")
    ]
    if problems:
        raise CheckFailed("dependencies entries are malformed", problems[:20])
    ctx.state["dependencies"] = [e["resource"] for e in body]
    order = {e["resource"].lower(): e["order"] for e in body}
    wanted = ["/ed-fi/schools", "/ed-fi/students", "/ed-fi/studentschoolassociations"]
    missing = [w for w in wanted if w not in order]
    ensure(not missing, f"dependencies do not list {missing}")
    ensure(
        order[wanted[0]] < order[wanted[2]] and order[wanted[1]] < order[wanted[2]],
        "studentSchoolAssociations is not ordered after schools and students",
    )


@checks.add(
    "metadata",
    "every resource of the Ed-Fi DS5 OpenAPI is served: listed in dependencies, and its "
    "collection answers GET with a JSON array",
)
def _every_resource(ctx: Context) -> None:
    served = {name.lower() for name in ctx.need("dependencies")}
    standard = edfi_resource_paths()
    missing = [path for path in standard if path.lower() not in served]
    if missing:
        raise CheckFailed(f"{len(missing)} of {len(standard)} DS5 resources not served", missing)
    unreadable = []
    for path in standard:
        r = ctx.http.get("/data/v3" + path, params={"limit": 1})
        if r.status_code != 200 or not isinstance(json_of(r), list):
            unreadable.append(describe(r))
    if unreadable:
        raise CheckFailed(f"{len(unreadable)} DS5 collections not readable", unreadable)


@checks.add("change queries", "GET /changeQueries/v1/availableChangeVersions")
def _versions(ctx: Context) -> None:
    r = ctx.http.get("/changeQueries/v1/availableChangeVersions")
    expect_status(r, 200)
    body = json_of(r)
    problems = schema_errors(
        edfi_validator("availableChangeVersion", "change-queries-api-1.0.0.yaml"), body
    )
    if problems:
        raise CheckFailed("not an availableChangeVersion object", problems)
    ensure(
        isinstance(body["newestChangeVersion"], int)
        and body["newestChangeVersion"] >= body["oldestChangeVersion"],
        f"newestChangeVersion {body['newestChangeVersion']} < oldest",
    )
    ctx.state["version_before"] = body["newestChangeVersion"]


def newest_version(ctx: Context) -> int:
    r = ctx.http.get("/changeQueries/v1/availableChangeVersions")
    expect_status(r, 200)
    return int(json_of(r)["newestChangeVersion"])
