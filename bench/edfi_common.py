"""Shared set-up for the Ed-Fi benchmarks: a migrated database (embedded PostgreSQL unless
DATABASE_URL is set), an app, and a bearer token for a district-wide client."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

from gateway import migrate
from gateway.app import create_app
from gateway.config import Config, normalize_database_url
from gateway.paths import ROOT

BENCH_DB = "gateway_bench_edfi"


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def database() -> Iterator[str]:
    """A fresh, migrated database; yields its SQLAlchemy URL."""
    configured = normalize_database_url(os.environ.get("DATABASE_URL"))
    server = None
    if configured:
        server_url = configured
    else:
        from gateway.embedded import EmbeddedPostgres

        server = EmbeddedPostgres(ROOT / ".gateway-data" / "bench", database="postgres")
        server_url = server.start()
    try:
        with psycopg.connect(libpq(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        url = make_url(server_url).set(database=BENCH_DB).render_as_string(hide_password=False)
        migrate.upgrade(url)
        yield url
    finally:
        if server is not None:
            server.stop()


def make_app(url: str):
    config = Config()
    config.DATABASE_URL = url
    config.SECRET_KEY = "bench-secret-key"
    # In-process requests (Flask's test client) are never closed by a server, so admission
    # control, which frees a slot when the response closes, is off: these benches measure the app.
    config.MAX_IN_FLIGHT = 0
    return create_app(config)


def bearer(app) -> dict[str, str]:
    from gateway.auth.clients import create_client
    from gateway.auth.tokens import issue_token
    from gateway.db import get_session

    with app.app_context():
        session = get_session()
        client, _ = create_client(session, name="bench", all_organizations=True)
        token = issue_token(session, client, list(client.scopes), 3600)
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def seed_descriptors(app) -> None:
    from gateway.db import get_session
    from gateway.edfi.descriptors import load_descriptors
    from gateway.paths import DESCRIPTORS_DIR

    with app.app_context():
        load_descriptors(get_session(), DESCRIPTORS_DIR)


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches and connections
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)
