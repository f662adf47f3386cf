"""Natural keys holding a person's unique id are indexed person first (edfi_0004): the database has
the order the generator's rule gives, edfi_0004's fixed lists are what the rule gives, and every
lookup by a person or by another identity reference still finds an index."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from gateway.edfi.definitions import Resource, registry
from gateway.edfi.migration_gen import (
    first_resources,
    ident,
    natural_key_order,
    people,
    reference_indexes,
)
from gateway.paths import MIGRATIONS_DIR
from tests.conftest import load_module


def edfi_0004():
    return load_module(MIGRATIONS_DIR / "versions" / "edfi_0004_person_first_keys.py")


def resources() -> list[Resource]:
    return sorted(
        (r for r in registry().resources.values() if not r.descriptor), key=lambda r: r.table_name
    )


def core(res: Resource) -> bool:
    """A foundation table: its natural key is the primary key of 0001, not a generated one."""
    return res.table_name in registry().storage["coreColumns"]


def person_columns(res: Resource) -> list[str]:
    persons = people(registry())
    return [
        res.columns[flat].name
        for ref in res.references
        if ref.identity and set(ref.targets) & persons
        for _, flat in ref.fields
    ]


def key_columns_in_db(session, res: Resource) -> list[str]:
    """The columns, in index order, of the table's natural-key constraint (its primary key for a
    foundation table)."""
    if core(res):
        condition, params = "c.contype = 'p'", {}
    else:
        condition, params = "c.conname = :n", {"n": ident(f"uq_{res.table_name}_key")}
    return list(
        session.scalars(
            sa.text(
                "SELECT a.attname FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY k(n, i) "
                "JOIN pg_attribute a ON a.attnum = k.n "
                f"WHERE a.attrelid = c.conrelid AND c.conrelid = :t ::regclass AND {condition} "
                "ORDER BY k.i"
            ),
            {"t": res.table_name, **params},
        )
    )


def sample(column: sa.Column) -> str:
    """A literal of the column's type, for a plan."""
    if isinstance(column.type, sa.Date):
        return "'2021-08-23'"
    return "1" if isinstance(column.type, sa.Integer) else "'x'"


def only_indexes_leading_with(session, table: str, columns: list[str]) -> None:
    """Drop (in the caller's savepoint) every index and key of `table` whose first column is not
    one of `columns`. On the tests' near-empty tables the planner prices a whole scan of any
    index about the same as a lookup in the right one, and may pick either; left with only the
    indexes that can serve the lookup, it must use one of them or scan the table."""
    rows = session.execute(
        sa.text(
            "SELECT i.relname, c.conname, a.attname FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            "WHERE x.indrelid = :t ::regclass"
        ),
        {"t": table},
    ).all()
    for index, constraint, first in rows:
        if first in columns:
            continue
        if constraint:
            session.execute(
                sa.text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}" CASCADE')
            )
        else:
            session.execute(sa.text(f'DROP INDEX "{index}"'))


def index_used(session, res: Resource, columns: list[str]) -> str:
    """The index the planner reads for an equality lookup on `columns` (sequential scans off, as
    for a big table; only the indexes leading with one of `columns`); fails on a plan without."""
    conditions = " AND ".join(f'"{c}" = {sample(res.table.c[c])}' for c in columns)
    savepoint = session.begin_nested()
    try:
        only_indexes_leading_with(session, res.table_name, columns)
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            session.scalars(
                sa.text(f'EXPLAIN SELECT id FROM "{res.table_name}" WHERE {conditions}')
            )
        )
    finally:
        savepoint.rollback()
    found = re.search(
        r"(?:Index Scan using|Index Only Scan using|Bitmap Index Scan on) (\S+)", plan
    )
    assert found, (res.name, columns, plan)
    return found.group(1)


def leading_column(session, index: str) -> str:
    return session.scalar(
        sa.text(
            "SELECT a.attname FROM pg_index x JOIN pg_attribute a "
            "ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
            "WHERE x.indexrelid = :i ::regclass"
        ),
        {"i": index},
    )


