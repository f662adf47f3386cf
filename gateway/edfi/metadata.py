"""Discovery document, OpenAPI metadata and load-order dependencies for what this server serves."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import yaml

from gateway.edfi.definitions import edfi_schemas_dir, registry

API_VERSION = "7.3"  # dotted integers: clients parse it (>= 7.3 switches them to cursor paging)
SOURCES = {
    "resources": "resources-ds-5.0.yaml",
    "descriptors": "descriptor-api-5.0.yaml",
    "changeQueries": "change-queries-api-1.0.0.yaml",
}
# where each document's paths are served, below the base URL
SERVERS = {"resources": "data/v3", "descriptors": "data/v3", "changeQueries": "changeQueries/v1"}
SWAGGER_PATHS = {
    "resources": "metadata/data/v3/resources/swagger.json",
    "descriptors": "metadata/data/v3/descriptors/swagger.json",
    "changeQueries": "metadata/changeQueries/v1/swagger.json",
}
SECTION_NAMES = {
    "resources": "Resources",
    "descriptors": "Descriptors",
    "changeQueries": "ChangeQueries",
}


def discovery(base: str) -> dict[str, Any]:
    data_model = json.loads((edfi_schemas_dir() / "resources.json").read_text(encoding="utf-8"))[
        "dataModel"
    ]
    return {
        "version": API_VERSION,
        "informationalVersion": API_VERSION,
        "suite": "3",
        "apiMode": "Sandbox",
        "dataModels": [data_model],
        "urls": {
            "dependencies": f"{base}metadata/data/v3/dependencies",
            "openApiMetadata": f"{base}metadata/",
            "oauth": f"{base}oauth/token",
            "dataManagementApi": f"{base}data/v3/",
            "changeQueries": f"{base}changeQueries/v1/",
        },
    }


def sections(base: str) -> list[dict[str, str]]:
    return [
        {"name": SECTION_NAMES[kind], "endpointUri": f"{base}{path}", "prefix": ""}
        for kind, path in SWAGGER_PATHS.items()
    ]


@cache
def _openapi(kind: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(edfi_schemas_dir() / "openapi" / SOURCES[kind], encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=loader)
    if kind == "changeQueries":
        doc["paths"] = {
            p: ops for p, ops in doc["paths"].items() if p == "/availableChangeVersions"
        }
        return doc
    served = {
        f"/ed-fi/{name}"
        for name, r in registry().resources.items()
        if r.descriptor == (kind == "descriptors")
    }
    doc["paths"] = {
        path: ops
        for path, ops in doc["paths"].items()
        if path.split("/{", 1)[0].rstrip("/") in served or path.rsplit("/", 1)[0] in served
    }
    return doc


def swagger(kind: str, base: str) -> dict[str, Any]:
    """The served part of an Ed-Fi OpenAPI document, pointed at this server: its paths under
    `servers`, its OAuth2 client-credentials scheme at this server's token URL (so Swagger UI's
    Authorize, then Try it out, work against it)."""
    doc = copy.copy(_openapi(kind))
    doc["servers"] = [{"url": f"{base}{SERVERS[kind]}"}]
    components = dict(doc.get("components", {}))  # the schemas are shared, not copied
    schemes = components["securitySchemes"] = copy.deepcopy(components.get("securitySchemes", {}))
    for scheme in schemes.values():
        for flow in scheme.get("flows", {}).values():
            if "tokenUrl" in flow:
                flow["tokenUrl"] = f"{base}oauth/token"
    doc["components"] = components
    return doc


def dependencies() -> list[dict[str, Any]]:
    ordered = sorted(registry().resources.values(), key=lambda r: (r.order, r.name))
    return [
        {"resource": f"/ed-fi/{r.name}", "order": r.order, "operations": ["Create", "Update"]}
        for r in ordered
    ]
