"""Append-only collection counts (oneroster_0003) under concurrency, on separate connections that
commit: writers never wait for one another on the counts, compactions fold rows without changing
a figure in any snapshot, and rolled-back work leaves no trace."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gateway.oneroster.counts import compact
from tests.oneroster.factories import BASE
from tests.oneroster.live import api_client, close, live_app
from tests.oneroster.test_counts import assert_stored_exact

PREFIX = "cc-"  # every users row these tests commit


@pytest.fixture
def committed(engine):
    yield
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE sourced_id LIKE :p"), {"p": PREFIX + "%"})
        assert_stored_exact(connection)


def insert(connection, name: str, role: str, n: int = 1) -> None:
    connection.execute(
        text(
            "INSERT INTO users (sourced_id, role, username) "
            "SELECT :p || i, :role, :p || i FROM generate_series(1, :n) i"
        ),
        {"p": f"{PREFIX}{name}-", "role": role, "n": n},
    )


def no_waiting(connection) -> None:
    """Any wait for a lock fails this connection's next statements at once instead of queueing."""
    connection.execute(text("SET lock_timeout = '200ms'"))


def rows_of(connection, discriminator: str) -> int:
    return connection.execute(
        text(
            "SELECT count(*) FROM oneroster_counts "
            "WHERE table_name = 'users' AND discriminator = :d"
        ),
        {"d": discriminator},
    ).scalar_one()


def stored(connection, discriminator: str) -> int:
    return connection.execute(
        text(
            "SELECT coalesce(sum(n), 0) FROM oneroster_counts "
            "WHERE table_name = 'users' AND discriminator = :d"
        ),
        {"d": discriminator},
    ).scalar_one()


def test_writers_of_the_same_role_do_not_wait_for_each_other(engine, committed):
    with engine.begin() as setup:
        insert(setup, "s", "student", 3)
        base = stored(setup, "student")
    with engine.connect() as a, engine.connect() as b:
        no_waiting(b)
        insert(a, "a", "student", 2)  # open: its delta stays uncommitted
        insert(b, "b", "student", 4)  # with oneroster_0002 this queued behind a (lock timeout)
        b.execute(text("DELETE FROM users WHERE sourced_id = :id"), {"id": PREFIX + "s-1"})
        b.execute(
            text("UPDATE users SET role = 'teacher' WHERE sourced_id = :id"), {"id": PREFIX + "s-2"}
        )
        assert (stored(a, "student"), stored(b, "student")) == (base + 2, base + 4 - 1 - 1)
        b.commit()
        a.commit()
    with engine.connect() as check:
        assert stored(check, "student") == base + 2 + 4 - 1 - 1
        assert_stored_exact(check)


def test_opposite_order_multi_role_transactions_cannot_deadlock(engine, committed):
    """Each statement of one transaction runs while the other holds its own deltas of the same
    roles; with oneroster_0002's upserted rows the third statement queued (lock timeout here) and
    the fourth closed a deadlock cycle."""
    with engine.connect() as a, engine.connect() as b:
        no_waiting(a)
        no_waiting(b)
        insert(a, "a-student", "student", 2)
        insert(b, "b-teacher", "teacher", 3)
        insert(a, "a-teacher", "teacher", 1)
        insert(b, "b-student", "student", 5)
        a.execute(text("DELETE FROM users WHERE sourced_id = :id"), {"id": PREFIX + "a-student-1"})
        b.execute(
            text("UPDATE users SET role = 'aide' WHERE sourced_id = :id"),
            {"id": PREFIX + "b-teacher-1"},
        )
        a.commit()
        b.commit()
    with engine.connect() as check:
        assert_stored_exact(check)


def test_concurrent_compactions_keep_the_count_exact(engine, committed):
    with engine.begin() as setup:
        for i in range(4):  # four statements: four appended rows for ('users', 'student')
            insert(setup, f"s{i}", "student", i + 1)
        before = stored(setup, "student")
    with engine.connect() as one, engine.connect() as two, engine.connect() as writer:
        no_waiting(two)
        no_waiting(writer)
        compact(one)  # the rows it folds stay locked (deleted, their sum inserted) until commit
        insert(writer, "w", "student", 2)  # appends beside an open compaction
        compact(two)  # skips the rows `one` holds rather than waiting for them
        assert stored(two, "student") == before  # a compaction changes no figure
        two.commit()
        assert stored(writer, "student") == before + 2
        one.commit()
        writer.commit()
    with engine.connect() as check:
        assert stored(check, "student") == before + 2
        assert_stored_exact(check)
        compact(check)
        check.commit()
        assert rows_of(check, "student") == 1
        assert stored(check, "student") == before + 2
        assert_stored_exact(check)


