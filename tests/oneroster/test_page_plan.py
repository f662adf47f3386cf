"""A page of a collection reads its own rows by the key's index, never the whole table.

A plain collection page runs as a prepared statement, which PostgreSQL soon runs with its generic
plan (planned without the values: it assumes a LIMIT keeps 10% of the rows). That plan must still
fetch the page's rows through the primary key: a hash join against every row of the table costs a
full sync a scan of the collection per page (enrollments: 45 scans of 220,000 rows)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from gateway.oneroster import service
from gateway.oneroster.catalogue import catalogue
from gateway.oneroster.prepared import statement
from gateway.oneroster.query import parse_query

# ANALYZE, which only the owner may run, gives the planner the statistics these plans need
pytestmark = pytest.mark.as_owner


@pytest.fixture
def many_enrollments(db_session):
    db_session.execute(
        text(
            "INSERT INTO enrollments (sourced_id, class_sourced_id, school_sourced_id, "
            "user_sourced_id, role) SELECT 'e' || lpad(n::text, 6, '0'), 'c' || n % 200, "
            "'s' || n % 5, 'u' || n / 10, 'student' FROM generate_series(0, 49999) n"
        )
    )
    db_session.execute(text("ANALYZE enrollments"))


def _generic_plan(session, view_name: str, args: dict[str, str]) -> str:
    view = catalogue().views[view_name]
    query = parse_query(view.entity, args, max_limit=5000, hidden=frozenset({"password"}))
    params = {"href_base": "http://h/b", **query.params()}
    compiled = statement(
        session,
        ("plan-test", view_name, query.shape()),
        lambda: service._page_statement(view, query, "all", None),
        params,
    )
    # the request's values become $n (the generic plan knows none of them), constants stay
    names: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in compiled.constants:
            value = compiled.constants[name]
            return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, compiled.sql)
    return "\n".join(session.execute(text("EXPLAIN (GENERIC_PLAN) " + sql)).scalars())


@pytest.mark.parametrize(
    "args",
    [
        {"limit": "5000", "offset": "20000"},
        {"limit": "100"},
        {"limit": "5000", "orderBy": "desc"},
        {"limit": "5000", "offset": "45000"},  # read from the end
    ],
)
def test_a_page_reads_its_rows_by_the_key(db_session, many_enrollments, args):
    plan = _generic_plan(db_session, "enrollments", args)
    assert not re.search(r"Seq Scan on enrollments\b", plan), plan
