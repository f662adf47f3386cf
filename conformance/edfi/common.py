"""Helpers shared by the Ed-Fi checks: resource URLs, problem details, discovery of fixtures."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import requests

from conformance.http import json_of
from conformance.runner import CheckFailed, Context, ensure, skip

DATA = "/data/v3/ed-fi"
PROBLEM_PREFIX = "urn:ed-fi:api:"


def resource(name: str, suffix: str = "") -> str:
    return f"{DATA}/{name}{suffix}"


def describe(r: requests.Response) -> str:
    return f"{r.request.method} {r.url} → {r.status_code}"


def expect_status(r: requests.Response, *codes: int) -> None:
    if r.status_code not in codes:
        raise CheckFailed(
            f"{describe(r)}, expected {' or '.join(map(str, codes))}" + _problem_hint(r)
        )


def _problem_hint(r: requests.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and body.get("type"):
        return f" ({body.get('type')}: {body.get('detail') or body.get('title')})"
    return ""


def expect_problem(r: requests.Response, status: int, problem_type: str) -> dict[str, Any]:
    """RFC 9457 problem details with the Ed-Fi type; returns the body."""
    expect_status(r, status)
    content_type = r.headers.get("Content-Type", "")
    ensure(
        content_type.startswith("application/problem+json"),
        f"{describe(r)}: Content-Type {content_type!r}, expected application/problem+json",
    )
    body = json_of(r)
    ensure(isinstance(body, dict), f"{describe(r)}: body is not a problem details object")
    expected = PROBLEM_PREFIX + problem_type
    ensure(
        body.get("type") == expected,
        f"{describe(r)}: type {body.get('type')!r}, expected {expected!r}",
    )
    ensure(
        body.get("status") == status,
        f"{describe(r)}: problem status {body.get('status')!r}, expected {status}",
    )
    for field in ("title", "correlationId"):
        ensure(
            isinstance(body.get(field), str) and body[field],
            f"{describe(r)}: problem details without {field}",
        )
    return body


def scratch_code(prefix: str = "CONF") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def items(r: requests.Response) -> list[dict[str, Any]]:
    body = json_of(r)
    ensure(isinstance(body, list), f"{describe(r)}: a collection must be a JSON array")
    return body


def first(ctx: Context, name: str, params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The first record of a collection matching params, or None; fails when not served."""
    r = ctx.http.get(resource(name), params={**(params or {}), "limit": 1})
    expect_status(r, 200)
    found = items(r)
    return found[0] if found else None


def descriptor_uri(ctx: Context, name: str) -> str:
    """A value of a descriptor that the deployment holds, e.g. GradeLevelDescriptor."""
    cache = ctx.state.setdefault("descriptors", {})
    if name not in cache:
        plural = name[0].lower() + name[1:] + "s"
        found = first(ctx, plural)
        if not found or not found.get("namespace") or not found.get("codeValue"):
            skip(f"no {name} values to write with ({resource(plural)})")
        cache[name] = f"{found['namespace']}#{found['codeValue']}"
    return cache[name]


def school_id(ctx: Context) -> int:
    """A school inside the client's organization (--edorg is the school or its LEA)."""
    if "school_id" not in ctx.state:
        edorg = ctx.options["edorg"]
        found = None
        if edorg:
            found = first(ctx, "schools", {"schoolId": edorg}) or first(
                ctx, "schools", {"localEducationAgencyId": edorg}
            )
        else:
            found = first(ctx, "schools")
        if not found:
            skip("no school found inside the client's organization (give --edorg)")
        ctx.state["school_id"] = int(found["schoolId"])
    return ctx.state["school_id"]


def edorg_id(ctx: Context) -> int:
    edorg = ctx.options["edorg"]
    return int(edorg) if edorg else school_id(ctx)


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def delete_if_created(ctx: Context, r: requests.Response, label: str) -> None:
    """A POST that created (or updated) a record, which a check did not want: removed after."""
    if r.status_code in (200, 201) and r.headers.get("Location"):
        delete_later(ctx, label, ctx.http.url(r.headers["Location"]))


def delete_later(ctx: Context, label: str, location: str) -> None:
    def undo() -> None:
        r = ctx.http.request("DELETE", location)
        if r.status_code not in (200, 204, 404):
            raise CheckFailed(f"DELETE {location} → {r.status_code}")

    ctx.cleanups.append((label, undo))
