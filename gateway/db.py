"""Data layer: one declarative Base, the engine, and one session per request."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, MetaData, create_engine, event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

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
    configure_driver()
    engine = create_engine(
        url,
        pool_size=config.get("DB_POOL_SIZE", 5),
        max_overflow=config.get("DB_MAX_OVERFLOW", 10),
        pool_timeout=config.get("DB_POOL_TIMEOUT", 30),
        connect_args={"connect_timeout": config.get("DB_CONNECT_TIMEOUT", 5)},
    )
    _ping_on_checkout(engine)
    return engine


def configure_driver() -> None:
    """psycopg keeps the parsed form of a query text only for texts up to 4096 bytes and 50
    parameters; longer ones are parsed again (a regular expression over the whole text) at every
    execution. The write path's statements of wide resources are longer (an Ed-Fi upsert names
    each column three times; a OneRoster user and its demographics are one statement), so the
    limits are raised: the cache stays bounded by its size (128 texts)."""
    from psycopg import _queries

    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 64 * 1024)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 1000)


# Set while a caller that recovers from a dropped connection itself checks one out (see below).
_unpinged: ContextVar[bool] = ContextVar("gateway_db_unpinged", default=False)


def _ping_on_checkout(engine: Engine) -> None:
    """pool_pre_ping, except for checkouts made through unpinged_connection().

    The ping is a round trip on every checkout. A write transaction needs it: a connection the
    server dropped would fail it midway. An idempotent single statement can instead run unpinged
    and be retried on a fresh connection. As with pool_pre_ping: a connection made for this
    checkout is not pinged, and a failed ping invalidates every older pooled connection."""
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _fresh(dbapi_connection: Any, record: Any) -> None:
        record.info["gateway_fresh"] = True

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.pop("gateway_fresh", False) or _unpinged.get():
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error  # the pool reconnects and retries
            raise


def unpinged_connection(engine: Engine) -> PoolProxiedConnection:
    """A pooled DBAPI connection checked out without the ping: for a caller that retries on a
    dropped connection (is_disconnect) after invalidating it; its retry checks out pinged."""
    token = _unpinged.set(True)
    try:
        return engine.raw_connection()
    finally:
        _unpinged.reset(token)


_DRIVER = "gateway.db.driver"  # session.info: (the transaction, its driver connection)


def driver_cursor(session: Session) -> Any:
    """A psycopg cursor on the session's connection, inside its transaction: for the hot paths'
    precompiled statements, which gain nothing from SQLAlchemy's execution layer and pay its
    Python for every statement (close it after use). The driver connection is remembered for
    the session's transaction: asking the session for it costs more than a statement's Python."""
    transaction = session.get_transaction()
    known = session.info.get(_DRIVER)
    if transaction is not None and known is not None and known[0] is transaction:
        return known[1].cursor()
    driver = session.connection().connection.driver_connection
    session.info[_DRIVER] = (session.get_transaction(), driver)
    return driver.cursor()  # type: ignore[union-attr]


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
