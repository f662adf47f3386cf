"""Least-privilege database roles (compliance rule 3): the owner migrates, the serving role serves.

The tables belong to the role that runs the migrations (the owner: MIGRATION_DATABASE_URL, or the
embedded server's superuser). The web process logs in as another role, the serving role (the user
of DATABASE_URL; `gateway_serving` on the embedded server), which:

- is not a superuser, cannot create roles or databases, does not bypass row-level security and owns
  nothing, so it can neither ALTER, DROP nor rename a table, nor disable or drop a trigger, nor set
  `session_replication_role` (a superuser-only setting);
- holds SELECT, INSERT, UPDATE, DELETE on the application's tables and may use their sequences;
- holds only INSERT on `audit_log`: the application never reads the audit trail (reading it is an
  operator's task, with the owner's credentials), and no UPDATE, DELETE or TRUNCATE;
- may SET ROLE to `gateway_reader` (without inheriting it) for the row-level-security reads of
  gateway/auth/row_security.py, and has a permissive policy of its own on every table under
  row-level security, since it reads and writes them as their owner did.

`apply()` runs after every `gateway migrate` (and at `gateway serve` start-up), so tables created by
later migrations are granted too. What the owner may not do itself (create the role, grant it
`gateway_reader`) is returned as the SQL an operator must run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from gateway.auth.row_security import READER_ROLE

log = logging.getLogger(__name__)

EMBEDDED_SERVING_ROLE = "gateway_serving"
AUDIT_TABLE = "audit_log"
# Owner-only: which migrations ran.
OWNER_ONLY_TABLES = ("alembic_version",)
POLICY = "gateway_serving_all"
ROLE_ATTRIBUTES = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
PASSWORD_PLACEHOLDER = "<the password of DATABASE_URL>"


class UnsafeServingRole(Exception):
    """The serving role could rewrite what it must not (superuser, owner of tables, …)."""


@dataclass
class Outcome:
    role: str
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # the SQL an operator must run

    @property
    def complete(self) -> bool:
        return not self.pending


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def serving_user(url: str) -> str | None:
    return make_url(url).username


def _quoted(conn: psycopg.Connection, statement: sql.Composable) -> str:
    return statement.as_string(conn)


def _role_row(conn: psycopg.Connection, role: str) -> tuple | None:
    return conn.execute(
        "SELECT oid, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()


def _scalar(conn: psycopg.Connection, query: str, *params: object) -> object:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    return row[0] if row else None


def check_role(conn: psycopg.Connection, role: str) -> None:
    """Refuse a serving role that could rewrite the audit trail or the schema."""
    row = _role_row(conn, role)
    if row is None:
        return
    oid, *flags = row
    names = ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS")
    held = [name for name, value in zip(names, flags, strict=True) if value]
    if conn.execute("SELECT current_user = %s", (role,)).fetchone() == (True,):
        held.append("the migrating user itself")
    owned = conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relowner = %s AND n.nspname = current_schema()",
        (oid,),
    ).fetchone()
    if owned and owned[0]:
        held.append(f"owner of {owned[0]} relation(s)")
    if held:
        raise UnsafeServingRole(
            f"the serving role {role} must not be {', '.join(held)}: it could alter tables or "
            "silence the audit trail. Use a plain LOGIN role for DATABASE_URL and the owner for "
            "MIGRATION_DATABASE_URL."
        )


def statements(conn: psycopg.Connection, role: str, password: str | None) -> list[sql.Composed]:
    """Every statement that gives `role` what it needs, idempotent, in order."""
    ident = sql.Identifier(role)
    out: list[sql.Composed] = []
    if _role_row(conn, role) is None:
        out.append(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + ROLE_ATTRIBUTES).format(
                ident, sql.Literal(password) if password is not None else sql.SQL("NULL")
            )
        )
    database, schema = conn.execute("SELECT current_database(), current_schema()").fetchone()  # type: ignore[misc]
    exists = _role_row(conn, role) is not None
    # Usually granted to PUBLIC already; granted only when missing, since the owner of the tables
    # need not own the database or the schema.
    if not exists or not _scalar(
        conn, "SELECT has_database_privilege(%s, current_database(), 'CONNECT')", role
    ):
        out.append(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident)
        )
    if not exists or not _scalar(
        conn, "SELECT has_schema_privilege(%s, current_schema(), 'USAGE')", role
    ):
        out.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), ident))
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v') "
            "ORDER BY c.relname"
        )
    ]
    dml = [t for t in tables if t != AUDIT_TABLE and t not in OWNER_ONLY_TABLES]
    if dml:
        out.append(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in dml), ident
            )
        )
    for table in (AUDIT_TABLE, *OWNER_ONLY_TABLES):
        if table in tables:
            out.append(sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), ident))
    if AUDIT_TABLE in tables:
        out.append(sql.SQL("GRANT INSERT ON {} TO {}").format(sql.Identifier(AUDIT_TABLE), ident))
    out.append(
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            sql.Identifier(schema), ident
        )
    )
    # Row-level security: the serving role reads and writes every row, as the owner did.
    unpoliced = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relrowsecurity AND NOT EXISTS ("
        "  SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s) "
        "ORDER BY c.relname",
        (POLICY,),
    ).fetchall()
    for (table,) in unpoliced:
        out.append(
            sql.SQL("CREATE POLICY {} ON {} TO {} USING (true) WITH CHECK (true)").format(
                sql.Identifier(POLICY), sql.Identifier(table), ident
            )
        )
    reader = conn.execute(
        "SELECT r.oid FROM pg_roles r WHERE r.rolname = %s", (READER_ROLE,)
    ).fetchone()
    member = (
        reader is not None
        and _role_row(conn, role) is not None
        and conn.execute("SELECT pg_has_role(%s, %s, 'SET')", (role, READER_ROLE)).fetchone()
        == (True,)
    )
    if reader is not None and not member:
        # SET, not INHERIT: the reader's policies must not apply to the serving role's own reads.
        out.append(
            sql.SQL("GRANT {} TO {} WITH INHERIT FALSE, SET TRUE").format(
                sql.Identifier(READER_ROLE), ident
            )
        )
    return out


def apply(owner_url: str, role: str, password: str | None = None) -> Outcome:
    """As the owner: create `role` when missing (with `password`), grant it what it needs; the
    statements the owner may not run are returned in `pending`. Raises UnsafeServingRole."""
    outcome = Outcome(role)
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as conn:
        check_role(conn, role)
        for statement in statements(conn, role, password):
            shown = _quoted(conn, statement)
            if shown.startswith("CREATE ROLE"):  # never print or log the password
                shown = (
                    _quoted(
                        conn, sql.SQL("CREATE ROLE {} LOGIN PASSWORD ").format(sql.Identifier(role))
                    )
                    + f"'{PASSWORD_PLACEHOLDER}' {ROLE_ATTRIBUTES}"
                )
            try:
                conn.execute(statement)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedObject):
                # not allowed to the owner, or about a role still missing: the operator's part
                outcome.pending.append(shown + ";")
                continue
            outcome.applied.append(shown)
        check_role(conn, role)
    return outcome


def set_password(owner_url: str, role: str, password: str) -> None:
    """The embedded server keeps the serving role's password in GATEWAY_DATA_DIR; a lost or new
    file sets it again."""
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as conn:
        if _role_row(conn, role) is None:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + ROLE_ATTRIBUTES).format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
        else:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
