"""Alembic: `upgrade heads` builds the schema on an empty database; `downgrade base` drops it."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from gateway import migrate
from tests.conftest import recreate_database

CORE_TABLES = {
    "schools",
    "students",
    "student_school_associations",
    "organizations",
    "users",
    "api_clients",
    "access_tokens",
    "oauth1_nonces",
}


def test_upgrade_then_downgrade(pg_server_url):
    url = recreate_database(pg_server_url, "gateway_migrations_test")
    engine = create_engine(url)
    try:
        migrate.upgrade(url)
        tables = set(inspect(engine).get_table_names())
        assert CORE_TABLES <= tables
        indexes = {ix["name"] for ix in inspect(engine).get_indexes("student_school_associations")}
        assert {"idx_student_school_student", "idx_student_school_active"} <= indexes
        migrate.downgrade(url)
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        migrate.upgrade(url)  # and back up again: downgrades leave nothing behind
        assert CORE_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
