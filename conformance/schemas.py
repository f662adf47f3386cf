"""Machine-readable contracts read from the project's schemas/ directory (gateway.paths).

OneRoster 1.1 entity JSON Schemas live in schemas/oneroster/; the Ed-Fi DS5 OpenAPI files in
schemas/edfi/openapi/ (copied into the repository with their licence).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource

from gateway.paths import SCHEMAS_DIR

ONEROSTER_DIR = SCHEMAS_DIR / "oneroster"
EDFI_OPENAPI_DIRS = (SCHEMAS_DIR / "edfi" / "openapi",)
_URN = "urn:oneroster-v1p1:"


def oneroster_data(name: str) -> Any:
    """A OneRoster data file (rest-endpoints.json, csv.json) by name."""
    return json.loads((ONEROSTER_DIR / name).read_text(encoding="utf-8"))


@cache
def _oneroster_registry() -> Registry:
    resources = []
    for path in sorted(ONEROSTER_DIR.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and str(doc.get("$id", "")).startswith(_URN):
            resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@cache
def oneroster_validator(name: str) -> jsonschema.Validator:
    """Validator for an entity ('user', 'org', …) or 'imsx-status-info'."""
    registry = _oneroster_registry()
    schema = registry.contents(_URN + name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)


def schema_errors(
    validator: jsonschema.Validator, instance: Any, where: str = "$", limit: int = 10
) -> list[str]:
    """Readable messages, each prefixed with the JSON path of the offending value."""
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        path = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
        out.append(f"{path}: {error.message}")
        if len(out) >= limit:
            break
    return out


def edfi_openapi_path(filename: str) -> Path:
    for directory in EDFI_OPENAPI_DIRS:
        if (directory / filename).is_file():
            return directory / filename
    raise FileNotFoundError(f"{filename} not found in " + ", ".join(map(str, EDFI_OPENAPI_DIRS)))


@cache
def edfi_openapi(filename: str = "resources-ds-5.0.yaml") -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with edfi_openapi_path(filename).open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def edfi_resource_paths() -> list[str]:
    """The collections of the Ed-Fi DS5 OpenAPI ('/ed-fi/academicWeeks', …): every path with a
    POST directly under /ed-fi/ (the TPDM paths of the same file are not Ed-Fi's)."""
    return sorted(
        path
        for path, operations in edfi_openapi()["paths"].items()
        if path.startswith("/ed-fi/") and path.count("/") == 2 and "post" in operations
    )


def _to_json_schema(node: Any, components: dict[str, Any], needed: set[str]) -> Any:
    """OpenAPI 3.0 schema objects to JSON Schema: nullable flags become a null type; $refs kept."""
    if isinstance(node, list):
        return [_to_json_schema(n, components, needed) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            name = value.rsplit("/", 1)[-1]
            needed.add(name)
            out[key] = f"#/$defs/{name}"
        elif key in ("x-nullable", "nullable", "example", "description") or key.startswith("x-"):
            continue
        else:
            out[key] = _to_json_schema(value, components, needed)
    if (node.get("x-nullable") or node.get("nullable")) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def edfi_validator(component: str, filename: str = "resources-ds-5.0.yaml") -> jsonschema.Validator:
    """Validator for a component of an Ed-Fi OpenAPI file, e.g. 'edFi_course'."""
    components = edfi_openapi(filename)["components"]["schemas"]
    defs: dict[str, Any] = {}
    needed, done = {component}, set()
    while needed - done:
        name = sorted(needed - done)[0]
        done.add(name)
        defs[name] = _to_json_schema(copy.deepcopy(components[name]), components, needed)
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": f"#/$defs/{component}",
        "$defs": defs,
    }
    cls = jsonschema.Draft7Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
