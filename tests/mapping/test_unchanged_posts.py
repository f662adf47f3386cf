"""A POST that stores the document already there is not projected again; any other write is.

The Ed-Fi upsert reports whether the row it replaced held the same document, and the projection
skips rebuilding the OneRoster records of such a write: their inputs did not change."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from gateway.edfi import service as service_module
from gateway.edfi.service import WriteEvent
from gateway.mapping.identifiers import sourced_id
from gateway.mapping.origin import EDFI_FROM_ONEROSTER
from gateway.mapping.to_oneroster.project import PENDING, on_edfi_write
from tests.mapping.conftest import SECTION, bodies

STUDENT = sourced_id("students", {"studentUniqueId": "604822"})
ENROLLMENT = sourced_id(
    "studentSectionAssociations",
    {**SECTION, "studentUniqueId": "604822", "beginDate": "2021-08-23"},
)


def body_of(resource: str) -> dict:
    return next(b for r, b in bodies() if r == resource)


@pytest.fixture
def statements(monkeypatch) -> Iterator[list[str]]:
    """Every SQL statement the test's requests send, in order: read at the driver, which both
    SQLAlchemy and the write path's precompiled statements (gateway.precompiled) go through."""
    seen: list[str] = []
    execute = psycopg.Cursor.execute

    def record(self, query, params=None, **kwargs):
        seen.append(query if isinstance(query, str) else str(query))
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", record)
    yield seen


@pytest.fixture
def events() -> Iterator[list[WriteEvent]]:
    seen: list[WriteEvent] = []
    service_module.WRITE_LISTENERS.append(lambda _session, event: seen.append(event))
    yield seen
    service_module.WRITE_LISTENERS.pop()


def writes_to(statements: list[str], table: str) -> bool:
    return any(f"INSERT INTO {table.upper()} " in s.upper() for s in statements)


def test_the_upsert_tells_an_identical_document_from_a_changed_or_new_one(edfi, rostered, events):
    student = body_of("students")
    assert edfi.post("students", student).status_code == 200
    assert edfi.post("students", {**student, "firstName": "Lise"}).status_code == 200
    assert edfi.post("students", {**student, "firstName": "Lise"}).status_code == 200
    other = {**student, "studentUniqueId": "604823"}
    assert edfi.post("students", other).status_code == 201
    # a property left out is a change too (POST replaces the whole document)
    assert (
        edfi.post("students", {k: v for k, v in other.items() if k != "birthCity"}).status_code
        == 200
    )
    assert [(e.resource, e.unchanged, e.origin) for e in events] == [
        ("students", True, "edfi"),
        ("students", False, "edfi"),
        ("students", True, "edfi"),
        ("students", False, "edfi"),
        ("students", False, "edfi"),
    ]


def test_an_identical_post_is_not_projected_and_a_changed_one_is(
    edfi, rostered, oneroster, statements
):
    student = body_of("students")
    before = oneroster(f"/users/{STUDENT}")["user"]
    statements.clear()
    assert edfi.post("students", student).status_code == 200
    assert not any("users" in s or "mapping_links" in s for s in statements)
    assert oneroster(f"/users/{STUDENT}")["user"] == before

    statements.clear()
    assert edfi.post("students", {**student, "firstName": "Lise"}).status_code == 200
    assert writes_to(statements, "users") and writes_to(statements, "demographics")
    assert oneroster(f"/users/{STUDENT}")["user"]["givenName"] == "Lise"

    # back to the first document after an identical repost of the changed one: projected again
    assert edfi.post("students", {**student, "firstName": "Lise"}).status_code == 200
    assert edfi.post("students", student).status_code == 200
    assert oneroster(f"/users/{STUDENT}")["user"]["givenName"] == "Lisa"


def test_an_identical_association_is_not_projected_and_a_changed_one_is(
    edfi, rostered, oneroster, statements
):
    association = body_of("studentSectionAssociations")
    statements.clear()
    assert edfi.post("studentSectionAssociations", association).status_code == 200
    assert not writes_to(statements, "enrollments")
    statements.clear()
    changed = {**association, "endDate": "2021-12-17"}
    assert edfi.post("studentSectionAssociations", changed).status_code == 200
    assert writes_to(statements, "enrollments")
    assert oneroster(f"/enrollments/{ENROLLMENT}")["enrollment"]["endDate"] == "2021-12-17"


def test_an_identical_student_gradebook_entry_is_still_projected(edfi, rostered, statements):
    """A result's scoreDate may come from the entry's _lastModifiedDate, which every POST moves."""
    statements.clear()
    assert (
        edfi.post("studentGradebookEntries", body_of("studentGradebookEntries")).status_code == 200
    )
    assert writes_to(statements, "results")


@pytest.mark.parametrize(
    ("resource", "unchanged", "origin", "projected"),
    [
        ("students", True, "edfi", False),
        ("students", False, "edfi", True),
        # a row born in OneRoster: its OneRoster record is re-derived by any Ed-Fi write
        ("students", True, EDFI_FROM_ONEROSTER, True),
        ("studentGradebookEntries", True, "edfi", True),
    ],
)
def test_which_writes_are_queued_for_projection(db_session, resource, unchanged, origin, projected):
    db_session.info.pop(PENDING, None)
    event = WriteEvent(resource, "upsert", uuid.uuid4(), {}, unchanged=unchanged, origin=origin)
    on_edfi_write(db_session, event)
    assert bool(db_session.info.pop(PENDING, None)) is projected
