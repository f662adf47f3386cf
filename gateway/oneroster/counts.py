"""Whole-collection counts kept by the database (migration oneroster_0002), for X-Total-Count.

A full-sync request (no filter, no parent, a client that reaches every row of the collection) would
otherwise count the whole table on every page: at 50,000 users that count is most of what a
100-record page costs. Triggers keep the number of rows per table and discriminator (the column a
typed view such as /students selects on) in `oneroster_counts`, in the writer's transaction, so the
stored figure equals `count(*)` in every snapshot; reading it is a primary-key look-up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Table, Text, cast, func, select

from gateway.db import Base
from gateway.oneroster.catalogue import View

# table → the column its typed views select on (as the oneroster_0002 triggers count it).
COUNTED: dict[str, str | None] = {
    "academic_sessions": "type",
    "organizations": "type",
    "users": "role",
    "oneroster_courses": None,
    "classes": None,
    "enrollments": None,
    "demographics": None,
    "resources": None,
    "categories": None,
    "line_items": None,
    "results": None,
}

oneroster_counts = Table(
    "oneroster_counts",
    Base.metadata,
    Column("table_name", Text, primary_key=True),
    Column("discriminator", Text, primary_key=True),
    Column("n", BigInteger, nullable=False),
)


def stored_total(view: View) -> Any | None:
    """The stored row count of every row `view` shows, as a scalar subquery; None when the view
    selects on something the counts do not distinguish (then the caller counts the rows)."""
    table_name = view.entity.table.name
    if table_name not in COUNTED:
        return None
    counts = oneroster_counts.c
    conditions = [counts.table_name == table_name]
    if view.where:
        discriminator = COUNTED[table_name]
        columns = {view.entity.fields[name].column_name for name in view.where}
        if discriminator is None or columns != {discriminator}:
            return None
        (value,) = view.where.values()
        conditions.append(counts.discriminator == value)
    # A missing row is a count of zero; sum() of bigint is numeric, the header wants an integer.
    total = cast(func.coalesce(func.sum(counts.n), 0), BigInteger)
    return select(total).where(*conditions).scalar_subquery()
