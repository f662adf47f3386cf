"""A district's first load into the Ed-Fi tables builds their indexes and keys once, after the
insert (gateway.bulkload); a failure later in the import's transaction leaves the previous state,
the indexes and keys as they were."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.mapping.to_edfi import bulk
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.mapping.test_csv_import_edges import count, roster

# the first-load index rebuild is the owner's (gateway import-csv), never the serving role's
pytestmark = pytest.mark.as_owner

do_import = csv_suite.do_import
TABLES = ("student_section_associations", "sections", "students", "mapping_links")


def indexes(db_session) -> dict[str, tuple[int, str]]:
    """Every index of TABLES (primary keys and unique constraints included): its oid, which a
    rebuilt index changes, and its definition."""
    rows = db_session.execute(
        sa.text(
            "SELECT i.indexname, format('%I', i.indexname)::regclass::oid::int, i.indexdef "
            "FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(:tables)"
        ),
        {"tables": list(TABLES)},
    )
    return {name: (oid, definition) for name, oid, definition in rows}


def constraints(db_session) -> set[tuple[str, str]]:
    rows = db_session.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(CAST(:tables AS regclass[]))"
        ),
        {"tables": list(TABLES)},
    )
    return set(rows.tuples())


def test_a_failure_after_the_first_load_leaves_the_previous_state(
    tmp_path, do_import, db_session, monkeypatch
):
    before = indexes(db_session)
    keys = constraints(db_session)
    assert count(db_session, "student_section_associations") == 0
    real = bulk.project_oneroster_import
    seen: dict[str, tuple[int, str]] = {}

    def project_then_fail(session, typed_tables):
        real(session, typed_tables)
        seen.update(indexes(session))
        raise RuntimeError("forced failure after the projection")

    monkeypatch.setattr(bulk, "project_oneroster_import", project_then_fail)
    with pytest.raises(RuntimeError, match="forced failure"):
        do_import(write_package(tmp_path, roster()))
    # the first load wrote its rows and rebuilt the indexes (new oids, the same definitions)
    assert {name: d for name, (_, d) in seen.items()} == {n: d for n, (_, d) in before.items()}
    rebuilt = [n for n, (oid, _) in seen.items() if oid != before[n][0]]
    assert "ix_student_section_associations_section" in rebuilt
    assert "uq_student_section_associations_key" in rebuilt
    assert "mapping_links_pkey" in rebuilt
    db_session.rollback()
    assert indexes(db_session) == before
    assert constraints(db_session) == keys
    for table in TABLES:
        assert count(db_session, table) == 0, table


def test_a_first_load_then_a_reimport_keeps_every_index(tmp_path, do_import, db_session):
    before = indexes(db_session)
    keys = constraints(db_session)
    for _ in range(2):
        report = do_import(write_package(tmp_path, roster()))
        assert report.status == "applied", report.as_dict()
        assert {n: d for n, (_, d) in indexes(db_session).items()} == {
            n: d for n, (_, d) in before.items()
        }
        assert constraints(db_session) == keys
    assert count(db_session, "student_section_associations") == 2
