"""What profiles need from the OneRoster `users` table (PostgreSQL).

A professional's OneRoster user carries ``metadata.profile_id``; assigned students must be
OneRoster users with role ``student`` in the client's organizations (a student of another
organization is refused exactly like a missing one, so nothing tells the two apart). Both are
set-based queries, one per request.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope

# Served by the expression index of migration profiles_0001.
LINKED_USERS = text(
    "SELECT metadata->>'profile_id' AS profile_id, min(sourced_id) AS sourced_id FROM users "
    "WHERE metadata->>'profile_id' = ANY(:profile_ids) GROUP BY 1"
)


def linked_user_sourced_ids(session: Session, profile_ids: Iterable[str]) -> dict[str, str]:
    """profile_id -> sourcedId of its linked OneRoster user (the first, if several claim it)."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    rows = session.execute(LINKED_USERS, {"profile_ids": ids})
    return {row.profile_id: row.sourced_id for row in rows}


def unknown_students(session: Session, sourced_ids: Iterable[str], scope: OrgScope) -> set[str]:
    """The ids that are not active OneRoster users with role student within `scope`."""
    from gateway.oneroster.catalogue import catalogue
    from gateway.oneroster.relations import reach_condition

    wanted = set(sourced_ids)
    if not wanted:
        return set()
    users = catalogue().entities["user"]
    table = users.table
    found = session.scalars(
        select(table.c.sourced_id).where(
            table.c.sourced_id.in_(sorted(wanted)),
            table.c.role == "student",
            func.coalesce(table.c.status, "active") != "tobedeleted",
            reach_condition(users, scope.unrestricted, scope.sourced_ids),
        )
    )
    return wanted - set(found)
