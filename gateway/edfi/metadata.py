"""Discovery document, OpenAPI metadata and load-order dependencies for what this server serves."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import yaml

from gateway.edfi.definitions import edfi_schemas_dir, registry

API_VERSION = "7.3"  # dotted integers: clients parse it (>= 7.3 switches them to cursor paging)
SOURCES = {"resources": "resources-ds-5.0.yaml", "descriptors": "descriptor-api-5.0.yaml"}


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
        {
            "name": "Resources",
            "endpointUri": f"{base}metadata/data/v3/resources/swagger.json",
            "prefix": "",
        },
        {
            "name": "Descriptors",
            "endpointUri": f"{base}metadata/data/v3/descriptors/swagger.json",
            "prefix": "",
        },
    ]


@cache
def _openapi(kind: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(edfi_schemas_dir() / "openapi" / SOURCES[kind], encoding="utf-8") as fh:
        doc = yaml.load(fh, Loader=loader)
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
    doc = copy.copy(_openapi(kind))
    doc["servers"] = [{"url": f"{base}data/v3"}]
    return doc


def dependencies() -> list[dict[str, Any]]:
    ordered = sorted(registry().resources.values(), key=lambda r: (r.order, r.name))
    return [
        {"resource": f"/ed-fi/{r.name}", "order": r.order, "operations": ["Create", "Update"]}
        for r in ordered
    ]
