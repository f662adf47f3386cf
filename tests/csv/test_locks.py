"""Two imports for the same organization never interleave: transaction-level advisory locks,
exclusive for a district-wide import, per organization otherwise."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.oneroster.csv.importer import LOCK_CLASS, lock


def _scope(*orgs: str) -> OrgScope:
    return OrgScope(False, frozenset(), frozenset(orgs))


def _can_lock_org(engine, org: str) -> bool:
    with engine.connect() as conn:
        got = conn.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtext(:c), hashtext(:n))"),
            {"c": LOCK_CLASS, "n": org},
        ).scalar_one()
        conn.rollback()
        return got


def _can_lock_all(engine) -> bool:
    with engine.connect() as conn:
        got = conn.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtext(:c), 0)"), {"c": LOCK_CLASS}
        ).scalar_one()
        conn.rollback()
        return got


def test_organization_imports_exclude_only_the_same_organization(engine):
    with Session(engine) as holder:
        lock(holder, _scope("org-s1"))
        assert not _can_lock_org(engine, "org-s1")
        assert _can_lock_org(engine, "org-s2")
        assert not _can_lock_all(engine)  # a district-wide import waits for it
        holder.rollback()
    assert _can_lock_org(engine, "org-s1")  # released with the transaction


def test_district_wide_import_excludes_every_other(engine):
    with Session(engine) as holder:
        lock(holder, None)
        assert not _can_lock_all(engine)
        with engine.connect() as conn:
            shared = conn.execute(
                text("SELECT pg_try_advisory_xact_lock_shared(hashtext(:c), 0)"),
                {"c": LOCK_CLASS},
            ).scalar_one()
            conn.rollback()
        assert shared is False  # an organization's import would wait
        holder.rollback()
    assert _can_lock_all(engine)
