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


def revisions(url: str) -> tuple[set[str], set[str]]:
    """(the database's current revisions, the latest revisions this gateway ships)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()
    return current, heads


def require_current(url: str) -> None:
    """Commands other than `gateway migrate` (and `serve`) never migrate behind the operator's
    back: a database that is not at the latest revision is reported as a configuration error."""
    from gateway.embedded import ConfigurationError

    current, heads = revisions(url)
    if current == heads:
        return
    if not current:
        state = "has no gateway schema"
    elif current - heads and not heads - current:
        state = f"is at revision {', '.join(sorted(current))}, newer than this gateway knows"
    else:
        state = f"is at revision {', '.join(sorted(current))}, not the latest"
    raise ConfigurationError(
        f"the database {state} ({', '.join(sorted(heads))}): run `gateway migrate` first."
    )


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
