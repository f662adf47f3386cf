"""`gateway serve`: migrate, bootstrap, then run the WSGI app under gunicorn."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

import click
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from gateway import metrics
from gateway.config import Config

log = logging.getLogger(__name__)

DEMO_CLIENT_FILE = "demo_client.json"


class GunicornLogger(glogging.Logger):
    """gunicorn's messages go through the gateway's logging (LOG_LEVEL, LOG_FORMAT); requests
    are logged by the app (gateway.request) with client and correlation id, not an access log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True
        self.error_log.setLevel(logging.NOTSET)


def _child_exit(_server, worker) -> None:
    metrics.worker_exited(worker.pid)


class GunicornServer(BaseApplication):
    """Each worker builds its own app from the environment the master resolved."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from gateway.app import create_app

        return create_app()


def ensure_demo_client(session) -> tuple[str, str] | None:
    """The demo client of the embedded demo database: created once, its secret re-derived on
    restarts; once revoked it stays revoked (None)."""
    from sqlalchemy import select

    from gateway.auth.clients import client_secret_for, create_client
    from gateway.auth.models import ApiClient
    from gateway.cli import DEMO_CLIENT_NAME

    existing = session.scalars(
        select(ApiClient)
        .where(ApiClient.name == DEMO_CLIENT_NAME)
        .order_by(ApiClient.active.desc())
    ).first()
    if existing is not None:
        secret = client_secret_for(session, existing.key) if existing.active else None
        return (existing.key, secret) if secret else None
    client, secret = create_client(
        session,
        name=DEMO_CLIENT_NAME,
        namespace_prefix="uri://gateway.demo",
        all_organizations=True,
    )
    session.commit()
    return client.key, secret


def bootstrap(config: Config, *, demo: bool) -> tuple[str, str] | None:
    """Migrate and grant the serving role as the owner (MIGRATION_DATABASE_URL), create the
    DynamoDB tables, run each context's bootstrap; on the embedded demo database (`demo`), the
    demo client's credentials."""
    from gateway import migrate
    from gateway.app import context_modules, create_app
    from gateway.db import database, get_session
    from gateway.embedded import ConfigurationError
    from gateway.extensions import dynamodb, dynamodb_table_name
    from gateway.profiles.tables import ensure_tables

    owner_url = config.MIGRATION_DATABASE_URL or config.DATABASE_URL or ""
    outcome = migrate.upgrade_and_grant(owner_url, config.DATABASE_URL or "")
    if outcome is None:
        log.warning(
            "DATABASE_URL serves with the credentials that migrate: set MIGRATION_DATABASE_URL to "
            "the owner's URL and DATABASE_URL to a least-privilege role's (README, Configuration)"
        )
    elif outcome.pending:
        raise ConfigurationError(
            f"the serving role {outcome.role} is not ready; run `gateway migrate` for the SQL to "
            "run as a superuser"
        )
    app = create_app({**config.as_dict(), "DATABASE_URL": owner_url})
    credentials = None
    with app.app_context():
        ensure_tables(dynamodb(), dynamodb_table_name("profiles"))
        for module in context_modules():
            module.bootstrap(app, demo=demo)
        if demo:
            credentials = ensure_demo_client(get_session())
        database().engine.dispose()
    return credentials


def _show_demo_client(data_dir: Path, credentials: tuple[str, str] | None) -> list[str]:
    """The demo client's secret goes to the terminal that started the server, never to a log: when
    stdout is not a terminal (redirected to a log file), to a file readable by its owner only."""
    path = data_dir / DEMO_CLIENT_FILE
    if credentials is None:  # none, or revoked: its file goes too
        path.unlink(missing_ok=True)
        return []
    key, secret = credentials
    if sys.stdout.isatty():
        return [f"  demo client  key={key}", f"               secret={secret}"]
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps({"key": key, "secret": secret}) + "\n")
    return [f"  demo client  key={key}", f"               secret in {path} (mode 0600)"]


def serve(runtime, host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Run under the caller's Runtime; a fresh embedded database gets the demo data set."""
    config = runtime.config
    metrics.prepare_multiprocess()  # before the first metric exists, in the master and workers
    credentials = bootstrap(config, demo=runtime.postgres is not None)
    # Workers serve with DATABASE_URL only: the owner's URL is not handed down to them (neither
    # in the environment they read their configuration from nor in this process's memory they
    # are forked with).
    os.environ.pop("MIGRATION_DATABASE_URL", None)
    config.MIGRATION_DATABASE_URL = None
    where = runtime.describe()
    base = f"http://{host}:{port}"
    click.echo(
        "\n".join(
            [
                "",
                f"K-12 Interoperability Gateway on {base}",
                f"  API docs     {base}/docs   (OpenAPI: {base}/openapi.json)",
                f"  token URL    {base}/oauth/token",
                f"  Ed-Fi        {base}/data/v3/ed-fi/   (discovery: {base}/)",
                f"  OneRoster    {base}/ims/oneroster/v1p1/",
                f"  health       {base}/health",
                *_show_demo_client(runtime.data_dir, credentials),
                f"  database     {where['database']}",
                f"  dynamodb     {where['dynamodb']}",
                "Press Ctrl-C to stop.",
                "",
            ]
        )
    )
    threads = threads or config.GATEWAY_THREADS
    if 0 < config.MAX_IN_FLIGHT and threads <= config.MAX_IN_FLIGHT + config.MAX_QUEUED:
        log.warning(
            "%d threads per worker for %d admission slots and %d queue places: requests beyond "
            "the threads wait unseen in gunicorn's queue instead of being answered 429; give "
            "more threads (GATEWAY_THREADS, or leave it unset)",
            threads,
            config.MAX_IN_FLIGHT,
            config.MAX_QUEUED,
        )
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or config.GATEWAY_WORKERS,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 120,
        "graceful_timeout": 10,
        "accesslog": None,
        "logger_class": GunicornLogger,
        "child_exit": _child_exit,
    }
    GunicornServer(options).run()
