"""Least-privilege roles (gateway.dbroles): the serving role's own credentials cannot silence or
rewrite the audit trail, nor alter the schema; `gateway migrate` grants it, or says what to run."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gateway import dbroles, migrate
from gateway.cli import cli
from tests.conftest import TEST_SECRET_KEY, _libpq, recreate_database

BYPASSES = {
    "disable trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    "replica mode": "SET session_replication_role = replica",
    "drop trigger": "DROP TRIGGER audit_log_no_update_delete ON audit_log",
    "drop function": "DROP FUNCTION audit_log_append_only() CASCADE",
    "rename table": "ALTER TABLE audit_log RENAME TO audit_log_old",
    "update": "UPDATE audit_log SET status = 0",
    "delete": "DELETE FROM audit_log",
    "truncate": "TRUNCATE audit_log",
    "alter another table": "ALTER TABLE students ADD COLUMN x int",
    "drop another table": "DROP TABLE api_clients CASCADE",
    "read the audit trail": "SELECT count(*) FROM audit_log",
    "become the reader's owner": "ALTER ROLE gateway_reader SUPERUSER",
}


@pytest.mark.parametrize("statement", BYPASSES.values(), ids=BYPASSES.keys())
def test_the_serving_role_cannot_bypass_the_audit_trail(database_url, statement):
    with psycopg.connect(_libpq(database_url)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("gateway_serving",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        conn.rollback()


def test_the_serving_role_is_plain_and_owns_nothing(database_url, owner_engine):
    with owner_engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
                "(SELECT count(*) FROM pg_class WHERE relowner = r.oid) "
                "FROM pg_roles r WHERE rolname = 'gateway_serving'"
            )
        ).one()
    assert tuple(row) == (False, False, False, False, False, 0)


def test_the_serving_role_writes_audit_rows_and_application_data(database_url, owner_engine):
    cid = f"roles-{uuid.uuid4()}"
    with psycopg.connect(_libpq(database_url)) as conn:
        conn.execute(
            "INSERT INTO audit_log (action, method, path, status, correlation_id) "
            "VALUES ('read', 'GET', '/x', 200, %s)",
            (cid,),
        )
        conn.execute(
            "INSERT INTO oauth1_nonces (consumer_key, nonce, timestamp, created_at) "
            "VALUES ('k', %s, 1, now())",
            (cid,),
        )
        conn.execute("DELETE FROM oauth1_nonces WHERE nonce = %s", (cid,))
    with owner_engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE correlation_id = :c"), {"c": cid}
        ).scalar()
    assert found == 1


def test_the_serving_role_takes_the_reader_role_without_inheriting_it(database_url):
    with psycopg.connect(_libpq(database_url)) as conn:
        assert conn.execute(
            "SELECT pg_has_role('gateway_reader', 'SET'), pg_has_role('gateway_reader', 'USAGE')"
        ).fetchone() == (True, False)
        conn.execute("SET ROLE gateway_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO api_clients (key) VALUES ('x')")


def test_grants_cover_tables_created_by_later_migrations(pg_server_url):
    url = recreate_database(pg_server_url, "gateway_roles_test")
    role = f"serving_{uuid.uuid4().hex[:8]}"
    serving = make_url(url).set(username=role, password="pw").render_as_string(hide_password=False)
    try:
        assert migrate.upgrade_and_grant(url, serving).complete  # type: ignore[union-attr]
        with psycopg.connect(_libpq(url), autocommit=True) as owner:
            owner.execute("CREATE TABLE later_table (id int)")
        outcome = migrate.grant_serving(url, serving)
        assert outcome is not None and outcome.complete
        assert any("later_table" in s for s in outcome.applied)
        with psycopg.connect(_libpq(serving)) as conn:
            conn.execute("INSERT INTO later_table VALUES (1)")
            assert conn.execute("SELECT count(*) FROM later_table").fetchone() == (1,)
    finally:
        with psycopg.connect(_libpq(pg_server_url), autocommit=True) as admin:
            admin.execute('DROP DATABASE IF EXISTS "gateway_roles_test" WITH (FORCE)')
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_a_superuser_serving_role_is_refused(owner_url, pg_server_url):
    superuser = make_url(pg_server_url).username or "postgres"
    assert superuser != "gateway_serving"
    with pytest.raises(dbroles.UnsafeServingRole, match="SUPERUSER"):
        # the migrating user itself, under another URL spelling
        dbroles.apply(owner_url, superuser, None)


def test_migrate_prints_the_sql_when_it_may_not_create_the_role(plain_owner_url, pg_server_url):
    role = f"serving_{uuid.uuid4().hex[:8]}"
    serving = (
        make_url(plain_owner_url)
        .set(username=role, password="s3cret-pw")
        .render_as_string(hide_password=False)
    )
    env = {
        "DATABASE_URL": serving,
        "MIGRATION_DATABASE_URL": plain_owner_url,
        "SECRET_KEY": TEST_SECRET_KEY,
    }
    result = CliRunner().invoke(cli, ["migrate"], env=env)
    assert result.exit_code == 1, result.output
    assert f'CREATE ROLE "{role}" LOGIN PASSWORD' in result.output
    assert "s3cret-pw" not in result.output
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON" in result.output
    # The operator runs what was printed (as a superuser), then migrate completes.
    sql = [line for line in result.output.splitlines() if line.endswith(";")]
    with psycopg.connect(_admin(plain_owner_url, pg_server_url), autocommit=True) as admin:
        for statement in sql:
            admin.execute(statement.replace(dbroles.PASSWORD_PLACEHOLDER, "s3cret-pw"))
    try:
        again = CliRunner().invoke(cli, ["migrate"], env=env)
        assert again.exit_code == 0, again.output
        assert f"serving role {role}: granted" in again.output
    finally:
        with psycopg.connect(_admin(plain_owner_url, pg_server_url), autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def _admin(url: str, server_url: str) -> str:
    """`url`'s database as the server's superuser."""
    return _libpq(
        make_url(url)
        .set(username=make_url(server_url).username, password=make_url(server_url).password)
        .render_as_string(hide_password=False)
    )
