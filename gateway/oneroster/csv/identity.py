"""Identity safety: OneRoster users become Ed-Fi people by `identifier` (a student's
studentUniqueId, a staff member's staffUniqueId, a contact's contactUniqueId). Two users with
different sourcedIds and the same identifier, of the same kind of Ed-Fi person, would become one
Ed-Fi record: the package is rejected, each such row naming the other (in the package, or stored).
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from gateway.mapping.to_edfi import translate as to_edfi
from gateway.oneroster.csv.checks import insert_issues
from gateway.oneroster.csv.staging import Staged


def _kind(role: sql.Composable) -> sql.Composable:
    return sql.SQL(to_edfi.person_kind_sql("{role}")).format(role=role)


def check_people(conn: psycopg.Connection, users: Staged) -> None:
    """Report every users.csv row that would share an Ed-Fi person with another user."""
    if not users.has("identifier"):
        return
    sid, identifier = sql.SQL(users.raw("sourcedId")), sql.SQL(users.raw("identifier"))
    rows = sql.SQL(
        "SELECT line, {sid} AS sid, {identifier} AS identifier, {kind} AS kind FROM {stage} "
        "WHERE COALESCE({status}, 'active') = 'active' AND {identifier} IS NOT NULL"
    ).format(
        sid=sid,
        identifier=identifier,
        kind=_kind(sql.SQL(users.raw("role"))),
        stage=sql.Identifier(users.table),
        status=sql.SQL(users.raw("status")),
    )
    filename = sql.Literal(users.file.filename)
    # within the package: every row after the first of its identifier names the first
    insert_issues(
        conn,
        users.file.filename,
        "SELECT {file}, line, 'identifier', identifier, 'the same identifier as ' || {name} "
        "|| ' line ' || first_line || ' (sourcedId ' || first_sid || '), a different user: both "
        "would become one Ed-Fi ' || kind, 0 FROM (SELECT *, first_value(line) OVER w AS "
        "first_line, first_value(sid) OVER w AS first_sid FROM ({rows}) r WHERE kind IS NOT NULL "
        "WINDOW w AS (PARTITION BY kind, identifier ORDER BY line)) d WHERE sid <> first_sid",
        name=filename,
        rows=rows,
    )
    # against the stored users the package leaves as they are (a bulk file replaces them all)
    if users.mode == "bulk":
        return
    insert_issues(
        conn,
        users.file.filename,
        "SELECT {file}, r.line, 'identifier', r.identifier, 'the same identifier as the stored "
        "user ' || u.sourced_id || ', a different user: both would become one Ed-Fi ' || r.kind, "
        "0 FROM ({rows}) r JOIN users u ON u.identifier = r.identifier AND u.status = 'active' "
        "AND u.sourced_id <> r.sid AND {stored_kind} = r.kind WHERE r.kind IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {staged_sid} = u.sourced_id)",
        rows=rows,
        stored_kind=_kind(sql.SQL("u.role")),
        stage=sql.Identifier(users.table),
        staged_sid=sql.SQL(users.raw("sourcedId", alias="s")),
    )
