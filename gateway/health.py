"""Liveness of the gateway and the stores it depends on."""

from __future__ import annotations

from flask import current_app, jsonify
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

    200 when both are up; 503 naming what is down.
    """
    checks = {"database": _database_ok(), "dynamodb": _dynamodb_ok()}
    body = {"status": "ok" if all(checks.values()) else "unavailable"}
    body.update({name: "ok" if up else "down" for name, up in checks.items()})
    down = [name for name, up in checks.items() if not up]
    if down:
        body["message"] = "Unreachable: " + ", ".join(down)
    response = jsonify(body)
    response.status_code = 200 if not down else 503
    if down:
        response.headers["Retry-After"] = "5"
    return response