def test_compactions_racing_writers_keep_every_figure_exact(engine, committed):
    """Compactions on two connections in a loop while two writers append and roll back."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def compacting() -> None:
        try:
            with engine.connect() as connection:
                no_waiting(connection)
                while not stop.is_set():
                    compact(connection)
                    connection.commit()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    def writing(name: str, roles: tuple[str, str]) -> None:
        try:
            with engine.connect() as connection:
                no_waiting(connection)
                for i in range(40):
                    insert(connection, f"{name}{i}", roles[i % 2], 1 + i % 3)
                    if i % 5 == 4:
                        connection.rollback()  # its deltas vanish with its rows
                    else:
                        connection.commit()
                    if i % 4 == 0:
                        connection.execute(
                            text("DELETE FROM users WHERE sourced_id LIKE :p"),
                            {"p": f"{PREFIX}{name}{i - 4 if i else 0}-%"},
                        )
                        connection.commit()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=compacting) for _ in range(2)]
    writers = [
        threading.Thread(target=writing, args=("x", ("student", "teacher"))),
        threading.Thread(target=writing, args=("y", ("teacher", "student"))),
    ]
    for thread in threads + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=60)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with engine.connect() as check:
        assert_stored_exact(check)


def test_rolled_back_writes_and_compactions_leave_the_count_exact(engine, committed):
    with engine.begin() as setup:
        insert(setup, "s1", "student", 2)
        insert(setup, "s2", "student", 1)
    with engine.connect() as writer, engine.connect() as compactor:
        insert(writer, "gone", "student", 7)
        writer.execute(text("DELETE FROM users WHERE sourced_id LIKE :p"), {"p": PREFIX + "s1-%"})
        compact(compactor)  # sees neither of the writer's deltas
        compactor.rollback()
        writer.rollback()
    with engine.connect() as check:
        assert_stored_exact(check)


def test_truncate_beside_an_open_compaction_leaves_zero(owner_engine):
    engine = owner_engine  # TRUNCATE is the owner's: the serving role holds no TRUNCATE
    with engine.begin() as setup:
        for i in range(3):
            setup.execute(
                text("INSERT INTO categories (sourced_id, title) VALUES (:id, 'T')"),
                {"id": f"{PREFIX}cat-{i}"},
            )
    with engine.connect() as compactor, engine.connect() as truncating:
        compact(compactor)
        truncating.execute(text("TRUNCATE categories"))  # reads the figure the compaction kept
        compactor.commit()
        truncating.commit()
    with engine.connect() as check:
        total = check.execute(
            text("SELECT coalesce(sum(n), 0) FROM oneroster_counts WHERE table_name = 'categories'")
        ).scalar_one()
        assert total == 0
        assert_stored_exact(check)


def test_truncate_under_repeatable_read_is_refused(owner_engine):
    with owner_engine.connect() as connection:
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        with pytest.raises(DBAPIError, match="READ COMMITTED"):
            connection.execute(text("TRUNCATE results"))
        connection.rollback()


def test_a_whole_collection_read_wakes_the_compactor(test_config, engine, committed):
    app = live_app(test_config)
    with engine.begin() as setup:
        for i in range(3):
            insert(setup, f"t{i}", "teacher")
    with engine.connect() as connection:
        assert rows_of(connection, "teacher") >= 3  # one per statement
    client_id, headers = api_client(app)
    try:
        response = app.test_client().get(BASE + "/teachers?limit=1", headers=headers)
        assert response.status_code == 200
        deadline = time.monotonic() + 15
        with engine.connect() as connection:
            while rows_of(connection, "teacher") > 1 and time.monotonic() < deadline:
                connection.rollback()
                time.sleep(0.1)
            assert rows_of(connection, "teacher") == 1
            assert_stored_exact(connection)
    finally:
        close(app, client_id)
