"""Test fixtures: a real PostgreSQL (embedded, or TEST_DATABASE_URL) and a real DynamoDB-compatible
endpoint (moto's server on loopback). Migrations run once per session; each test runs inside one
transaction that is rolled back, and the app's request sessions join it through savepoints."""

from __future__ import annotations

import importlib.util
import os
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.app import create_app
from gateway.config import Config, normalize_database_url
from gateway.db import Database
from gateway.paths import ROOT

TEST_SECRET_KEY = "test-secret-key-not-for-production"
TEST_DB_NAME = "gateway_test"
SERVING_ROLE = "gateway_serving"
SERVING_PASSWORD = "test-serving-password"


class TestConfig(Config):
    __test__ = False

    def __init__(self, database_url: str, dynamodb_endpoint: str | None) -> None:
        super().__init__()
        self.DATABASE_URL = database_url
        self.DYNAMODB_ENDPOINT_URL = dynamodb_endpoint
        self.DYNAMODB_TABLE_PREFIX = "test-"
        self.SECRET_KEY = TEST_SECRET_KEY
        self.TOKEN_EXPIRES_IN = 3600
        # Every request looks its token up, so revocation and expiry tests see the database.
        self.TOKEN_CACHE_SECONDS = 0
        # Audit rows are written before each response, so tests can read them straight away.
        self.AUDIT_MODE = "sync"
        # Concurrency tests drive more requests at once than one process admits in production;
        # admission control is tested on its own apps (tests/test_admission.py).
        self.MAX_IN_FLIGHT = 0
        self.TESTING = True


def load_module(path: Path, name: str | None = None) -> ModuleType:
    """A Python file that is not a package module (a migration, a build script), loaded."""
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server of `server_url`; returns its URL."""
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a database on the test server (any database: used to create others)."""
    configured = normalize_database_url(os.environ.get("TEST_DATABASE_URL"))
    if configured:
        yield configured
        return
    from gateway.embedded import EmbeddedPostgres

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    server = EmbeddedPostgres(ROOT / ".gateway-data" / "test", database="postgres")
    url = server.start()
    yield url
    server.stop()


@pytest.fixture
def plain_owner_url(pg_server_url: str) -> Iterator[str]:
    """A database owned by a user that is neither superuser nor CREATEROLE (a managed server's
    application user), as that user's URL."""
    name = f"rls_plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEROLE")
        admin.execute(f'CREATE DATABASE "{name}" OWNER {name}')
    try:
        yield (
            make_url(pg_server_url)
            .set(database=name, username=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f"DROP ROLE IF EXISTS {name}")


@pytest.fixture(scope="session")
def owner_url(pg_server_url: str) -> str:
    """The test database, as its owner: the user that migrates (MIGRATION_DATABASE_URL)."""
    url = recreate_database(pg_server_url, TEST_DB_NAME)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def database_url(owner_url: str) -> str:
    """The test database as the serving role (gateway.dbroles), as the app uses it
    (DATABASE_URL)."""
    url = (
        make_url(owner_url)
        .set(username=SERVING_ROLE, password=SERVING_PASSWORD)
        .render_as_string(hide_password=False)
    )
    outcome = migrate.grant_serving(owner_url, url)
    assert outcome is not None and outcome.complete, outcome
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The app's engine: the serving role's."""
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def owner_engine(owner_url: str) -> Iterator[Engine]:
    """For what only the owner (the operator) may: read the audit trail, DDL."""
    eng = create_engine(owner_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """The same embedded endpoint `make run` uses (without its snapshot), on a loopback port."""
    from gateway.embedded import EmbeddedDynamo

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_REGION", "us-east-1")
    server = EmbeddedDynamo(data_dir=None)
    yield server.start()
    server.stop(save=False)


@pytest.fixture(scope="session")
def test_config(database_url: str, dynamodb_endpoint: str) -> TestConfig:
    return TestConfig(database_url, dynamodb_endpoint)


@pytest.fixture(scope="session")
def app(test_config: TestConfig, engine: Engine):
    return create_app(test_config, database=Database(engine))


@pytest.fixture
def db_session(request, app, engine: Engine) -> Iterator[Session]:
    """The test's transaction, as the serving role; as the owner for a test marked `as_owner`
    (one that changes the schema in its transaction, or exercises an operator's command)."""
    if request.node.get_closest_marker("as_owner"):
        engine = request.getfixturevalue("owner_engine")
    connection = engine.connect()
    transaction = connection.begin()
    database = app.extensions["gateway.db"]
    saved = database.session_factory
    test_db = Database(engine, bind=connection)
    database.session_factory = test_db.session_factory
    session = test_db.session()
    try:
        yield session
    finally:
        session.close()
        database.session_factory = saved
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


@pytest.fixture
def sync_jobs(app):
    """Import jobs (CSV and Ed-Fi bulk) run inside the request: a background thread could not
    see the test's rolled-back transaction."""
    previous = app.config.get("CSV_IMPORT_MODE")
    app.config["CSV_IMPORT_MODE"] = "sync"
    yield
    app.config["CSV_IMPORT_MODE"] = previous


@pytest.fixture
def dynamodb(app):
    from gateway.extensions import make_dynamodb_resource

    return make_dynamodb_resource(app.config)


@pytest.fixture
def make_api_client(app, db_session):
    from gateway.auth.clients import create_client
    from gateway.edfi.claim_sets import LEGACY_CLAIM_SET

    def make(
        name="t", edorgs=(), scopes=None, namespace=None, claim_set=None, **options
    ) -> tuple[str, str]:
        """A client of `edorgs`, or of every organization when none is named. Its claim set is
        the one every client had before claim sets, which most tests were written for, unless
        one is named."""
        options.setdefault("all_organizations", not edorgs)
        with app.app_context():
            created, secret = create_client(
                db_session,
                name=name,
                education_organization_ids=list(edorgs),
                scopes=scopes,
                namespace_prefix=namespace,
                claim_set=claim_set or LEGACY_CLAIM_SET,
                **options,
            )
            db_session.flush()
            return created.key, secret

    return make


@pytest.fixture
def auth_headers(app, db_session, make_api_client):
    from gateway.auth.clients import find_active
    from gateway.auth.tokens import issue_token

    def headers(
        edorgs=(), scopes=None, namespace=None, name="t", claim_set=None, **options
    ) -> dict[str, str]:
        key, _ = make_api_client(
            name=name,
            edorgs=edorgs,
            scopes=scopes,
            namespace=namespace,
            claim_set=claim_set,
            **options,
        )
        with app.app_context():
            api_client = find_active(db_session, key)
            token = issue_token(db_session, api_client, list(api_client.scopes), 3600)
            db_session.flush()
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def audit_rows(app, owner_engine: Engine):
    """The audit rows of a correlation id, as the operator reads them (the serving role may only
    insert): after the writer has written what it queued."""
    from gateway import audit

    def rows(correlation_id: str) -> list[dict]:
        audit.flush(app)
        with owner_engine.connect() as conn:
            found = conn.execute(
                text("SELECT * FROM audit_log WHERE correlation_id = :c ORDER BY id"),
                {"c": correlation_id},
            )
            return [dict(r) for r in found.mappings()]

    return rows


def wait_until_healthy(proc, base: str, log: Path, seconds: float, poll: float = 0.3) -> None:
    """Wait for a gateway started as `proc` to answer /health at `base`; fail with its log."""
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(poll)
    raise AssertionError("gateway did not start:\n" + log.read_text()[-3000:])
