"""The database's half of organization reach (compliance rule 2): row-level security.

Migration rls_0001 gives the NOLOGIN role `gateway_reader` only the OneRoster rows of the
organizations named in the setting `gateway.org_ids`, rls_0002 only the Ed-Fi rows of the education
organizations in `gateway.edorg_ids`. A read of a client limited to some organizations runs as
that role with the client's organizations (gateway.auth.access.OrgScope sourcedIds and Ed-Fi ids),
all set transaction-local, so none outlives the read's transaction and a pooled connection never
carries one client's reach to the next request. A client that reaches every organization reads as
the connection's own role: RLS has nothing to withhold from it, and a policy that let some
requests see everything would need an OR, which keeps PostgreSQL from using the tables' indexes
for any of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from weakref import WeakKeyDictionary

from psycopg.pq import TransactionStatus
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope

log = logging.getLogger(__name__)

READER_ROLE = "gateway_reader"
ORG_IDS_SETTING = "gateway.org_ids"
EDORG_IDS_SETTING = "gateway.edorg_ids"
# the organizations above the client's, for a read an …Inverted strategy authorizes (rls_0005)
EDORG_ANCESTOR_IDS_SETTING = "gateway.edorg_ancestor_ids"

# A table each migration puts under row-level security: its policies are there when it is.
ONEROSTER_POLICIES = "organizations"  # rls_0001
EDFI_POLICIES = "schools"  # rls_0002

# set_config(…, true) is SET LOCAL: it ends with the transaction (the implicit one of a pipelined
# autocommit read, or the request's own). The ids travel as arrays the server renders as its
# array literals, so sourcedIds holding commas or quotes cannot break out of them.
ENTER = (
    "SELECT set_config('role', %(gateway_role)s, true), "
    f"set_config('{ORG_IDS_SETTING}', %(gateway_org_ids)s::text, true), "
    f"set_config('{EDORG_IDS_SETTING}', %(gateway_edorg_ids)s::text, true), "
    f"set_config('{EDORG_ANCESTOR_IDS_SETTING}', %(gateway_edorg_ancestor_ids)s::text, true)"
)
# Back to the session's own role inside a transaction that goes on after the read.
LEAVE = (
    "RESET ROLE",
    f"SELECT set_config('{ORG_IDS_SETTING}', '', true), "
    f"set_config('{EDORG_IDS_SETTING}', '', true), "
    f"set_config('{EDORG_ANCESTOR_IDS_SETTING}', '', true)",
)

_AVAILABLE = f"""
SELECT pg_has_role(session_user, r.oid, 'MEMBER') AND c.relrowsecurity
  FROM pg_roles r, pg_class c
 WHERE r.rolname = '{READER_ROLE}' AND c.oid = to_regclass(%s)
"""

# What gateway_request_edorg_ids() reads as an id: at most 18 digits, so never past bigint.
_EDORG_ID_RANGE = range(-(10**18) + 1, 10**18)

_known: WeakKeyDictionary[Engine, dict[str, bool]] = WeakKeyDictionary()
_lock = threading.Lock()


def enter_params(
    org_ids: Iterable[str], edorg_ids: Iterable[int] = (), ancestor_ids: Iterable[int] = ()
) -> dict[str, Any]:
    # An id longer than that matches no row (Ed-Fi's are int64, at most 19 digits, and the
    # largest an ODS client sends has 16): left out, it cannot make the whole setting unreadable.
    return {
        "gateway_role": READER_ROLE,
        "gateway_org_ids": sorted(org_ids),
        "gateway_edorg_ids": sorted(i for i in edorg_ids if i in _EDORG_ID_RANGE),
        "gateway_edorg_ancestor_ids": sorted(i for i in ancestor_ids if i in _EDORG_ID_RANGE),
    }


def available(
    engine: Engine, driver_connection: Any = None, table: str = ONEROSTER_POLICIES
) -> bool:
    """Whether this database has the reader role and the policies of `table`'s migration
    (rls_0001 or rls_0002 could create them) and the connection's user may take that role; asked
    once per engine and table, on `driver_connection` or else on a connection of the engine's
    pool."""
    found = _known.get(engine, {}).get(table)
    if found is not None:
        return found
    if driver_connection is None:
        pooled = engine.raw_connection()
        try:
            return available(engine, pooled.driver_connection, table)
        finally:
            pooled.close()
    with driver_connection.cursor() as cursor:
        row = cursor.execute(_AVAILABLE, (table,)).fetchone()
    found = bool(row and row[0])
    with _lock:
        known = _known.setdefault(engine, {})
        if table not in known and not found:
            log.warning(
                "row-level security is off for %s on %s (no role %s usable by this user, or no "
                "policies): only the application's organization filter applies",
                table,
                engine.url.render_as_string(hide_password=True),
                READER_ROLE,
            )
        known[table] = found
    return found


def leave(driver_connection: Any) -> None:
    """LEAVE in one round trip."""
    with driver_connection.cursor() as cursor, driver_connection.pipeline():
        for statement in LEAVE:
            cursor.execute(statement, prepare=True)


@contextmanager
def within_reach(session: Session, scope: OrgScope, table: str) -> Iterator[bool]:
    """The session's statements in the block run as the reader role limited to `scope`, inside
    the session's transaction; yields whether they do (not for a client that reaches every
    organization, nor where the database has no policies on `table`). The block's end takes the
    connection's own role back, so the transaction can go on to other reads and to writes."""
    if scope.unrestricted:
        yield False
        return
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    if not available(connection.engine, driver, table):
        yield False
        return
    with driver.cursor() as cursor:
        params = enter_params(scope.sourced_ids, scope.edfi_ids, scope.edfi_ancestor_ids)
        cursor.execute(ENTER, params, prepare=True)
    try:
        yield True
    finally:
        # A failed statement aborted the transaction: its rollback, which must come, ends the
        # role and settings with it (and no statement would run before it anyway).
        if driver.info.transaction_status != TransactionStatus.INERROR:
            leave(driver)
