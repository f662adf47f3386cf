"""Every endpoint of the REST binding: envelopes, schemas, typed views, nested paths, GUIDRefs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from conformance.http import json_of
from conformance.oneroster.common import (
    COLLECTIONS,
    ENDPOINTS,
    UNKNOWN_OBJECT,
    describe,
    dotted,
    expect_imsx,
    expect_status,
    expect_valid,
    get,
    items_of,
    ref_ids,
    sample,
    scope_guard,
)
from conformance.runner import CheckFailed, CheckList, CheckSkipped, Context, ensure, skip
from conformance.schemas import oneroster_validator

checks = CheckList()
HREFS_PER_COLLECTION = 6


def _collection(path: str, spec: dict[str, Any]):
    key = spec["envelope"][0]

    def check(ctx: Context) -> None:
        r = get(ctx, path, {"limit": 100})
        scope_guard(r)
        expect_status(r, 200)
        ensure(
            r.headers.get("Content-Type", "").startswith("application/json"),
            f"{describe(r)}: Content-Type is {r.headers.get('Content-Type')!r}",
        )
        items = items_of(r, key)
        ctx.state.setdefault("samples", {})[path] = items
        expect_valid(items, spec["schema"], f"$.{key}")
        wrong = [
            f"$.{key}[{i}].{field}: {item.get(field)!r}, expected {value!r}"
            for field, value in (spec.get("restriction") or {}).items()
            for i, item in enumerate(items)
            if item.get(field) != value
        ]
        if wrong:
            raise CheckFailed(f"{path} is a typed view but returns other records", wrong)
        total = r.headers.get("X-Total-Count")
        ensure(
            total is not None and total.isdigit() and int(total) >= len(items),
            f"{describe(r)}: X-Total-Count is {total!r}, expected a count ≥ {len(items)}",
        )
        if not items:
            skip(f"{path} is empty: envelope checked, no records to check against the schema")

    return check


def _single(path: str, spec: dict[str, Any]):
    key = spec["envelope"][1]

    def check(ctx: Context) -> None:
        items = sample(ctx, path)
        if not items:
            skip(f"{path} returned no records to read by id")
        sourced_id = items[0]["sourcedId"]
        r = get(ctx, f"{path}/{sourced_id}")
        scope_guard(r)
        expect_status(r, 200)
        body = json_of(r)
        ensure(
            isinstance(body, dict) and isinstance(body.get(key), dict),
            f'{describe(r)}: body is not the single envelope {{"{key}": {{...}}}}',
        )
        expect_valid([body[key]], spec["schema"], f"$.{key}")
        ensure(
            body[key]["sourcedId"] == sourced_id,
            f"{describe(r)}: sourcedId {body[key]['sourcedId']!r}, expected {sourced_id!r}",
        )

    return check


def _guidrefs(value: Any, out: list[dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if {"href", "sourcedId", "type"} <= value.keys():
            out.append(value)
        else:
            for v in value.values():
                _guidrefs(v, out)
    elif isinstance(value, list):
        for v in value:
            _guidrefs(v, out)


def _hrefs(path: str):
    def check(ctx: Context) -> None:
        refs: list[dict[str, Any]] = []
        _guidrefs(sample(ctx, path)[:20], refs)
        if not refs:
            skip(f"no GUIDRefs in the first records of {path}")
        by_type: dict[str, dict[str, Any]] = {}
        for ref in refs:
            by_type.setdefault(f"{ref['type']}", ref)
        chosen = list(by_type.values())[:HREFS_PER_COLLECTION]
        problems = []
        for ref in chosen:
            href = str(ref["href"])
            if not href.startswith(("http://", "https://")):
                problems.append(f"{ref['type']} {ref['sourcedId']}: href {href!r} is not absolute")
                continue
            r = ctx.http.get(href)
            body = r.json() if r.status_code == 200 else None
            target = next(iter(body.values()), None) if isinstance(body, dict) and body else None
            if r.status_code != 200 or not isinstance(target, dict):
                problems.append(f"{ref['type']} {ref['sourcedId']}: GET {href} → {r.status_code}")
            elif target.get("sourcedId") != ref["sourcedId"]:
                problems.append(
                    f"GET {href} returned sourcedId {target.get('sourcedId')!r}, "
                    f"expected {ref['sourcedId']!r}"
                )
        if problems:
            raise CheckFailed(
                f"{len(problems)} of {len(chosen)} GUIDRef hrefs do not resolve", problems
            )

    return check


def _fill(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", str(value))
    return path


def _candidates(item: Any, field: str) -> list[str]:
    """Values at a dotted path; `*` stands for every element of a list."""
    head, _, rest = field.partition(".*.")
    if not rest:
        value = dotted(item, field)
        return [value] if isinstance(value, str) and value else []
    found = dotted(item, head)
    return [
        v
        for element in (found if isinstance(found, list) else [])
        for v in _candidates(element, rest)
    ]


def _discover(ctx: Context, spec: dict[str, Any]) -> dict[str, str]:
    """Path params from the first record of `from` that has them all; `within` names the typed
    collection a param must belong to (a class's terms may be semesters, not terms)."""
    rule = spec["discover"]
    allowed = {
        name: {i.get("sourcedId") for i in sample(ctx, path)}
        for name, path in (rule.get("within") or {}).items()
    }
    for item in sample(ctx, rule["from"]):
        if any(item.get(k) != v for k, v in (rule.get("where") or {}).items()):
            continue
        params = {}
        for name, field in rule["params"].items():
            values = [v for v in _candidates(item, field) if v in allowed.get(name, {v})]
            if values:
                params[name] = values[0]
        if len(params) == len(rule["params"]):
            return params
    where = " within " + ", ".join(rule["within"].values()) if rule.get("within") else ""
    skip(f"no record in {rule['from']} to take a parent id{where} from")
    raise AssertionError


def _nested(spec: dict[str, Any]):
    key = spec["envelope"]

    def check(ctx: Context) -> None:
        params = _discover(ctx, spec)
        r = get(ctx, _fill(spec["path"], params), {"limit": 100})
        scope_guard(r)
        expect_status(r, 200)
        items = items_of(r, key)
        expect_valid(items, spec["schema"], f"$.{key}")
        problems = []
        for i, item in enumerate(items):
            for field, param in (spec.get("match") or {}).items():
                if params[param] not in ref_ids(item.get(field)):
                    problems.append(f"$.{key}[{i}].{field} does not reference {params[param]!r}")
            for field, value in (spec.get("where") or {}).items():
                if item.get(field) != value:
                    problems.append(f"$.{key}[{i}].{field} is {item.get(field)!r}, not {value!r}")
        if problems:
            raise CheckFailed("records that do not belong to the parent", problems[:30])
        ensure(
            r.headers.get("X-Total-Count", "").isdigit(), f"{describe(r)}: no X-Total-Count header"
        )

    return check


def _unknown_ids(ctx: Context) -> None:
    problems = []
    unknown = f"conformance-unknown-{uuid.uuid4().hex[:12]}"
    paths = [c["path"] + "/{id}" for c in ENDPOINTS["collections"]]
    paths += [n["path"] for n in ENDPOINTS["nested"]]
    for template in paths:
        collection = "/" + template.split("/")[1]
        try:
            sample(ctx, collection)
        except CheckSkipped:
            continue  # scope not granted
        except CheckFailed as exc:
            # A 404 from a collection that is not served proves nothing about unknown ids.
            problems.append(exc.reason)
            continue
        path = template
        for name in ("id", "sid", "cid", "lid"):
            path = path.replace("{" + name + "}", unknown)
        r = get(ctx, path)
        if r.status_code == 403:
            continue  # scope not granted: nothing to learn about unknown ids
        try:
            expect_imsx(r, 404, UNKNOWN_OBJECT)
        except CheckFailed as exc:
            problems.append(exc.reason)
    if problems:
        raise CheckFailed(
            f"{len(problems)} of {len(paths)} paths do not answer 404 "
            f"'{UNKNOWN_OBJECT}' for an unknown sourcedId",
            problems,
        )


def _trailing_slashes(ctx: Context) -> None:
    """Consumers that join paths send `/courses/`: it is the same collection."""
    problems = []
    for spec in ENDPOINTS["collections"]:
        path = spec["path"]
        r = get(ctx, path + "/", {"limit": 1})
        if r.status_code == 403:
            continue  # scope not granted
        if r.status_code != 200 or not isinstance(
            (json_of(r) or {}).get(spec["envelope"][0]), list
        ):
            problems.append(f"{describe(r)}, expected 200 with the {path} envelope")
    if problems:
        raise CheckFailed(f"{len(problems)} collections refuse a trailing slash", problems)


def _terms_visible(ctx: Context) -> None:
    """The sessions classes name in `terms` are the district's terms: /terms must not be empty
    when classes name any, and each named session is a parent of /terms/{id}/classes."""
    named = sorted({i for c in sample(ctx, "/classes") for i in ref_ids(c.get("terms") or [])})
    if not named:
        skip("no class names a term")
    terms = sample(ctx, "/terms")
    ensure(terms, f"classes name {len(named)} sessions in `terms`, but /terms is empty")
    problems = []
    for sourced_id in named[:5]:
        r = get(ctx, f"/terms/{sourced_id}/classes", {"limit": 1})
        if r.status_code != 200:
            problems.append(f"{describe(r)}: a session classes name in `terms` is refused")
    if problems:
        raise CheckFailed("/terms/{id}/classes refuses sessions that classes name", problems)


def _register() -> None:
    for spec in ENDPOINTS["collections"]:
        checks.add("endpoints", f"GET {spec['path']}: envelope, entity schema, X-Total-Count")(
            _collection(spec["path"], spec)
        )
    for spec in ENDPOINTS["collections"]:
        checks.add("endpoints", f"GET {spec['path']}/{{id}}: single envelope and schema")(
            _single(spec["path"], spec)
        )
    for spec in ENDPOINTS["nested"]:
        checks.add("nested endpoints", f"GET {spec['path']}: records of that parent only")(
            _nested(spec)
        )
    checks.add("endpoints", "a trailing slash (/courses/) reads the same collection")(
        _trailing_slashes
    )
    checks.add("endpoints", "/terms lists the terms classes name; /terms/{id}/classes takes them")(
        _terms_visible
    )
    checks.add("errors", f"unknown sourcedIds and parents → 404 '{UNKNOWN_OBJECT}' (imsx)")(
        _unknown_ids
    )
    for path, spec in COLLECTIONS.items():
        if spec.get("restriction"):
            continue  # typed views hold the same records as their parent collection
        if "guidref" not in json.dumps(oneroster_validator(spec["schema"]).schema):
            continue  # categories, demographics, resources hold no references
        checks.add("GUIDRefs", f"GUIDRef hrefs in {path} are absolute and resolve")(_hrefs(path))


_register()
