"""`gateway serve`: migrate, bootstrap, then run the WSGI app under gunicorn."""

from __future__ import annotations

import logging

import click
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from gateway import metrics
from gateway.config import Config


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


def ensure_demo_client(session) -> tuple[str, str]:
    """The demo client printed at start-up: created once, its secret re-derived on restarts."""
    from sqlalchemy import select

    from gateway.auth.clients import client_secret_for, create_client
    from gateway.auth.models import ApiClient
    from gateway.cli import DEMO_CLIENT_NAME

    for client in session.scalars(
        select(ApiClient).where(ApiClient.name == DEMO_CLIENT_NAME, ApiClient.active)
    ):
        secret = client_secret_for(session, client.key)
        if secret:
            return client.key, secret
    client, secret = create_client(
        session, name=DEMO_CLIENT_NAME, namespace_prefix="uri://gateway.demo"
    )
    session.commit()
    return client.key, secret


def bootstrap(config: Config, *, demo: bool) -> tuple[str, str]:
    from gateway import migrate
    from gateway.app import context_modules, create_app
    from gateway.db import database, get_session
    from gateway.extensions import dynamodb, dynamodb_table_name
    from gateway.profiles.tables import ensure_tables

    migrate.upgrade(config.DATABASE_URL)
    app = create_app(config)
    with app.app_context():
        ensure_tables(dynamodb(), dynamodb_table_name("profiles"))
        for module in context_modules():
            module.bootstrap(app, demo=demo)
        credentials = ensure_demo_client(get_session())
        database().engine.dispose()
    return credentials


def serve(runtime, host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Run under the caller's Runtime; a fresh embedded database gets the demo data set."""
    config = runtime.config
    metrics.prepare_multiprocess()  # before the first metric exists, in the master and workers
    key, secret = bootstrap(config, demo=runtime.postgres is not None)
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
                f"  demo client  key={key}",
                f"               secret={secret}",
                f"  database     {where['database']}",
                f"  dynamodb     {where['dynamodb']}",
                "Press Ctrl-C to stop.",
                "",
            ]
        )
    )
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or config.GATEWAY_WORKERS,
        "threads": threads or config.GATEWAY_THREADS,
        "worker_class": "gthread",
        "timeout": 120,
        "graceful_timeout": 10,
        "accesslog": None,
        "logger_class": GunicornLogger,
        "child_exit": _child_exit,
    }
    GunicornServer(options).run()
