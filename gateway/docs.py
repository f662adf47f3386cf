"""Browsable API docs at /docs, served from the bundled Swagger UI (works with no internet)."""

from __future__ import annotations

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
<script>
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});
</script></body></html>
"""


@bp.route("/docs", strict_slashes=False)
def docs_page():
    return _PAGE, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.route("/docs/static/<path:filename>")
def docs_static(filename: str):
    return send_from_directory(Path(swagger_ui_path), filename)
