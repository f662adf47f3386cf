"""The projection's person locks: one statement takes the shared lock and each person's, and sets
the generic plans for the rest of the transaction; a write of many people takes the exclusive lock
and leaves the planner's choice."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.to_oneroster.project import PERSON_LOCKS, Dirty, Projector


def advisory_locks(session) -> list[tuple[str, int]]:
    return [
        (mode, int(objid))
        for mode, objid in session.execute(
            sa.text(
                "SELECT mode, objid FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() ORDER BY mode, objid"
            )
        )
    ]


def plan_cache_mode(session) -> str:
    return session.execute(sa.text("SELECT current_setting('plan_cache_mode')")).scalar_one()


def test_a_few_people_take_the_shared_lock_each_persons_and_generic_plans(db_session):
    before = plan_cache_mode(db_session)
    Projector(db_session)._lock_people(Dirty(students={"s-1", "s-2"}, contacts={"c-1"}))
    locks = advisory_locks(db_session)
    assert [mode for mode, _ in locks].count("ShareLock") == 1
    assert [mode for mode, _ in locks].count("ExclusiveLock") == 3
    assert plan_cache_mode(db_session) == "force_generic_plan"
    db_session.rollback()  # transaction-local: it ends with the transaction
    assert plan_cache_mode(db_session) == before


def test_many_people_take_the_exclusive_lock_and_leave_the_plans(db_session):
    before = plan_cache_mode(db_session)
    people = {f"s-{i}" for i in range(PERSON_LOCKS + 1)}
    Projector(db_session)._lock_people(Dirty(students=people))
    assert [mode for mode, _ in advisory_locks(db_session)] == ["ExclusiveLock"]
    assert plan_cache_mode(db_session) == before
