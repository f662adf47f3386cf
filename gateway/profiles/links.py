"""What profiles need from the OneRoster `users` table (PostgreSQL).

A professional's OneRoster user carries ``metadata.profile_id``; assigned students must be
OneRoster users with role ``student``. Both are set-based queries, one per request.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

# Served by the expression index of migration profiles_0001.
LINKED_USERS = text(
    "SELECT metadata->>'profile_id' AS profile_id, min(sourced_id) AS sourced_id FROM users "
    "WHERE metadata->>'profile_id' = ANY(:profile_ids) GROUP BY 1"
)
_STUDENTS = text(
    "SELECT sourced_id FROM users WHERE sourced_id = ANY(:ids) AND role = 'student' "
    "AND coalesce(status, 'active') <> 'tobedeleted'"
)


def linked_user_sourced_ids(session: Session, profile_ids: Iterable[str]) -> dict[str, str]:
    """profile_id -> sourcedId of its linked OneRoster user (the first, if several claim it)."""
    ids = sorted(set(profile_ids))
    if not ids:
        return {}
    rows = session.execute(LINKED_USERS, {"profile_ids": ids})
    return {row.profile_id: row.sourced_id for row in rows}


def unknown_students(session: Session, sourced_ids: Iterable[str]) -> set[str]:
    """The ids that are not active OneRoster users with role student."""
    wanted = set(sourced_ids)
    if not wanted:
        return set()
    found = {row.sourced_id for row in session.execute(_STUDENTS, {"ids": sorted(wanted)})}
    return wanted - found
