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


def grant_serving(owner_url: str, serving_url: str):
    """After the migrations: the serving role of `serving_url` gets what it needs (gateway.dbroles);
    None when both URLs name the same user (no separate serving role configured)."""
    from sqlalchemy.engine import make_url

    from gateway import dbroles

    owner, serving = make_url(owner_url), make_url(serving_url)
    if serving_url == owner_url or serving.username == owner.username:
        return None
    return dbroles.apply(owner_url, serving.username or "", serving.password)


def upgrade_and_grant(owner_url: str, serving_url: str):
    upgrade(owner_url)
    return grant_serving(owner_url, serving_url)
