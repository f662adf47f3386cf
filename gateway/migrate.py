"""Alembic, driven from code: `gateway migrate` and the test suite share these."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection

from gateway.paths import MIGRATIONS_DIR


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | None = None, *, connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(url, connection), "heads")


def downgrade(url: str | None = None, *, connection: Connection | None = None, to: str = "base"):
    command.downgrade(alembic_config(url, connection), to)
