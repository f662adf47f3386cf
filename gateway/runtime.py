"""Resolve what a CLI command runs against: configured servers, or the embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from gateway.config import Config
from gateway.dbroles import EMBEDDED_SERVING_ROLE
from gateway.embedded import (
    ConfigurationError,
    EmbeddedDynamo,
    EmbeddedPostgres,
    aws_configured,
    ensure_writable_dir,
)


def check_database(url: str, timeout: int = 5, name: str = "DATABASE_URL") -> None:
    """Fail with one line that says what to fix when the database cannot be reached."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": timeout})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except (SQLAlchemyError, ValueError) as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise ConfigurationError(
            f"cannot connect to {name} {shown}: {reason}. "
            "Check the URL and that the server is running."
        ) from exc


def _kept_secret(path: Path) -> str:
    """A generated secret kept in the data directory, readable by its owner only."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(key)
    return key


def _secret_key(data_dir: Path) -> str:
    """A stable SECRET_KEY: client secrets are derived from it, so it must survive restarts."""
    return _kept_secret(data_dir / "secret_key")


class Runtime:
    """Context manager: starts embedded services when nothing is configured, stops them after.

    It exports the resolved settings to the environment so that server workers see them too.
    """

    def __init__(
        self, *, dynamodb: bool = False, serving: bool = False, migrated: bool = True
    ) -> None:
        """`serving` (serve, migrate): DATABASE_URL is the serving role's, MIGRATION_DATABASE_URL
        the owner's. Otherwise (operator commands) both name the owner's. `migrated`: the command
        needs the database at the latest revision (else it stops with exit 2, pointing at
        `gateway migrate`); only `migrate` and `serve` pass False."""
        self.want_dynamodb = dynamodb
        self.serving = serving
        self.want_migrated = migrated
        self.config = Config()
        self.postgres: EmbeddedPostgres | None = None
        self.dynamo: EmbeddedDynamo | None = None

    @property
    def data_dir(self) -> Path:
        return ensure_writable_dir(self.config.GATEWAY_DATA_DIR)

    def __enter__(self) -> Config:
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.config

    def _start(self) -> None:
        cfg = self.config
        if not cfg.SECRET_KEY:
            cfg.SECRET_KEY = _secret_key(self.data_dir)
            os.environ["SECRET_KEY"] = cfg.SECRET_KEY
        if cfg.DATABASE_URL:
            if cfg.MIGRATION_DATABASE_URL:
                # the serving role may not exist before `gateway migrate` creates it
                check_database(
                    cfg.MIGRATION_DATABASE_URL, cfg.DB_CONNECT_TIMEOUT, "MIGRATION_DATABASE_URL"
                )
            else:
                check_database(cfg.DATABASE_URL, cfg.DB_CONNECT_TIMEOUT)
                cfg.MIGRATION_DATABASE_URL = cfg.DATABASE_URL
        else:
            self.postgres = EmbeddedPostgres(self.data_dir)
            cfg.MIGRATION_DATABASE_URL = self.postgres.start()
            cfg.DATABASE_URL = self.postgres.ensure_login(
                EMBEDDED_SERVING_ROLE, _kept_secret(self.data_dir / "db_serving_password")
            )
        if not self.serving:
            cfg.DATABASE_URL = cfg.MIGRATION_DATABASE_URL
        if self.postgres is not None:
            os.environ["DATABASE_URL"] = cfg.DATABASE_URL
        if self.want_migrated:
            from gateway.migrate import require_current

            require_current(cfg.MIGRATION_DATABASE_URL or cfg.DATABASE_URL)
        if self.want_dynamodb and not cfg.DYNAMODB_ENDPOINT_URL and not aws_configured():
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "embedded")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "embedded")
            os.environ.setdefault("AWS_REGION", cfg.AWS_REGION)
            self.dynamo = EmbeddedDynamo(self.data_dir)
            cfg.DYNAMODB_ENDPOINT_URL = self.dynamo.start()
            os.environ["DYNAMODB_ENDPOINT_URL"] = cfg.DYNAMODB_ENDPOINT_URL

    def describe(self) -> dict[str, str]:
        cfg = self.config
        database = (
            f"embedded PostgreSQL in {self.postgres.pgdata}"
            if self.postgres
            else make_url(cfg.DATABASE_URL or "").render_as_string(hide_password=True)
        )
        if self.dynamo:
            dynamodb = (
                f"embedded endpoint {cfg.DYNAMODB_ENDPOINT_URL} (tables saved in {self.data_dir})"
            )
        else:
            dynamodb = cfg.DYNAMODB_ENDPOINT_URL or f"AWS DynamoDB ({cfg.AWS_REGION})"
        return {"database": database, "dynamodb": dynamodb}

    def __exit__(self, *exc: object) -> None:
        if self.dynamo is not None:
            self.dynamo.stop()
            self.dynamo = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
