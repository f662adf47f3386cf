"""OneRoster usernames are unique: a person whose login another user holds gets their sourcedId as
username, whether one record is projected (the database decides in the write) or many at once."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.identifiers import sourced_id
from gateway.mapping.to_oneroster.project import Projector
from tests.edfi.conftest import student
from tests.mapping.conftest import SCHOOL_ID, bodies

FIRST = sourced_id("students", {"studentUniqueId": "604822"})
SECOND = sourced_id("students", {"studentUniqueId": "604823"})


def usernames(db_session) -> dict[str, str]:
    rows = db_session.execute(
        sa.text("SELECT sourced_id, username FROM users WHERE sourced_id IN (:a, :b)"),
        {"a": FIRST, "b": SECOND},
    )
    return dict(rows.tuples().all())


def second_with_login(login: str) -> dict:
    seoa = next(b for r, b in bodies() if r == "studentEducationOrganizationAssociations")
    return {
        **seoa,
        "studentReference": {"studentUniqueId": "604823"},
        "educationOrganizationReference": {"educationOrganizationId": SCHOOL_ID},
        "loginId": login,
    }


def test_a_login_another_user_holds_falls_back_to_the_sourced_id(edfi, rostered, db_session):
    edfi.create("students", student("604823", "Tom", "Woods"))
    assert usernames(db_session) == {FIRST: "lwoods", SECOND: "604823"}
    assert edfi.post("studentEducationOrganizationAssociations", second_with_login("lwoods"))
    assert usernames(db_session) == {FIRST: "lwoods", SECOND: SECOND}
    # a login nobody holds is taken as it is
    r = edfi.post("studentEducationOrganizationAssociations", second_with_login("twoods"))
    assert r.status_code == 200
    assert usernames(db_session) == {FIRST: "lwoods", SECOND: "twoods"}


def test_many_users_rebuilt_at_once_keep_the_same_usernames(edfi, rostered, db_session):
    edfi.create("students", student("604823", "Tom", "Woods"))
    edfi.create("studentEducationOrganizationAssociations", second_with_login("lwoods"))
    before = usernames(db_session)
    assert before == {FIRST: "lwoods", SECOND: SECOND}
    Projector(db_session).rebuild_all()
    assert usernames(db_session) == before