def test_the_rule_puts_the_person_first():
    ssa = registry().resources["studentSectionAssociations"]
    assert natural_key_order(ssa) == [
        "student_unique_id",
        "section_identifier",
        "local_course_code",
        "school_id",
        "school_year",
        "session_name",
        "begin_date",
    ]
    for res in resources():
        order = natural_key_order(res)
        assert sorted(order) == sorted(res.key_columns), res.name  # the same key, reordered
        persons = [c for c in res.key_columns if c in person_columns(res)]
        assert order[: len(persons)] == persons, res.name
        if not persons:
            assert order == res.key_columns, res.name
    # a key of two people (a student's contact) keeps its order: it starts with a person already
    sca = registry().resources["studentContactAssociations"]
    assert natural_key_order(sca) == sca.key_columns


def test_the_migration_lists_what_the_rule_gives():
    keys, dropped, added = [], [], []
    for res in sorted(first_resources(), key=lambda r: r.table_name):  # edfi_0001's tables
        t, order = res.table_name, natural_key_order(res)
        if order != res.key_columns and not core(res):
            keys.append((t, ident(f"uq_{t}_key"), tuple(res.key_columns), tuple(order)))
        before = reference_indexes(res, res.key_columns)
        after = reference_indexes(res)
        # edfi_0004 creates whole indexes: none of the ones it touches is an optional reference's
        dropped += [(t, n, tuple(c)) for n, c, p in before if (n, c, p) not in after and not p]
        added += [(t, n, tuple(c)) for n, c, p in after if (n, c, p) not in before and not p]
        assert [i for i in before + after if i[2] and (i in before) != (i in after)] == []
    migration = edfi_0004()
    assert migration.KEYS == keys
    assert migration.DROPPED == dropped
    assert migration.ADDED == added
    assert {t for t, *_ in keys} >= {"student_section_associations", "staff_section_associations"}


def test_the_database_has_the_rules_order(db_session):
    for res in resources():
        assert key_columns_in_db(db_session, res) == natural_key_order(res), res.name
    names = db_session.scalars(sa.text("SELECT indexname FROM pg_indexes")).all()
    assert [n for _, n, _ in edfi_0004().DROPPED if n in names] == []
    assert [n for _, n, _ in edfi_0004().ADDED if n not in names] == []


@pytest.mark.as_owner  # drops the other indexes in a savepoint: the owner's
def test_a_lookup_by_a_person_uses_an_index_leading_with_the_person(db_session):
    looked_up = set()
    for res in resources():
        for column in person_columns(res):
            index = index_used(db_session, res, [column])
            assert leading_column(db_session, index) == column, (res.name, index)
            looked_up.add(column)
    assert looked_up == {"student_unique_id", "staff_unique_id", "contact_unique_id"}


@pytest.mark.as_owner  # drops the other indexes in a savepoint: the owner's
def test_a_lookup_by_any_identity_reference_uses_an_index(db_session):
    for res in resources():
        for ref in res.references:
            if not ref.identity:
                continue
            columns = [res.columns[flat].name for _, flat in ref.fields]
            index = index_used(db_session, res, columns)
            assert leading_column(db_session, index) in columns, (res.name, ref.name, index)


def test_downgrade_restores_the_identity_order(pg_server_url):
    from sqlalchemy.orm import Session

    from gateway import migrate
    from tests.conftest import recreate_database

    url = recreate_database(pg_server_url, "gateway_person_first_keys_test")
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(url)
        migrate.downgrade(url, to="rls_0001")
        with Session(engine) as session:
            for res in first_resources():  # edfi_0005's tables are gone at rls_0001
                assert key_columns_in_db(session, res) == (
                    natural_key_order(res) if core(res) else res.key_columns
                ), res.name
            names = set(session.scalars(sa.text("SELECT indexname FROM pg_indexes")))
            assert {n for _, n, _ in edfi_0004().DROPPED} <= names
            assert not {n for _, n, _ in edfi_0004().ADDED} & names
        migrate.upgrade(url)
        with Session(engine) as session:
            for res in resources():
                assert key_columns_in_db(session, res) == natural_key_order(res), res.name
    finally:
        engine.dispose()
