"""An importer limited to some organizations (gateway.auth.access.org_scope) writes only inside
them: the organizations its rows name must be in its reach (or be new organizations placed under
one that is), and rows already stored that it would change must be in its reach today.

Its orgs may not widen that reach (gateway.auth.access): an org is placed only under a parent in the
reach (or keeps the parent it has), and a new or re-identified org may not take an identifier that
names an organization outside the reach. Whoever imports, an org may not take the id of an
education organization of another kind (gateway.auth.org_ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from sqlalchemy import Select, not_, select
from sqlalchemy.orm import Session

from gateway.auth import org_ids
from gateway.auth.access import OrgScope
from gateway.oneroster.csv.checks import ISSUES, insert_issues
from gateway.oneroster.csv.staging import Staged

if TYPE_CHECKING:
    from gateway.oneroster.catalogue import Entity

ALLOWED = "csv_allowed_orgs"
OUTSIDE = "outside the organizations this client may import for"
TAKEN = "already the id of another education organization"


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


def _report_stored(
    session: Session,
    conn: psycopg.Connection,
    item: Staged,
    stored: Select,
    reason: str,
    changes: sql.Composable | None = None,
) -> None:
    """Report the file's rows whose stored record is among the sourcedIds `stored` selects (and,
    given `changes`, a condition over the stage `s` and the stored row `t`, that would change)."""
    compiled = stored.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    more: sql.Composable = sql.SQL("")
    if changes is not None:
        more = sql.SQL(" JOIN {target} t ON t.sourced_id = o.sourced_id WHERE {changes}").format(
            target=sql.Identifier(item.file.table.name), changes=changes
        )
    statement = sql.SQL(
        "INSERT INTO {issues} (file, line, col, value, reason, ord) "
        "SELECT {file}, s.line, 'sourcedId', o.sourced_id, {reason}, 0 FROM {stage} s "
        "JOIN ({stored}) o ON o.sourced_id = {sid}{more}"
    ).format(
        issues=sql.Identifier(ISSUES),
        file=sql.Literal(item.file.filename),
        reason=sql.Literal(reason),
        stage=sql.Identifier(item.table),
        stored=sql.SQL(compiled.string),  # type: ignore[arg-type]
        sid=sql.SQL(item.raw("sourcedId")),
        more=more,
    )
    conn.execute(statement, dict(compiled.params))


def _check_existing(session: Session, conn: psycopg.Connection, item: Staged, scope: OrgScope):
    from gateway.oneroster.catalogue import catalogue as rest_catalogue
    from gateway.oneroster.relations import reach_condition

    entity = rest_catalogue().entities.get(item.file.entity)
    if entity is None:
        return
    if entity.reach is None:
        _check_shared(session, conn, item, scope, entity)
        return
    table = item.file.table
    outside = select(table.c.sourced_id).where(
        not_(reach_condition(entity, False, scope.sourced_ids))
    )
    _report_stored(session, conn, item, outside, f"the stored row is {OUTSIDE}")


def _check_shared(
    session: Session, conn: psycopg.Connection, item: Staged, scope: OrgScope, entity: Entity
) -> None:
    """A row that would change or delete a shared record (gateway.oneroster.shared) that records
    outside the reach name."""
    from gateway.oneroster.csv.apply import typed_expression
    from gateway.oneroster.shared import IN_USE, used_outside

    outside = used_outside(entity, scope.sourced_ids)
    if outside is None:
        return
    changes = [
        sql.SQL("COALESCE({}, 'active') = 'tobedeleted'").format(sql.SQL(item.raw("status", "s")))
    ]
    for column in item.file.columns:
        if column.name in ("sourcedId", "status", "dateLastModified") or not item.has(column.name):
            continue
        changes.append(
            sql.SQL("{} IS DISTINCT FROM t.{}").format(
                typed_expression(column, item.raw(column.name, "s")),
                sql.Identifier(column.column),
            )
        )
    reason = f"this {entity.single} {IN_USE}"
    _report_stored(session, conn, item, outside, reason, sql.SQL(" OR ").join(changes))


def _check_parents(conn: psycopg.Connection, orgs: Staged) -> None:
    """An org is placed under a parent in the reach, or keeps the one it has."""
    if not orgs.has("parentSourcedId"):
        return
    order = [c.name for c in orgs.file.columns].index("parentSourcedId")
    insert_issues(
        conn,
        orgs.file.filename,
        "SELECT {file}, s.line, 'parentSourcedId', {parent}, {reason}, {ord} FROM {stage} s "
        "LEFT JOIN organizations o ON o.sourced_id = {sid} "
        "WHERE {parent} IS NOT NULL AND {parent} NOT IN (SELECT sourced_id FROM {allowed}) "
        "AND {parent} IS DISTINCT FROM o.parent_id",
        parent=sql.SQL(orgs.raw("parentSourcedId", "s")),
        sid=sql.SQL(orgs.raw("sourcedId", "s")),
        reason=sql.Literal(OUTSIDE),
        ord=sql.Literal(order),
        stage=sql.Identifier(orgs.table),
        allowed=sql.Identifier(ALLOWED),
    )


def _held_outside_sql(identifier: str, sourced_id: str) -> str:
    """SQL condition: a new or re-identified org's identifier names an organization outside the
    reach (%(edfi)s, %(sids)s): an Ed-Fi education organization, another org, or an organization
    the operator named for some client."""
    number = org_ids.as_edorg_id_sql(identifier)
    inside = f"({number} = ANY(%(edfi)s::bigint[]) OR {identifier} = ANY(%(sids)s::text[]))"
    return (
        f"({identifier} IS DISTINCT FROM (SELECT o.identifier FROM organizations o "
        f"WHERE o.sourced_id = {sourced_id}) AND NOT {inside} AND ("
        f"EXISTS (SELECT 1 FROM ({org_ids.edorg_ids_sql()}) e WHERE e.id = {number}) "
        "OR EXISTS (SELECT 1 FROM organizations held "
        f"WHERE held.identifier = {identifier} AND held.sourced_id <> {sourced_id}) "
        "OR EXISTS (SELECT 1 FROM api_clients c "
        f"WHERE c.education_organization_ids @> to_jsonb({identifier}))))"
    )


def check_org_identifiers(session: Session, staged: dict[str, Staged], scope: OrgScope | None):
    """Report an org whose identifier is already another education organization's id."""
    orgs = staged.get("orgs")
    if orgs is None or not orgs.has("identifier"):
        return
    conn: psycopg.Connection = session.connection().connection.driver_connection  # type: ignore
    identifier, sid = orgs.raw("identifier", "s"), orgs.raw("sourcedId", "s")
    conditions = [org_ids.held_by_other_kind_sql(identifier, orgs.raw("type", "s"), sid)]
    params: dict[str, list] = {}
    if scope is not None and not scope.unrestricted:
        conditions.append(_held_outside_sql(identifier, sid))
        params = {"edfi": sorted(scope.edfi_ids), "sids": sorted(scope.sourced_ids)}
    order = [c.name for c in orgs.file.columns].index("identifier")
    statement = sql.SQL(
        "INSERT INTO {issues} (file, line, col, value, reason, ord) "
        "SELECT {file}, s.line, 'identifier', {identifier}, {reason}, {ord} FROM {stage} s "
        "WHERE {identifier} IS NOT NULL AND COALESCE({status}, 'active') = 'active' "
        "AND ({conditions})"
    ).format(
        issues=sql.Identifier(ISSUES),
        file=sql.Literal(orgs.file.filename),
        identifier=sql.SQL(identifier),
        reason=sql.Literal(TAKEN),
        ord=sql.Literal(order),
        stage=sql.Identifier(orgs.table),
        status=sql.SQL(orgs.raw("status", "s")),
        conditions=sql.SQL(" OR ").join(sql.SQL(c) for c in conditions),
    )
    conn.execute(statement, params)


def check_reach(session: Session, staged: dict[str, Staged], scope: OrgScope) -> None:
    conn: psycopg.Connection = session.connection().connection.driver_connection  # type: ignore
    _allowed_orgs(conn, staged, scope)
    for item in staged.values():
        _check_org_columns(conn, item)
        _check_existing(session, conn, item, scope)
    if "orgs" in staged:
        _check_parents(conn, staged["orgs"])
