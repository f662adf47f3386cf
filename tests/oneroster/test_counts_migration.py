"""Migration oneroster_0004: the stored counts gain their organization key from the rows already
there, and its downgrade folds the keys back into the figures oneroster_0003 kept."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from gateway import migrate
from tests.conftest import recreate_database
from tests.oneroster.test_counts import assert_stored_exact

_ROWS = """
INSERT INTO organizations (sourced_id, name, type, parent_id) VALUES
    ('d1', 'District', 'district', NULL), ('s1', 'One', 'school', 'd1'),
    ('s2', 'Two', 'school', 'd1');
INSERT INTO users (sourced_id, role, org_ids, username)
SELECT 'u' || i, CASE WHEN i % 4 = 0 THEN 'teacher' ELSE 'student' END,
       CASE WHEN i % 3 = 0 THEN '["s1", "s2"]' WHEN i % 3 = 1 THEN '["s1"]' END::jsonb, 'u' || i
  FROM generate_series(1, 40) i;
"""


def _by_discriminator(connection) -> set[tuple]:
    return set(
        connection.execute(
            text(
                "SELECT table_name, discriminator, sum(n) FROM oneroster_counts "
                "GROUP BY 1, 2 HAVING sum(n) <> 0"
            )
        ).all()
    )


def test_upgrade_keys_the_existing_figures_and_downgrade_folds_them(pg_server_url):
    url = recreate_database(pg_server_url, "gateway_counts_migration_test")
    engine = create_engine(url)
    try:
        command.upgrade(migrate.alembic_config(url), "edfi_0004")
        with engine.begin() as connection:
            for statement in _ROWS.split(";\n"):
                if statement.strip():
                    connection.execute(text(statement))
            before = _by_discriminator(connection)
        migrate.upgrade(url)
        with engine.connect() as connection:
            assert_stored_exact(connection)
            assert _by_discriminator(connection) == before
            keys = connection.execute(
                text(
                    "SELECT org_key, sum(n) FROM oneroster_counts WHERE table_name = 'users' "
                    "GROUP BY 1 ORDER BY 1"
                )
            ).all()
            assert keys == [("", 13), ('["s1", "s2"]', 13), ('["s1"]', 14)]
        migrate.downgrade(url, to="edfi_0004")
        with engine.begin() as connection:
            assert _by_discriminator(connection) == before
            connection.execute(text("DELETE FROM users WHERE sourced_id IN ('u1', 'u4')"))
            assert _by_discriminator(connection) == (
                before - {("users", "student", 30), ("users", "teacher", 10)}
            ) | {("users", "student", 29), ("users", "teacher", 9)}
        migrate.upgrade(url)
        with engine.connect() as connection:
            assert_stored_exact(connection)
    finally:
        engine.dispose()
