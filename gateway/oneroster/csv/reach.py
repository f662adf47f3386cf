"""An importer limited to some organizations (gateway.auth.access.org_scope) writes only inside
them: the organizations its rows name must be in its reach (or be new organizations placed under
one that is), and rows already stored that it would change must be in its reach today.
"""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy import not_, select
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.oneroster.csv.checks import ISSUES, insert_issues
from gateway.oneroster.csv.staging import Staged

ALLOWED = "csv_allowed_orgs"
OUTSIDE = "outside the organizations this client may import for"


def _allowed_orgs(conn: psycopg.Connection, staged: dict[str, Staged], scope: OrgScope) -> None:
    conn.execute(f"CREATE TEMP TABLE {ALLOWED} (sourced_id text PRIMARY KEY) ON COMMIT DROP")
    conn.execute(
        f"INSERT INTO {ALLOWED} SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
        (sorted(scope.sourced_ids),),
    )
    orgs = staged.get("orgs")
    if orgs is not None and orgs.has("parentSourcedId"):
        conn.execute(
            sql.SQL(
                "INSERT INTO {allowed} SELECT {sid} FROM {stage} "
                "WHERE {parent} IN (SELECT sourced_id FROM {allowed}) "
                "AND {sid} IS NOT NULL ON CONFLICT DO NOTHING"
            ).format(
                allowed=sql.Identifier(ALLOWED),
                sid=sql.SQL(orgs.raw("sourcedId")),
                parent=sql.SQL(orgs.raw("parentSourcedId")),
                stage=sql.Identifier(orgs.table),
            )
        )


def _check_org_columns(conn: psycopg.Connection, item: Staged) -> None:
    for name in item.file.org_columns:
        if not item.has(name):
            continue
        order = [c.name for c in item.file.columns].index(name)
        insert_issues(
            conn,
            item.file.filename,
            "SELECT {file}, s.line, {col}, e.v, {reason}, {ord} FROM {stage} s "
            "CROSS JOIN LATERAL "
            "(SELECT btrim(x) AS v FROM unnest(string_to_array({raw}, ',')) x) e "
            "WHERE e.v <> '' AND e.v NOT IN (SELECT sourced_id FROM {allowed})",
            col=sql.Literal(name),
            reason=sql.Literal(OUTSIDE),
            ord=sql.Literal(order),
            stage=sql.Identifier(item.table),
            raw=sql.SQL(item.raw(name)),
            allowed=sql.Identifier(ALLOWED),
        )


def _check_existing(session: Session, conn: psycopg.Connection, item: Staged, scope: OrgScope):
    from gateway.oneroster.catalogue import catalogue as rest_catalogue
    from gateway.oneroster.relations import reach_condition

    entity = rest_catalogue().entities.get(item.file.entity)
    if entity is None or entity.reach is None:
        return
    table = item.file.table
    outside = select(table.c.sourced_id).where(
        not_(reach_condition(entity, False, scope.sourced_ids))
    )
    compiled = outside.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    statement = sql.SQL(
        "INSERT INTO {issues} (file, line, col, value, reason, ord) "
        "SELECT {file}, s.line, 'sourcedId', o.sourced_id, {reason}, 0 FROM {stage} s "
        "JOIN ({outside}) o ON o.sourced_id = {sid}"
    ).format(
        issues=sql.Identifier(ISSUES),
        file=sql.Literal(item.file.filename),
        reason=sql.Literal(f"the stored row is {OUTSIDE}"),
        stage=sql.Identifier(item.table),
        outside=sql.SQL(compiled.string),  # type: ignore[arg-type]
        sid=sql.SQL(item.raw("sourcedId")),
    )
    conn.execute(statement, dict(compiled.params))


def check_reach(session: Session, staged: dict[str, Staged], scope: OrgScope) -> None:
    conn: psycopg.Connection = session.connection().connection.driver_connection  # type: ignore
    _allowed_orgs(conn, staged, scope)
    for item in staged.values():
        _check_org_columns(conn, item)
        _check_existing(session, conn, item, scope)
