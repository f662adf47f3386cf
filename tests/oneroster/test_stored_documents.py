"""Users' and enrollments' documents stored on their rows (gateway.oneroster.documents): always
the document the read path builds, whoever writes the row; a read after a write shows it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from gateway.oneroster.catalogue import catalogue
from gateway.oneroster.documents import STORED_TABLES, function_sql
from tests.oneroster.factories import BASE
from tests.oneroster.stored import assert_documents_current, stale_documents

MIGRATION = Path(__file__).parents[2] / "migrations/versions/sync_0001_stored_documents.py"


def _frozen_functions() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("sync_0001", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FUNCTIONS


def test_the_migration_froze_what_the_application_builds():
    """entities.json or the serializer changed: a new migration must replace the functions."""
    entities = {e.table.name: e for e in catalogue().entities.values()}
    built = {table: function_sql(entities[table]) for table in STORED_TABLES}
    assert _frozen_functions() == built


def test_rows_written_by_the_orm_have_their_documents(roster):
    assert_documents_current(roster)


def test_a_read_after_a_write_shows_the_new_value(roster, get):
    roster.execute(
        text(
            "UPDATE users SET org_ids = '[\"s2\", \"s1\"]', given_name = 'Zoë', "
            "date_last_modified = '2026-03-01T10:00:00.5Z' WHERE sourced_id = 'u-s1'"
        )
    )
    roster.execute(text("UPDATE enrollments SET role = 'aide', status = 'tobedeleted'"))
    assert_documents_current(roster)
    user = get("/users/u-s1").get_json()["user"]
    assert user["givenName"] == "Zoë"
    assert user["dateLastModified"] == "2026-03-01T10:00:00.500Z"
    assert [(o["sourcedId"], o["href"]) for o in user["orgs"]] == [
        ("s2", f"http://localhost{BASE}/orgs/s2"),
        ("s1", f"http://localhost{BASE}/orgs/s1"),
    ]
    listed = get("/users?filter=" + "givenName%3D'Zo%C3%AB'").get_json()["users"]
    assert listed == [user]
    enrollments = get("/enrollments?filter=status%3D'tobedeleted'").get_json()["enrollments"]
    assert enrollments and {e["role"] for e in enrollments} == {"aide"}


def test_values_that_could_pass_for_the_placeholder_are_built_as_read(roster, get):
    """U+0001 stands for the base URL in a stored document; a row whose values hold it, or the
    text `u0001` that JSON could print as `\\u0001`, keeps no document and reads as given."""
    given, family = "A\x01B", "C\\u0001D"
    metadata = {"href": "\x01x", "note": "u0001"}
    roster.execute(
        text(
            "UPDATE users SET given_name = :given, family_name = :family, metadata = :metadata "
            "WHERE sourced_id = 'u-s1'"
        ),
        {"given": given, "family": family, "metadata": json.dumps(metadata)},
    )
    stale = stale_documents(roster)
    assert stale == {"users": ["u-s1"], "enrollments": []}  # no document: built when read
    for response in (get("/users/u-s1"), get("/users?limit=100")):
        body = response.get_json()
        user = body.get("user") or next(u for u in body["users"] if u["sourcedId"] == "u-s1")
        assert (user["givenName"], user["familyName"], user["metadata"]) == (
            given,
            family,
            metadata,
        )
        assert user["orgs"][0]["href"] == f"http://localhost{BASE}/orgs/s1"
        assert "\x01" not in response.get_data(as_text=True)


@pytest.mark.as_owner  # disabling a trigger
def test_a_page_is_the_same_with_stored_and_built_documents(roster, get):
    stored = get("/users?limit=100").get_data()
    roster.execute(text("ALTER TABLE users DISABLE TRIGGER oneroster_document"))
    roster.execute(text("UPDATE users SET document = NULL"))  # as after a data-only restore
    assert get("/users?limit=100").get_data() == stored
