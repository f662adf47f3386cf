"""Helpers shared by the OneRoster checks: requests under the OneRoster root, envelopes, imsx."""

from __future__ import annotations

from typing import Any

import requests

from conformance.http import json_of
from conformance.runner import CheckFailed, Context, ensure, skip
from conformance.schemas import oneroster_data, oneroster_validator, schema_errors

ENDPOINTS = oneroster_data("rest-endpoints.json")
COLLECTIONS = {c["path"]: c for c in ENDPOINTS["collections"]}
SAMPLE_LIMIT = 100
# imsx codeMinor values as the 1.1 binding's machine-readable files spell them (its prose writes
# "invalid data", "unknown object"): what clients generated from the binding accept.
INVALID_DATA, UNKNOWN_OBJECT = "invaliddata", "unknownobject"


def get(ctx: Context, path: str, params: Any = None, **kw: Any) -> requests.Response:
    return ctx.http.get(ctx.options["root"] + path, params=params, **kw)


def describe(r: requests.Response) -> str:
    return f"{r.request.method} {r.url} → {r.status_code}"


def expect_status(r: requests.Response, *codes: int) -> None:
    if r.status_code not in codes:
        raise CheckFailed(f"{describe(r)}, expected {' or '.join(map(str, codes))}")


def scope_guard(r: requests.Response) -> None:
    """A 403 is the conformant answer when the client lacks the scope: nothing to check then."""
    if r.status_code == 403:
        imsx_problems = schema_errors(oneroster_validator("imsx-status-info"), _json_or_none(r))
        skip(
            f"{describe(r)}: the client lacks the scope for it"
            + ("" if not imsx_problems else " (and the 403 is not an imsx status info)")
        )


def _json_or_none(r: requests.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def items_of(r: requests.Response, key: str) -> list[dict[str, Any]]:
    body = json_of(r)
    ensure(
        isinstance(body, dict) and isinstance(body.get(key), list),
        f'{describe(r)}: body is not the collection envelope {{"{key}": [...]}}',
    )
    return body[key]


def entity_problems(items: list[Any], schema: str, where: str) -> list[str]:
    validator = oneroster_validator(schema)
    problems: list[str] = []
    for i, item in enumerate(items):
        problems += schema_errors(validator, item, f"{where}[{i}]", limit=5)
        if len(problems) > 30:
            break
    return problems


def expect_valid(items: list[Any], schema: str, where: str) -> None:
    problems = entity_problems(items, schema, where)
    if problems:
        raise CheckFailed(
            f"{len(problems)} schema violation(s) against the {schema} schema", problems
        )


def expect_imsx(r: requests.Response, status: int, code_minor: str | None = None) -> None:
    """An error response in the imsx status-info envelope with the given codeMinor."""
    expect_status(r, status)
    body = json_of(r)
    problems = schema_errors(oneroster_validator("imsx-status-info"), body)
    if problems:
        raise CheckFailed(f"{describe(r)}: body is not an imsx status info", problems)
    ensure(
        body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error",
        f"{describe(r)}: imsx_codeMajor/imsx_severity are {body['imsx_codeMajor']}/"
        f"{body['imsx_severity']}, expected failure/error",
    )
    if code_minor is not None:
        values = [
            f.get("imsx_codeMinorFieldValue") for f in body["imsx_CodeMinor"]["imsx_codeMinorField"]
        ]
        ensure(code_minor in values, f"{describe(r)}: codeMinor {values}, expected '{code_minor}'")


def warnings_of(r: requests.Response) -> list[str]:
    """codeMinor values of the warnings in a 200 body's statusInfoSet."""
    body = json_of(r)
    infos = body.get("statusInfoSet") if isinstance(body, dict) else None
    ensure(isinstance(infos, list), f"{describe(r)}: no statusInfoSet array in the body")
    validator = oneroster_validator("imsx-status-info")
    problems = [
        m
        for i, info in enumerate(infos)
        for m in schema_errors(validator, info, f"$.statusInfoSet[{i}]")
    ]
    if problems:
        raise CheckFailed(
            f"{describe(r)}: statusInfoSet entries are not imsx status infos", problems
        )
    values = []
    for info in infos:
        for f in (info.get("imsx_CodeMinor") or {}).get("imsx_codeMinorField") or []:
            values.append(f.get("imsx_codeMinorFieldValue"))
    return values


def sample(ctx: Context, path: str) -> list[dict[str, Any]]:
    """First page of a collection (cached). A collection the client may not read (403) skips
    the check that needs it; one that is not served fails it."""
    cache = ctx.state.setdefault("samples", {})
    unreadable = ctx.state.setdefault("unreadable", {})
    if path not in cache and path not in unreadable:
        r = get(ctx, path, {"limit": SAMPLE_LIMIT})
        key = COLLECTIONS[path]["envelope"][0]
        body = _json_or_none(r)
        if r.status_code == 200 and isinstance(body, dict) and isinstance(body.get(key), list):
            cache[path] = body[key]
        else:
            unreadable[path] = (r.status_code, f"{describe(r)}: {path} cannot be read")
    if path in unreadable:
        status, reason = unreadable[path]
        if status == 403:
            skip(f"{reason} (the client lacks the scope)")
        raise CheckFailed(reason)
    return cache[path]


def dotted(item: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(item, list):
            item = item[int(part)] if part.isdigit() and int(part) < len(item) else None
        elif isinstance(item, dict):
            item = item.get(part)
        else:
            return None
    return item


def ref_ids(value: Any) -> list[str]:
    """sourcedIds of a GUIDRef or a list of GUIDRefs."""
    refs = value if isinstance(value, list) else [value]
    return [r.get("sourcedId") for r in refs if isinstance(r, dict)]


def read_all(
    ctx: Context, path: str, params: dict[str, Any], key: str, page: int = 1000
) -> tuple[list[dict[str, Any]], bool]:
    """Every record of a collection by offset paging, up to --max-records; (items, complete).
    A provider may cap `limit` below `page`, so X-Total-Count (when sent) says where the end is."""
    items: list[dict[str, Any]] = []
    cap = ctx.options["max_records"]
    while len(items) < cap:
        r = get(ctx, path, {**params, "limit": page, "offset": len(items)})
        expect_status(r, 200)
        batch = items_of(r, key)
        items += batch
        total = r.headers.get("X-Total-Count", "")
        if not batch or (len(items) >= int(total) if total.isdigit() else len(batch) < page):
            return items, True
    return items, False
