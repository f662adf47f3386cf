"""Optional references' and JSONB collections' indexes are partial (edfi_0003), and every lookup
by a reference still finds its index; edfi_0003's fixed list is what the generator's rule gives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.edfi.definitions import registry
from gateway.edfi.migration_gen import first_resources, reference_indexes
from gateway.paths import MIGRATIONS_DIR
from tests.conftest import load_module
from tests.csv.conftest import assert_uses_index

# these tests drop and analyze indexes in their transaction: the owner's
pytestmark = pytest.mark.as_owner


def sample(column: sa.Column) -> str:
    """A literal of the column's type, for a plan."""
    if isinstance(column.type, sa.Date):
        return "'2021-08-23'"
    return "1" if isinstance(column.type, sa.Integer) else "'x'"


def edfi_0003():
    return load_module(MIGRATIONS_DIR / "versions" / "edfi_0003_partial_indexes.py")


def partial_references() -> list[tuple[sa.Table, str, list[str]]]:
    out = []
    for res in registry().resources.values():
        if res.descriptor or res.table is None:
            continue
        for name, columns, present in reference_indexes(res):
            if present:
                out.append((res.table, name, columns))
    return sorted(out, key=lambda r: (r[0].name, r[1]))


def test_the_migration_lists_what_the_rule_gives():
    first = {r.table_name for r in first_resources()}  # edfi_0003 changed edfi_0001's tables
    expected = [
        (t.name, name, tuple(columns))
        for t, name, columns in partial_references()
        if t.name in first
    ]
    assert edfi_0003().OPTIONAL_REFERENCES == expected
    assert expected  # the rule picks some


def test_optional_indexes_are_partial(db_session):
    names = [name for _, name, _ in partial_references()]
    names += [name for _, _, name in edfi_0003().COLLECTIONS]
    rows = dict(
        db_session.execute(
            sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:n)"),
            {"n": names},
        ).all()
    )
    assert set(rows) == set(names)
    assert [n for n, definition in rows.items() if " IS NOT NULL" not in definition] == []
    # a required reference's index stays whole
    (whole,) = db_session.scalars(
        sa.text(
            "SELECT indexdef FROM pg_indexes "
            "WHERE indexname = 'ix_student_section_associations_section'"
        )
    )
    assert " WHERE " not in whole


def test_a_lookup_by_an_optional_reference_uses_its_partial_index(db_session):
    for table, name, columns in partial_references():
        conditions = " AND ".join(f'"{c}" = {sample(table.c[c])}' for c in columns)
        savepoint = db_session.begin_nested()
        # only this index to choose (with another one on the same columns, the planner may
        # take that one): the others go, and so do the keys whose index leads with one of these
        # columns (a natural key indexed person first serves a lookup by that person too)
        others = db_session.scalars(
            sa.text(
                "SELECT indexname FROM pg_indexes i WHERE tablename = :t AND indexname <> :n "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
            ),
            {"t": table.name, "n": name},
        ).all()
        keys = db_session.scalars(
            sa.text(
                "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a "
                "ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "WHERE c.conrelid = CAST(:t AS regclass) AND c.contype IN ('p', 'u') "
                "AND a.attname = ANY(:cols)"
            ),
            {"t": table.name, "cols": list(columns)},
        ).all()
        for other in others:
            db_session.execute(sa.text(f'DROP INDEX "{other}"'))
        for key in keys:
            db_session.execute(
                sa.text(f'ALTER TABLE "{table.name}" DROP CONSTRAINT "{key}" CASCADE')
            )
        assert_uses_index(db_session, f'SELECT id FROM "{table.name}" WHERE {conditions}', name)
        savepoint.rollback()
