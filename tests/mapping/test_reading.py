"""The projection reads several queries in one statement (rows as JSON): the documents are the
ones a query of its own gives, for every resource the mapping reads."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.mapping.reading import EdFiReader
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
