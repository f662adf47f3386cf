"""Alembic environment: targets Base.metadata; the URL or a live connection comes from code."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import create_engine, pool

from gateway.db import Base

# Import every model module so autogenerate sees the whole schema.
for _module in ("gateway.auth.models", "gateway.audit"):
    importlib.import_module(_module)
for _ctx in ("edfi", "oneroster", "mapping", "profiles"):
    try:
        importlib.import_module(f"gateway.{_ctx}.models")
    except ModuleNotFoundError as exc:
        if exc.name != f"gateway.{_ctx}.models":
            raise

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
