"""The Ed-Fi → OneRoster projection (creates, updates, deletes as tombstones, a user's agents
after an association goes) leaves every user and enrollment with the document the read path
builds (gateway.oneroster.documents)."""

from __future__ import annotations

from tests.mapping.test_propagation import STUDENT, body_of
from tests.oneroster.stored import assert_documents_current


def test_projection_keeps_documents_current(rostered, edfi, oneroster, db_session):
    assert_documents_current(db_session)
    renamed = {**body_of("students"), "firstName": "Lise"}
    assert edfi.put("students", rostered["students"], renamed).status_code == 204
    assert_documents_current(db_session)
    assert oneroster(f"/users/{STUDENT}")["user"]["givenName"] == "Lise"
    for resource in ("studentContactAssociations", "studentSectionAssociations"):
        assert edfi.delete(resource, rostered[resource]).status_code == 204
    assert_documents_current(db_session)
    assert oneroster(f"/users/{STUDENT}")["user"]["agents"] == []
    statuses = {e["status"] for e in oneroster("/enrollments?limit=1000")["enrollments"]}
    assert statuses == {"active", "tobedeleted"}  # the deleted association's tombstone
