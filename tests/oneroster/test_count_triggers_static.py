"""Migration push_0002: the count triggers' static statements are what their dynamic statement
expands to, for the arguments each counted table's triggers really carry (so the static branch is
the one taken)."""

from __future__ import annotations

from sqlalchemy import text

from gateway.paths import ROOT
from tests.conftest import load_module

MIGRATION = load_module(ROOT / "migrations" / "versions" / "push_0002_count_triggers_static_sql.py")


def test_each_counted_tables_triggers_carry_the_arguments_of_its_static_branch(db_session):
    rows = db_session.execute(
        text(
            "SELECT c.relname, t.tgname, t.tgnargs, encode(t.tgargs, 'escape') FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN ('oneroster_count_insert', 'oneroster_count_update', "
            "'oneroster_count_delete')"
        )
    ).all()
    assert {table for table, *_ in rows} == set(MIGRATION.TRIGGER_ARGUMENTS)
    for table, name, nargs, args in rows:
        arguments = tuple(args.split("\\000")[:-1]) if nargs else ()
        assert arguments == MIGRATION.TRIGGER_ARGUMENTS[table], (table, name)


def test_the_static_statements_are_the_dynamic_ones_expanded(db_session):
    for table, arguments in MIGRATION.TRIGGER_ARGUMENTS.items():
        padded = [*arguments, None, None][:2]
        for _first, delta in MIGRATION.DELTAS.values():
            dynamic = db_session.execute(
                text(
                    "SELECT format(:template, oneroster_count_discriminator(:a0), "
                    "oneroster_count_discriminator(:a1))"
                ),
                {
                    "template": f"INSERT INTO oneroster_counts ({MIGRATION.COLUMNS}) {delta}",
                    "a0": padded[0],
                    "a1": padded[1],
                },
            ).scalar_one()
            # USING TG_TABLE_NAME binds $1: the static statement has the name as a literal
            expected = dynamic.replace("$1", f"'{table}'")
            assert MIGRATION._static(table, arguments, delta) == expected, table
