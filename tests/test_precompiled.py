"""gateway.precompiled: statements run through the driver inside the session's transaction, with
SQLAlchemy's errors; and the driver's query cache limits make_engine sets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from psycopg import _queries
from sqlalchemy import exc

from gateway import precompiled
from gateway.db import make_engine

TABLE = sa.table("precompiled_probe", sa.column("k"), sa.column("v"))


def test_a_statement_runs_in_the_sessions_transaction(db_session):
    db_session.execute(
        sa.text("CREATE TEMPORARY TABLE precompiled_probe (k text PRIMARY KEY, v int)")
    )
    db_session.execute(sa.text("INSERT INTO precompiled_probe VALUES ('a', 1)"))
    names, rows = precompiled.fetch_all(
        db_session,
        ("test.probe",),
        lambda: sa.select(TABLE.c.k, TABLE.c.v).where(TABLE.c.k == sa.bindparam("k")),
        {"k": "a"},
    )
    assert (names, rows) == (["k", "v"], [("a", 1)])  # sees the session's own uncommitted row
    names, rows = precompiled.fetch_all(
        db_session,
        ("test.probe.insert",),
        lambda: sa.text("INSERT INTO precompiled_probe VALUES (:k, 2)").bindparams(
            sa.bindparam("k", type_=sa.String)
        ),
        {"k": "b"},
    )
    assert (names, rows) == ([], [])
    assert db_session.execute(sa.text("SELECT count(*) FROM precompiled_probe")).scalar() == 2


def test_a_refused_statement_raises_sqlalchemys_error(db_session):
    db_session.execute(
        sa.text("CREATE TEMPORARY TABLE precompiled_probe (k text PRIMARY KEY, v int)")
    )
    insert = sa.text("INSERT INTO precompiled_probe VALUES (:k, :v)").bindparams(
        sa.bindparam("k", type_=sa.String), sa.bindparam("v", type_=sa.Integer)
    )
    precompiled.fetch_all(db_session, ("test.probe.refused",), lambda: insert, {"k": "a", "v": 1})
    # the service answers 409 for an IntegrityError, 400 for a DataError: the same classes
    with pytest.raises(exc.IntegrityError):
        precompiled.fetch_all(
            db_session, ("test.probe.refused",), lambda: insert, {"k": "a", "v": 1}
        )


def test_make_engine_lets_the_driver_keep_long_statements_parsed(database_url):
    engine = make_engine(database_url)
    try:
        assert _queries.MAX_CACHED_STATEMENT_LENGTH >= 64 * 1024
        assert _queries.MAX_CACHED_STATEMENT_PARAMS >= 1000
    finally:
        engine.dispose()
