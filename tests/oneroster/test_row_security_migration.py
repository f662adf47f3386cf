"""Migration rls_0001: its downgrade removes what it made, and a server where the migrating user may
not take the reader role keeps RLS off while the application's filter still isolates clients."""

from __future__ import annotations

import logging

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.auth.row_security import READER_ROLE
from gateway.oneroster import prepared, service
from gateway.oneroster.catalogue import catalogue
from gateway.paths import ROOT
from tests.conftest import load_module, recreate_database

_STATE = """
SELECT (SELECT count(*) FROM pg_policies WHERE policyname = 'reach'),
       (SELECT count(*) FROM pg_class WHERE relrowsecurity AND relname = ANY(:tables)),
       to_regprocedure('gateway_request_org_ids()') IS NOT NULL,
       (SELECT count(*) FROM pg_roles WHERE rolname = :role)
"""


# rls_0001's tables (rls_0002 puts the Ed-Fi tables under RLS: tests/edfi test that one).
_TABLES = sorted(
    load_module(ROOT / "migrations" / "versions" / "rls_0001_oneroster_row_security.py").POLICIES
)


def _state(engine) -> tuple:
    with engine.connect() as connection:
        params = {"role": READER_ROLE, "tables": _TABLES}
        return tuple(connection.execute(text(_STATE), params).one())


def test_downgrade_removes_the_policies_and_upgrade_restores_them(pg_server_url, database_url):
    url = recreate_database(pg_server_url, "gateway_rls_migration_test")
    engine = create_engine(url)
    try:
        migrate.upgrade(url)
        assert _state(engine) == (8, 8, True, 1)
        migrate.downgrade(url, to="edfi_0003")
        # The role is the server's: the suite's own database still grants it, so it stays.
        assert _state(engine) == (0, 0, False, 1)
        migrate.upgrade(url)
        assert _state(engine) == (8, 8, True, 1)
    finally:
        engine.dispose()


def test_without_the_role_rls_stays_off_and_the_application_filter_applies(plain_owner_url, caplog):
    with caplog.at_level(logging.WARNING):
        migrate.upgrade(plain_owner_url)
    assert "row-level security left off" in caplog.text
    engine = create_engine(plain_owner_url)
    try:
        assert _state(engine)[:3] == (0, 0, False)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO organizations (sourced_id, name, type) "
                    "VALUES ('s1', 'One', 'school'), ('s2', 'Two', 'school')"
                )
            )
        with Session(engine) as session:
            statement = select(func.count()).select_from(text("organizations"))
            row = prepared.fetch_row(
                session,
                ("test-rls-off",),
                lambda: statement,
                {},
                prepare=False,
                org_ids=frozenset({"s1"}),
            )
        # No role to take: the read runs as the connection's user; the application's own filter
        # (absent from this raw statement) is what limits a client here.
        assert row == (2,)
        assert "row-level security is off" in caplog.text
        # Where the database enforces the reach, a read leaves its own condition out; not here.
        with Session(engine) as session:
            page = service.list_page(
                session,
                catalogue().views["orgs"],
                {},
                service.Reach(unrestricted=False, sourced_ids=frozenset({"s1"})),
                base_url="http://test",
                max_limit=100,
                hidden=frozenset(),
            )
        assert page.total == 1
        assert page.sourced_ids == ["s1"]
    finally:
        engine.dispose()
