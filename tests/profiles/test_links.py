"""Profiles and PostgreSQL: the OneRoster user link, assigned students, organization isolation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from .factories import make_profile, unique

READ_WRITE = ("profiles.read", "profiles.write")


def _user(db_session, role, **metadata):
    sourced_id = unique(f"user-{role}")
    db_session.execute(
        text(
            "INSERT INTO users (sourced_id, role, given_name, family_name, metadata) "
            "VALUES (:id, :role, 'Given', 'Family', CAST(:metadata AS jsonb))"
        ),
        {"id": sourced_id, "role": role, "metadata": json.dumps(metadata) if metadata else None},
    )
    return sourced_id


def _org(db_session, org_type="school", parent=None, identifier=None):
    sourced_id = unique(f"org-{org_type}")
    db_session.execute(
        text(
            "INSERT INTO organizations (sourced_id, name, type, parent_id, identifier) "
            "VALUES (:id, :name, :type, :parent, :identifier)"
        ),
        {
            "id": sourced_id,
            "name": f"Org {sourced_id}",
            "type": org_type,
            "parent": parent,
            "identifier": identifier,
        },
    )
    return sourced_id


@pytest.fixture
def headers(auth_headers):
    return auth_headers(scopes=READ_WRITE)


def test_read_includes_the_linked_oneroster_user(client, headers, db_session):
    profile_id = unique("profile")
    assert (
        client.post(
            "/profiles", json=make_profile(profile_id=profile_id), headers=headers
        ).status_code
        == 201
    )
    teacher = _user(db_session, "teacher", profile_id=profile_id)
    _user(db_session, "teacher", profile_id=unique("other-profile"))

    body = client.get(f"/profiles/{profile_id}", headers=headers).get_json()
    assert body["user_sourced_id"] == teacher

    listed = client.get(
        "/profiles", query_string={"email": body["email"]}, headers=headers
    ).get_json()
    assert listed["profiles"][0]["user_sourced_id"] == teacher


def test_students_assigned_must_be_oneroster_students(client, headers, db_session):
    students = [_user(db_session, "student"), _user(db_session, "student")]
    teacher = _user(db_session, "teacher")
    missing = unique("nobody")

    bad = client.post(
        "/profiles",
        json=make_profile(students_assigned=[students[0], teacher, missing]),
        headers=headers,
    )
    assert bad.status_code == 400
    assert set(bad.get_json()["details"]) == {"$.students_assigned[1]", "$.students_assigned[2]"}
    assert missing in bad.get_json()["details"]["$.students_assigned[2]"][0]

    good = client.post("/profiles", json=make_profile(students_assigned=students), headers=headers)
    assert good.status_code == 201
    url = f"/profiles/{good.get_json()['profile_id']}"
    assert (
        client.patch(url, json={"students_assigned": [missing]}, headers=headers).status_code == 400
    )
    assert client.get(url, headers=headers).get_json()["students_assigned"] == students


def test_a_client_sees_only_its_organizations_profiles(client, auth_headers, db_session):
    district = _org(db_session, "district")
    school_a = _org(db_session, parent=district)
    school_b = _org(db_session)
    district_client = auth_headers(edorgs=(district,), scopes=READ_WRITE)
    school_b_client = auth_headers(edorgs=(school_b,), scopes=READ_WRITE)
    everywhere = auth_headers(scopes=READ_WRITE)

    # A district reaches its schools.
    created = client.post(
        "/profiles", json=make_profile(school_id=school_a), headers=district_client
    )
    assert created.status_code == 201
    profile = created.get_json()
    url = f"/profiles/{profile['profile_id']}"

    outside = client.post(
        "/profiles", json=make_profile(school_id=school_a), headers=school_b_client
    )
    assert outside.status_code == 403
    # Another organization's profile is not there at all for this client, whatever the verb.
    assert client.get(url, headers=school_b_client).status_code == 404
    assert client.patch(url, json={"gender": "x"}, headers=school_b_client).status_code == 404
    assert (
        client.put(url, json=make_profile(school_id=school_b), headers=school_b_client).status_code
        == 404
    )
    assert client.delete(url, headers=school_b_client).status_code == 404
    by_school = client.get(
        "/profiles", query_string={"school_id": school_a}, headers=school_b_client
    )
    assert by_school.status_code == 403
    by_email = client.get(
        "/profiles", query_string={"email": profile["email"]}, headers=school_b_client
    )
    assert by_email.status_code == 200 and by_email.get_json()["profiles"] == []

    # Moving a profile to a school outside the client's reach is refused too.
    moved = client.patch(url, json={"school_id": school_b}, headers=district_client)
    assert moved.status_code == 403
    assert client.get(url, headers=everywhere).get_json()["school_id"] == school_a
    assert client.get(url, headers=district_client).status_code == 200


def _student_of(db_session, org):
    sourced_id = _user(db_session, "student")
    db_session.execute(
        text(
            "UPDATE users SET org_ids = jsonb_build_array(CAST(:org AS text)) "
            "WHERE sourced_id = :id"
        ),
        {"org": org, "id": sourced_id},
    )
    return sourced_id


def test_another_districts_student_is_refused_like_a_missing_one(client, auth_headers, db_session):
    """Issue 14, finding 5: no cross-tenant reference, and no oracle of the other's records."""
    school_a, school_b = _org(db_session), _org(db_session)
    own, theirs = _student_of(db_session, school_a), _student_of(db_session, school_b)
    missing = unique("nobody")
    limited = auth_headers(edorgs=(school_a,), scopes=READ_WRITE)
    created = client.post(
        "/profiles", json=make_profile(school_id=school_a, students_assigned=[own]), headers=limited
    )
    assert created.status_code == 201, created.get_json()
    url = f"/profiles/{created.get_json()['profile_id']}"

    answers = {}
    for sid in (theirs, missing):
        r = client.patch(url, json={"students_assigned": [own, sid]}, headers=limited)
        assert r.status_code == 400, r.get_json()
        body = r.get_json()
        answers[sid] = (
            body["message"],
            body["details"]["$.students_assigned[1]"][0].replace(sid, "X"),
        )
    assert answers[theirs] == answers[missing]
    r = client.post(
        "/profiles",
        json=make_profile(school_id=school_a, students_assigned=[theirs]),
        headers=limited,
    )
    assert r.status_code == 400
    assert client.get(url, headers=limited).get_json()["students_assigned"] == [own]
    # a client reaching both organizations may assign either
    everywhere = auth_headers(scopes=READ_WRITE)
    r = client.patch(url, json={"students_assigned": [own, theirs]}, headers=everywhere)
    assert r.status_code == 200, r.get_json()


