"""Data layer: one declarative Base, the engine, and one session per request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str, config: dict[str, Any] | None = None) -> Engine:
    config = config or {}
    return create_engine(
        url,
        pool_size=config.get("DB_POOL_SIZE", 5),
        max_overflow=config.get("DB_MAX_OVERFLOW", 10),
        pool_timeout=config.get("DB_POOL_TIMEOUT", 30),
        pool_pre_ping=True,
        connect_args={"connect_timeout": config.get("DB_CONNECT_TIMEOUT", 5)},
    )


class Database:
    """Holds the engine and the session factory an app uses.

    Tests bind the factory to one connection inside a transaction that is rolled back at the end;
    sessions then join it with savepoints, so a service's commit stays inside the test.
    """

    def __init__(self, engine: Engine, bind: Connection | None = None) -> None:
        self.engine = engine
        if bind is None:
            self.session_factory = sessionmaker(bind=engine, expire_on_commit=False)
        else:
            self.session_factory = sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )

    def session(self) -> Session:
        return self.session_factory()


def init_app(app: Flask, database: Database) -> None:
    app.extensions["gateway.db"] = database
    app.teardown_appcontext(_close_session)


def database() -> Database:
    return current_app.extensions["gateway.db"]


def get_session() -> Session:
    """The request's (or CLI command's) session, created on first use and closed on teardown."""
    session = g.get("_db_session")
    if session is None:
        session = database().session()
        g._db_session = session
    return session


def _close_session(exc: BaseException | None) -> None:
    session = g.pop("_db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()
