"""Liveness of the gateway and the stores it depends on."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_smorest import Blueprint
from sqlalchemy import text

from gateway.db import database
from gateway.extensions import make_dynamodb_resource

blp = Blueprint("health", __name__, description="Health of the gateway and its stores")


def _database_ok() -> bool:
    try:
        with database().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to reach the database means "down"
        return False


def _dynamodb_ok() -> bool:
    try:
        # A dedicated resource without retries: health must answer quickly when DynamoDB is down.
        resource = make_dynamodb_resource(current_app.config, attempts=1, connect_timeout=1.0)
        resource.meta.client.list_tables(Limit=1)
        return True
    except Exception:
        return False


@blp.route("/health")
@blp.doc(security=[])
def health():
    """Report whether PostgreSQL and DynamoDB are reachable

    200 when both are up, 503 when one is down. As the Ed-Fi ODS/API answers, the body is the
    text `Healthy` (or `Unhealthy`); with `Accept: application/json` it is a JSON object naming
    each store and what is down.
    """
    checks = {"database": _database_ok(), "dynamodb": _dynamodb_ok()}
    down = [name for name, up in checks.items() if not up]
    if _wants_json():
        body = {"status": "ok" if not down else "unavailable"}
        body.update({name: "ok" if up else "down" for name, up in checks.items()})
        if down:
            body["message"] = "Unreachable: " + ", ".join(down)
        response = jsonify(body)
    else:
        response = current_app.response_class(
            "Unhealthy" if down else "Healthy", mimetype="text/plain"
        )
    response.status_code = 200 if not down else 503
    if down:
        response.headers["Retry-After"] = "5"
    return response


def _wants_json() -> bool:
    """JSON only when the client prefers it to text: a bare probe (no Accept, or */*) gets the
    ODS's text."""
    accept = request.accept_mimetypes
    return accept["application/json"] > accept["text/plain"]
