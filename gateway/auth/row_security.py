"""The database's half of organization reach (compliance rule 2): row-level security.

Migration rls_0001 gives the NOLOGIN role `gateway_reader` only the rows of the organizations
named in the setting `gateway.org_ids`. A read of a client limited to some organizations runs as
that role with the client's organizations (gateway.auth.access.OrgScope sourcedIds), both set
transaction-local, so neither outlives the read's transaction and a pooled connection never carries
one client's reach to the next request. A client that reaches every organization reads as the
connection's own role: RLS has nothing to withhold from it, and a policy that let some requests see
everything would need an OR, which keeps PostgreSQL from using the tables' indexes for any of them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine

log = logging.getLogger(__name__)

READER_ROLE = "gateway_reader"
ORG_IDS_SETTING = "gateway.org_ids"

# set_config(…, true) is SET LOCAL: it ends with the transaction (the implicit one of a pipelined
# autocommit read, or the request's own). The ids travel as a text[] the server renders as its
# array literal, so sourcedIds holding commas or quotes cannot break out of it.
ENTER = (
    "SELECT set_config('role', %(gateway_role)s, true), "
    f"set_config('{ORG_IDS_SETTING}', %(gateway_org_ids)s::text, true)"
)
# Back to the session's own role inside a transaction that goes on after the read.
LEAVE = ("RESET ROLE", f"SELECT set_config('{ORG_IDS_SETTING}', '', true)")

_AVAILABLE = f"""
SELECT pg_has_role(session_user, r.oid, 'MEMBER') AND c.relrowsecurity
  FROM pg_roles r, pg_class c
 WHERE r.rolname = '{READER_ROLE}' AND c.oid = to_regclass('organizations')
"""

_known: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()
_lock = threading.Lock()


def enter_params(org_ids: Iterable[str]) -> dict[str, Any]:
    return {"gateway_role": READER_ROLE, "gateway_org_ids": sorted(org_ids)}


def available(engine: Engine, driver_connection: Any = None) -> bool:
    """Whether this database has the reader role and its policies (migration rls_0001 could
    create them) and the connection's user may take that role; asked once per engine, on
    `driver_connection` or else on a connection of the engine's pool."""
    found = _known.get(engine)
    if found is not None:
        return found
    if driver_connection is None:
        pooled = engine.raw_connection()
        try:
            return available(engine, pooled.driver_connection)
        finally:
            pooled.close()
    with driver_connection.cursor() as cursor:
        row = cursor.execute(_AVAILABLE).fetchone()
    found = bool(row and row[0])
    with _lock:
        if engine not in _known and not found:
            log.warning(
                "row-level security is off for %s (no role %s usable by this user, or no "
                "policies): only the application's organization filter applies",
                engine.url.render_as_string(hide_password=True),
                READER_ROLE,
            )
        _known[engine] = found
    return found