def test_an_edfi_school_id_reaches_profiles_keyed_by_it(client, auth_headers, db_session):
    school_id = 880000000 + int(unique("n")[-6:], 16) % 1000000
    db_session.execute(
        text(
            "INSERT INTO schools (school_id, state_organization_id, name_of_institution) "
            "VALUES (:id, :state_id, 'Test School')"
        ),
        {"id": school_id, "state_id": str(school_id)},
    )
    edfi_client = auth_headers(edorgs=(str(school_id),), scopes=READ_WRITE)
    created = client.post(
        "/profiles", json=make_profile(school_id=str(school_id)), headers=edfi_client
    )
    assert created.status_code == 201
    listed = client.get(
        "/profiles", query_string={"school_id": str(school_id)}, headers=edfi_client
    )
    assert [p["profile_id"] for p in listed.get_json()["profiles"]] == [
        created.get_json()["profile_id"]
    ]
    # A different spelling of the same number is a different (OneRoster) name, outside reach.
    assert (
        client.post(
            "/profiles", json=make_profile(school_id=f"0{school_id}"), headers=edfi_client
        ).status_code
        == 403
    )


def test_the_linked_user_lookup_can_use_its_index(db_session):
    from gateway.profiles.links import LINKED_USERS

    db_session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = db_session.execute(
        text(f"EXPLAIN {LINKED_USERS.text}"), {"profile_ids": ["p-1", "p-2"]}
    ).scalars()
    assert "ix_users_metadata_profile_id" in "\n".join(plan)
