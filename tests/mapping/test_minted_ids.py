"""The ids the projection mints for the Ed-Fi rows it stages: one random seed per staging table,
hashed with each row's sequence number (gateway.mapping.edfi_bulk.minted_id_sql)."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.to_edfi.bulk_writes import minted_id_sql


def minted(db_session, expression: str, rows: int) -> list:
    return list(
        db_session.scalars(
            sa.text(f"SELECT {expression} FROM generate_series(1, :n) AS g(n)"), {"n": rows}
        )
    )


def test_ids_are_distinct_within_a_stage_and_across_stages(db_session):
    first = minted(db_session, minted_id_sql("g.n"), 20_000)
    second = minted(db_session, minted_id_sql("g.n"), 20_000)  # another stage: same numbers
    assert len(set(first)) == 20_000
    assert not set(first) & set(second)


def test_ids_do_not_follow_the_sequence(db_session):
    ids = minted(db_session, minted_id_sql("g.n"), 1_000)
    # spread like random ids: 1,000 of them show ~990 of the 65,536 16-bit prefixes
    assert ids != sorted(ids)
    assert len({i.hex[:4] for i in ids}) > 900
