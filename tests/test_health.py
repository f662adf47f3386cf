"""GET /health with every store up, and with each store down (real unreachable endpoints)."""

from __future__ import annotations

from sqlalchemy import create_engine

from gateway.app import create_app
from gateway.db import Database
from tests.conftest import TestConfig

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
UNREACHABLE_DYNAMO = "http://127.0.0.1:1"


def test_health_ok(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "dynamodb": "ok"}


def _app(database_url: str, dynamodb_endpoint: str):
    config = TestConfig(database_url, dynamodb_endpoint)
    engine = create_engine(database_url, connect_args={"connect_timeout": 2})
    return create_app(config, database=Database(engine))


def test_health_names_the_database_when_it_is_down(dynamodb_endpoint):
    r = _app(UNREACHABLE_DB, dynamodb_endpoint).test_client().get("/health")
    assert r.status_code == 503
    body = r.get_json()
    assert body["database"] == "down" and body["dynamodb"] == "ok"
    assert "database" in body["message"]
    assert r.headers["Retry-After"]


def test_health_names_dynamodb_when_it_is_down(database_url):
    r = _app(database_url, UNREACHABLE_DYNAMO).test_client().get("/health")
    assert r.status_code == 503
    body = r.get_json()
    assert body == {
        "status": "unavailable",
        "database": "ok",
        "dynamodb": "down",
        "message": "Unreachable: dynamodb",
    }
