"""Records of every resource the deployment serves, checked against the DS5 OpenAPI schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from conformance.edfi.common import describe, items
from conformance.runner import CheckFailed, CheckList, Context, skip
from conformance.schemas import edfi_openapi, edfi_validator, schema_errors

checks = CheckList()
OPENAPI_FILES = ("resources-ds-5.0.yaml", "descriptor-api-5.0.yaml")
SAMPLE = 10


@cache
def _components() -> dict[str, tuple[str, str]]:
    """'/ed-fi/students' (lower case) → (OpenAPI file, component of its items)."""
    found = {}
    for filename in OPENAPI_FILES:
        for path, operations in edfi_openapi(filename)["paths"].items():
            try:
                schema = operations["get"]["responses"]["200"]["content"]["application/json"][
                    "schema"
                ]
            except KeyError:
                continue
            ref = (schema.get("items") or {}).get("$ref", "")
            if schema.get("type") == "array" and ref:
                found[path.lower()] = (filename, ref.rsplit("/", 1)[-1])
    return found


def _check(ctx: Context, descriptors: bool) -> None:
    served = ctx.need("dependencies")
    chosen = [r for r in served if r.lower().endswith("descriptors") == descriptors]
    if not chosen:
        skip("the dependencies list no such resources")
    problems: list[str] = []
    checked = 0
    for name in chosen:
        known = _components().get(name.lower())
        if known is None:
            problems.append(f"{name}: not a Data Standard 5 resource")
            continue
        r = ctx.http.get("/data/v3" + name, params={"limit": SAMPLE})
        if r.status_code != 200:
            problems.append(f"{describe(r)}: listed in dependencies but not readable")
            continue
        records: list[Any] = items(r)
        checked += len(records)
        validator = edfi_validator(known[1], known[0])
        for i, record in enumerate(records):
            problems += [f"{name} {m}" for m in schema_errors(validator, record, f"$[{i}]", 3)]
        if len(problems) > 200:
            break
    if problems:
        raise CheckFailed(f"{len(problems)} problem(s) in {len(chosen)} resources", problems)
    if not checked:
        skip(f"the {len(chosen)} resources hold no records to check")


@checks.add("schemas", "records of every resource in the dependencies match the DS5 OpenAPI")
def _resources(ctx: Context) -> None:
    _check(ctx, descriptors=False)


@checks.add("schemas", "records of every descriptor in the dependencies match the DS5 OpenAPI")
def _descriptors(ctx: Context) -> None:
    _check(ctx, descriptors=True)
