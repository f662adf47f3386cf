"""Mass-deletion guard: a bulk file is the complete set, so a truncated one (a users.csv of one row)
would mark a district `tobedeleted`. Before anything is applied, each bulk file's deletions are
counted per organization (the organizations a row names in its file's `org_columns`; files whose
rows name none count per type); when they exceed a share of that organization's active records of
the type, the import is held unless the request allows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from flask import current_app, has_app_context
from psycopg import sql
from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

from gateway.oneroster.csv.catalogue import CsvFile
from gateway.oneroster.csv.staging import Staged

DEFAULT_SHARE = 0.10
SETTING = "CSV_MAX_DELETION_SHARE"


@dataclass(frozen=True)
class Excess:
    """`leaving` of the `active` records of a file's type in `organization` would be deleted."""

    filename: str
    organization: str | None  # None: the file's rows belong to no organization
    leaving: int
    active: int

    def __str__(self) -> str:
        where = f" of organization {self.organization}" if self.organization else ""
        return (
            f"{self.filename} would mark {self.leaving} of {self.active} active records{where} "
            "tobedeleted"
        )


def max_share() -> float:
    configured = current_app.config.get(SETTING) if has_app_context() else None
    return float(configured if configured is not None else DEFAULT_SHARE)


def compiled(session: Session, condition: ColumnElement[bool] | None) -> tuple[sql.SQL, dict]:
    """A SQLAlchemy condition on a table as psycopg SQL and its parameters (None: every row)."""
    done = (condition if condition is not None else true()).compile(
        dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
    )
    return sql.SQL(done.string), dict(done.params)  # type: ignore[arg-type]


def _organization(file: CsvFile) -> tuple[sql.Composable, sql.Composable]:
    """(FROM-clause addition, organization expression) over the file's table."""
    table = sql.Identifier(file.table.name)
    by_name = file.by_name()
    named = [by_name[c] for c in file.org_columns if c != "sourcedId"]
    if not named:  # orgs (each row is its own organization) and shared catalogue data
        return sql.SQL(""), sql.SQL("NULL::text")
    column = named[0]
    if column.type == "ref_list":
        return (
            sql.SQL(" CROSS JOIN LATERAL jsonb_array_elements_text({}.{}) AS o(org)").format(
                table, sql.Identifier(column.column)
            ),
            sql.SQL("o.org"),
        )
    return sql.SQL(""), sql.SQL("{}.{}").format(table, sql.Identifier(column.column))


def excessive(
    session: Session,
    staged: dict[str, Staged],
    scopes: dict[str, ColumnElement[bool] | None],
    share: float,
) -> list[Excess]:
    """The organizations whose records a bulk file would delete beyond `share`. `scopes`: per file
    name, the rows the importer's bulk file may delete (see importer._bulk_scope)."""
    conn: psycopg.Connection = session.connection().connection.driver_connection  # type: ignore
    found: list[Excess] = []
    for item in staged.values():
        if item.mode != "bulk":
            continue
        scope, params = compiled(session, scopes.get(item.file.name))
        joined, organization = _organization(item.file)
        query = sql.SQL(
            "SELECT org, count(*) FILTER (WHERE leaving), count(*) FROM (SELECT {org} AS org, "
            "NOT EXISTS (SELECT 1 FROM {stage} s WHERE {sid} = {table}.sourced_id "
            "AND COALESCE({status}, 'active') = 'active') AS leaving "
            "FROM {table}{joined} WHERE {table}.status = 'active' AND ({scope})) r "
            "GROUP BY org HAVING count(*) FILTER (WHERE leaving) > %(share)s * count(*) "
            "ORDER BY org NULLS FIRST"
        ).format(
            org=organization,
            stage=sql.Identifier(item.table),
            sid=sql.SQL(item.raw("sourcedId", alias="s")),
            status=sql.SQL(item.raw("status", alias="s")),
            table=sql.Identifier(item.file.table.name),
            joined=joined,
            scope=scope,
        )
        for org, leaving, active in conn.execute(query, {**params, "share": share}):
            found.append(Excess(item.file.filename, org, leaving, active))
    return found
