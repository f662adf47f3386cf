"""GET /health with every store up, and with each store down (real unreachable endpoints)."""

from __future__ import annotations

from sqlalchemy import create_engine

from gateway.app import create_app
from gateway.db import Database
from tests.conftest import TestConfig

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
UNREACHABLE_DYNAMO = "http://127.0.0.1:1"


JSON = {"Accept": "application/json"}


def test_health_ok(client):
    r = client.get("/health", headers=JSON)
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "dynamodb": "ok"}


def test_health_answers_the_ods_text_unless_json_is_asked_for(client):
    # the Ed-Fi ODS/API answers its health check with the text "Healthy" (its own test suite and
    # the probes written for it compare the body); operators asking for JSON get the detail
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "text/plain"}):
        r = client.get("/health", headers=headers)
        assert r.status_code == 200
        assert r.mimetype == "text/plain"
        assert r.get_data(as_text=True) == "Healthy"


def _app(database_url: str, dynamodb_endpoint: str):
    config = TestConfig(database_url, dynamodb_endpoint)
    engine = create_engine(database_url, connect_args={"connect_timeout": 2})
    return create_app(config, database=Database(engine))


def test_health_names_the_database_when_it_is_down(dynamodb_endpoint):
    app = _app(UNREACHABLE_DB, dynamodb_endpoint)
    text = app.test_client().get("/health")
    assert text.status_code == 503 and text.get_data(as_text=True) == "Unhealthy"
    assert text.headers["Retry-After"]
    r = app.test_client().get("/health", headers=JSON)
    assert r.status_code == 503
    body = r.get_json()
    assert body["database"] == "down" and body["dynamodb"] == "ok"
    assert "database" in body["message"]
    assert r.headers["Retry-After"]


def test_health_names_dynamodb_when_it_is_down(database_url):
    r = _app(database_url, UNREACHABLE_DYNAMO).test_client().get("/health", headers=JSON)
    assert r.status_code == 503
    body = r.get_json()
    assert body == {
        "status": "unavailable",
        "database": "ok",
        "dynamodb": "down",
        "message": "Unreachable: dynamodb",
    }
