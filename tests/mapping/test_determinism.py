"""The same Ed-Fi input loaded into two empty databases gives the same OneRoster sourcedIds,
whatever the order of the records, and no sourcedId is shared by two entity types."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.app import create_app
from gateway.db import Database
from gateway.edfi.descriptors import load_descriptors
from gateway.edfi.interchange import Record
from gateway.edfi.loader import LoadReport, load_records
from gateway.paths import DESCRIPTORS_DIR
from tests.conftest import TestConfig, recreate_database
from tests.mapping.conftest import bodies

TABLES = (
    "organizations",
    "users",
    "academic_sessions",
    "oneroster_courses",
    "classes",
    "enrollments",
    "categories",
    "line_items",
    "results",
)


def load_into_fresh_database(pg_server_url, dynamodb_endpoint, name, records) -> dict[str, list]:
    url = recreate_database(pg_server_url, name)
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    try:
        app = create_app(TestConfig(url, dynamodb_endpoint), database=Database(engine))
        with app.app_context(), Session(engine) as session:
            load_descriptors(session, DESCRIPTORS_DIR)
            report = LoadReport()
            load_records(session, records, report)
            assert report.rejected == []
            return {
                t: sorted(session.scalars(sa.text(f"SELECT sourced_id FROM {t}"))) for t in TABLES
            }
    finally:
        engine.dispose()
        recreate_database(pg_server_url, name)  # leave nothing behind


@pytest.mark.timeout(600)
def test_two_empty_databases_give_the_same_sourced_ids(pg_server_url, dynamodb_endpoint):
    records = [Record(r, b, f"test {r}") for r, b in bodies()]
    first = load_into_fresh_database(pg_server_url, dynamodb_endpoint, "gateway_mapping_a", records)
    second = load_into_fresh_database(
        pg_server_url, dynamodb_endpoint, "gateway_mapping_b", list(reversed(records))
    )
    assert first == second
    assert all(first[t] for t in TABLES)
    every = [sid for t in TABLES for sid in first[t]]
    assert len(every) == len(set(every)), "a sourcedId is shared across entity types"
