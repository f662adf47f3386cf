"""Browsable API docs at /docs, served from the bundled Swagger UI (works with no internet)."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, send_from_directory

try:
    from swagger_ui_bundle import swagger_ui_path
except ImportError:  # pragma: no cover - the dependency is declared in pyproject.toml
    swagger_ui_path = None

bp = Blueprint("docs", __name__)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>K-12 Gateway API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/static/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  urls: %s,
  "urls.primaryName": "Gateway: OneRoster, profiles, OAuth",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
  persistAuthorization: true
});
</script></body></html>
"""

# The documents Swagger UI offers (its "Select a definition" list): the gateway's own (OneRoster,
# profiles, CSV, OAuth) and the Ed-Fi API's, as the Ed-Fi metadata endpoint serves them.
SPECS = [
    {"name": "Gateway: OneRoster, profiles, OAuth", "url": "/openapi.json"},
    {"name": "Ed-Fi: resources", "url": "/metadata/data/v3/resources/swagger.json"},
    {"name": "Ed-Fi: descriptors", "url": "/metadata/data/v3/descriptors/swagger.json"},
    {"name": "Ed-Fi: change queries", "url": "/metadata/changeQueries/v1/swagger.json"},
]


@bp.route("/docs", strict_slashes=False)
def docs_page():
    return _PAGE % json.dumps(SPECS), 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.route("/docs/static/<path:filename>")
def docs_static(filename: str):
    return send_from_directory(Path(swagger_ui_path), filename)
