"""The projection reads several queries in one statement (rows as JSON): the documents are the
ones a query of its own gives, for every resource the mapping reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.mapping.to_oneroster.read_edfi import EdFiReader
from tests.mapping.conftest import SCHOOL_ID, bodies

RESOURCES = sorted({resource for resource, _ in bodies()})


@pytest.mark.parametrize("resource", RESOURCES)
def test_documents_read_together_are_the_documents_read_alone(rostered, db_session, resource):
    reader = EdFiReader(db_session)
    res = reader.registry.resources[resource]
    field = res.identity[0]
    values = {doc[field] for doc in _all(reader, resource, field)} if "." not in field else set()
    if not values:
        pytest.skip(f"{resource} is not read by a top-level field here")
    alone = reader.fetch(resource, **{field: values})
    together, schools = reader.fetch_many(
        [(resource, {field: values}), ("schools", {"schoolId": [SCHOOL_ID]})]
    )
    assert alone and sorted(together, key=_id) == sorted(alone, key=_id)
    assert [s["schoolId"] for s in schools] == [SCHOOL_ID]


def _id(doc: dict) -> str:
    return doc["id"]


def _all(reader: EdFiReader, resource: str, field: str) -> list[dict]:
    res = reader.registry.resources[resource]
    column = res.table.c[res.columns[field].name]
    return [{field: value} for value in reader.session.scalars(sa.select(column))]


def test_a_bulk_rebuild_may_ask_for_more_keys_than_a_statement_has_parameters(rostered, db_session):
    """A 50,000-student bulk job's rebuild asked for each key as its own parameter and failed
    past PostgreSQL's 65,535; the keys now travel as one array per field."""
    reader = EdFiReader(db_session)
    stored = [doc["studentUniqueId"] for doc in _all(reader, "students", "studentUniqueId")]
    wanted = stored + [f"absent-{i}" for i in range(70_000)]
    alone, together = reader.fetch_many(
        [("students", {"studentUniqueId": wanted}), ("schools", {"schoolId": [SCHOOL_ID]})]
    )
    assert sorted(d["studentUniqueId"] for d in alone) == sorted(stored)
    assert [s["schoolId"] for s in together] == [SCHOOL_ID]
    assert len(reader.fetch("students", studentUniqueId=wanted)) == len(stored)
