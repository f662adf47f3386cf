"""Whole-collection counts kept by the database (migrations oneroster_0002/0003), for X-Total-Count.

A full-sync request (no filter, no parent) would otherwise count the rows it reaches on every page:
at 50,000 users that count is most of what a 100-record page costs. Triggers append each writing
statement's net change per table, discriminator (the column a typed view such as /students selects
on) and organization key (oneroster_0004: the value of the column the table's reach rule reads, so
an organization-limited client's total is the sum of its organizations' figures) to
`oneroster_counts`, in the writer's transaction, so the sum of a key's rows equals `count(*)` in
every snapshot. Writers only append, so they never wait for each other there; `compact()` folds a
key's rows back into one, from a daemon thread woken by the reads that sum them (and once at
start-up), never in a request.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import cache
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Table,
    Text,
    case,
    cast,
    false,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from gateway.db import Base
from gateway.oneroster.catalogue import View, catalogue

log = logging.getLogger(__name__)

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

# The reach rules whose column is on the table itself: its value (as text) is each figure's
# `org_key` (oneroster_0004); the other tables' figures have ''.
_KEYED_RULES = ("self", "in", "overlaps")


@cache
def org_keys() -> dict[str, str]:
    """table → the column its reach rule reads (routes.json `reach`), for the tables whose
    figures are kept per organization; oneroster_0004's triggers key on the same columns."""
    keys = {}
    for entity in catalogue().entities.values():
        rule = entity.reach
        if rule is not None and rule[0] in _KEYED_RULES:
            column = "sourced_id" if rule[0] == "self" else entity.fields[rule[1]].column_name
            keys[entity.table.name] = column
    return keys


oneroster_counts = Table(
    "oneroster_counts",
    Base.metadata,
    Column("table_name", Text, nullable=False),  # not a key: one row per appended delta
    Column("discriminator", Text, nullable=False),
    Column("org_key", Text, nullable=False),
    Column("n", BigInteger, nullable=False),
)


def _of_organizations(view: View, org_ids: Any) -> Any | None:
    """The figures of the rows of `org_ids` (a text[] expression), or None when the table's
    figures are not kept per organization."""
    key = oneroster_counts.c.org_key
    if view.entity.table.name not in org_keys():
        return None
    if view.entity.reach and view.entity.reach[0] == "overlaps":
        # a jsonb list of orgs; '' for a row with none
        return case((key == "", false()), else_=cast(key, JSONB).op("?|")(org_ids))
    return key == func.any(org_ids)


def stored_total(view: View, org_ids: Any = None) -> Any | None:
    """The stored row count of every row `view` shows (with `org_ids`, a text[] expression: of
    those organizations), as a scalar subquery; None when the counts cannot tell it (the view
    selects on something they do not distinguish, or they are not kept per organization): then
    the caller counts the rows."""
    table_name = view.entity.table.name
    if table_name not in COUNTED:
        return None
    counts = oneroster_counts.c
    conditions = [counts.table_name == table_name]
    if org_ids is not None:
        reached = _of_organizations(view, org_ids)
        if reached is None:
            return None
        conditions.append(reached)
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


# Fold each key that has several rows (or a zero figure) into one row, in one statement.
# Race-free: only rows this statement locked are deleted, and the sum of exactly the rows it
# deleted is inserted, in the same transaction, so the figure is unchanged in every snapshot. A
# concurrent compaction skips the rows locked here (SKIP LOCKED: compactions never wait for each
# other) and a row another one deleted first is not locked here, so no delta is counted twice.
# Rows a writer appended are invisible here until it commits, and are left for a later run.
_COMPACT = text(
    """
    WITH gone AS (
        DELETE FROM oneroster_counts
         WHERE ctid = ANY (ARRAY(
               SELECT ctid FROM oneroster_counts
                WHERE (table_name, discriminator, org_key) IN (
                      SELECT table_name, discriminator, org_key FROM oneroster_counts
                       GROUP BY 1, 2, 3 HAVING count(*) > 1 OR sum(n) = 0)
                  FOR UPDATE SKIP LOCKED))
        RETURNING table_name, discriminator, org_key, n
    ), folded AS (
        INSERT INTO oneroster_counts (table_name, discriminator, org_key, n)
        SELECT table_name, discriminator, org_key, sum(n) FROM gone
         GROUP BY 1, 2, 3 HAVING sum(n) <> 0
    )
    SELECT count(*) FROM gone
    """
)


def compact(connection: Connection) -> int:
    """Fold the appended count rows in `connection`'s transaction; the number of rows removed."""
    return int(connection.execute(_COMPACT).scalar_one())


class Compactor:
    """Runs compact() on a daemon thread, at most once per PERIOD, while reads ask for it.

    Reads sum a key's rows, so rows appended since the last run cost them a little; folding them
    on the reader's own request would add its latency, so a read only wakes the thread. Started on
    first use (after a server worker has forked), as the audit writer is."""

    PERIOD = 1.0  # seconds between runs: a key gathers at most about PERIOD's worth of writes

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def nudge(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="oneroster-count-compactor", daemon=True
                    )
                    self._thread.start()
        self._wanted.set()

    def run_once(self) -> int:
        with self.engine.begin() as connection:
            return compact(connection)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            # On failure the figures stay exact, only unfolded; the next read wakes a retry.
            try:
                self.run_once()
            except DBAPIError as error:  # e.g. the database is restarting or gone
                log.warning("could not compact oneroster_counts: %s", error.orig)
            except Exception:
                log.exception("could not compact oneroster_counts")
            time.sleep(self.PERIOD)


def init_app(app: Flask) -> None:
    app.extensions["gateway.oneroster.counts"] = Compactor(app.extensions["gateway.db"].engine)


def compact_at_start_up(app: Flask) -> None:
    """Fold what was appended while no server read the counts (CLI imports, a stopped server)."""
    removed = app.extensions["gateway.oneroster.counts"].run_once()
    if removed:
        log.info("folded %d appended collection count rows", removed)


def nudge_compactor() -> None:
    """Ask the app's compactor to fold the count rows soon (a read summed them)."""
    compactor = current_app.extensions.get("gateway.oneroster.counts")
    if compactor is not None:
        compactor.nudge()
