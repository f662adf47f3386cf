"""OneRoster reads as precompiled SQL: built and compiled once per query shape, run straight
through psycopg (as a prepared statement where one plan suits every value).

A collection statement (documents in JSON, count, parents' existence) is a large expression tree;
building it, generating SQLAlchemy's cache key and compiling cost more than PostgreSQL takes to run
it for a 100-record page. A shape (collection, filter structure, sort, fields, reach kind) always
gives the same SQL text, so the text is kept per shape and every request value travels as a bound
parameter. A lone read runs on an autocommit connection: one statement is its own consistent
snapshot, and no BEGIN/ROLLBACK round trips are spent (a ROLLBACK would also drop the connection's
prepared statements). A client limited to some organizations reads under row-level security: the
statement that takes the reader role and the client's organizations goes in one pipeline with the
read, and both last only until the pipeline's sync ends the implicit transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from gateway.auth import row_security
from gateway.db import unpinged_connection

_CACHE_LIMIT = 2048  # shapes; query strings vary the values, rarely the shape


@dataclass(frozen=True)
class Statement:
    sql: str
    constants: dict[str, Any]  # bound values fixed by the shape, already in driver form
    processors: dict[str, Callable[[Any], Any]]  # each parameter's conversion to driver form


_statements: dict[Hashable, Statement] = {}


def _compile(session: Session, stmt: ClauseElement, request_names: frozenset[str]) -> Statement:
    dialect = session.get_bind().dialect
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
    if "POSTCOMPILE" in compiled.string:  # an expanding IN would make the text value-dependent
        raise ValueError("a precompiled statement cannot contain expanding parameters")
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        found = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if found is not None:
            processors[name] = found
    constants = {}
    for name, value in compiled.params.items():
        if name not in request_names:
            processor = processors.get(name)
            constants[name] = processor(value) if processor and value is not None else value
    return Statement(compiled.string, constants, processors)


def statement(
    session: Session, shape: Hashable, build: Callable[[], ClauseElement], params: Mapping[str, Any]
) -> Statement:
    """The compiled statement of `shape`, built by `build()` the first time it is seen."""
    found = _statements.get(shape)
    if found is None:
        found = _compile(session, build(), frozenset(params))
        if len(_statements) >= _CACHE_LIMIT:
            _statements.clear()
        _statements[shape] = found
    return found


def _fetch(
    connection: Any,
    sql: str,
    values: Mapping[str, Any],
    prepare: bool,
    org_ids: frozenset[str] | None = None,
) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        if org_ids is None:
            cursor.execute(sql, values, prepare=prepare)
            return cursor.fetchone()
        # Row-level security: as the reader role with the client's organizations, set and reset
        # in the same round trip (a pipeline), so the read costs no extra wait on the server.
        with connection.cursor() as setting, connection.pipeline():
            setting.execute(row_security.ENTER, row_security.enter_params(org_ids), prepare=True)
            cursor.execute(sql, values, prepare=prepare)
            if not connection.autocommit:  # the request's transaction goes on after the read
                for statement in row_security.LEAVE:
                    setting.execute(statement, prepare=True)
        return cursor.fetchone()


def fetch_row(
    session: Session,
    shape: Hashable,
    build: Callable[[], ClauseElement],
    params: Mapping[str, Any],
    *,
    prepare: bool,
    org_ids: frozenset[str] | None = None,
) -> tuple[Any, ...] | None:
    """Run the statement of `shape` with `params` and return its one row (None when empty).

    `prepare`: run it as a named prepared statement, which PostgreSQL soon runs with a generic
    plan (planned once, without the values). Only for shapes whose best plan does not depend on
    the values; others are planned with their values each time.
    `org_ids`: the organizations of a client that does not reach them all; the read then runs
    under row-level security (gateway.auth.row_security) where the database has it."""
    compiled = statement(session, shape, build, params)
    values = dict(compiled.constants)
    for name, value in params.items():
        processor = compiled.processors.get(name)
        values[name] = processor(value) if processor and value is not None else value

    def run(driver: Any, engine: Engine) -> tuple[Any, ...] | None:
        secured = org_ids
        if secured is not None and not row_security.available(engine, driver):
            secured = None
        return _fetch(driver, compiled.sql, values, prepare, secured)

    bind = session.bind
    if session.in_transaction() or not isinstance(bind, Engine):
        # Inside the request's transaction (after a write or a token look-up; tests bind the
        # session to an outer transaction): the read must see what that transaction sees.
        connection = session.connection()
        return run(connection.connection.driver_connection, connection.engine)
    return _lone_fetch(bind, run)


_Run = Callable[[Any, Engine], "tuple[Any, ...] | None"]


def _autocommit_fetch(pooled: Any, engine: Engine, run: _Run) -> tuple[Any, ...] | None:
    driver = pooled.driver_connection
    driver.autocommit = True
    try:
        return run(driver, engine)
    finally:
        if not driver.closed:
            driver.autocommit = False  # as the pool hands connections out


def _lone_fetch(engine: Engine, run: _Run) -> tuple[Any, ...] | None:
    """One autocommit statement on a pooled connection checked out without the ping round trip.

    A read is idempotent: when the server has dropped that connection (a restart, an idle
    timeout, pg_terminate_backend), it is invalidated and the read runs once more on a connection
    checked out with the ping, which also discards every older pooled connection if it fails."""
    dialect = engine.dialect
    pooled = unpinged_connection(engine)
    try:
        return _autocommit_fetch(pooled, engine, run)
    except dialect.loaded_dbapi.Error as error:
        if not dialect.is_disconnect(error, pooled.driver_connection, None):
            pooled.close()
            raise
        pooled.invalidate(error)  # closed and returned to the pool, which reconnects it when used
    else:
        pooled.close()
    retry = engine.raw_connection()
    try:
        return _autocommit_fetch(retry, engine, run)
    finally:
        retry.close()
