"""Tenant isolation of Ed-Fi reads enforced by the database (compliance rule 2): with the
application's filter out of the way, PostgreSQL's row-level security (migration rls_0002) still
returns only the rows of the client's education organizations."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope, compute_org_scope
from gateway.auth.row_security import (
    EDFI_POLICIES,
    EDORG_IDS_SETTING,
    READER_ROLE,
    within_reach,
)
from gateway.edfi import claim_sets
from gateway.edfi.claim_sets import LEGACY_CLAIM_SET
from gateway.edfi.definitions import registry
from gateway.edfi.security import RELATIONSHIPS, Authorizer, rules
from tests.edfi import governed
from tests.edfi.conftest import EdFi, enrollment, session_body, student

GOVERNED = sorted(rules())
# the resources governed.fill writes records of (every governed one) that the clients here (the
# legacy claim set) read by their relationships to organizations, which the database enforces too
# (the others, such as assessments, by namespace: gateway.edfi.security.Authorizer.reach)
FILLED = [
    r
    for r in GOVERNED
    if any(
        s.startswith(RELATIONSHIPS)
        for s in claim_sets.strategies(LEGACY_CLAIM_SET, registry().resources[r], "Read") or ()
    )
]
EVERYONE = OrgScope(True, frozenset(), frozenset())


@pytest.fixture
def reach(edfi, district, auth_headers) -> dict:
    """Two LEAs (conftest `district`) with students, contacts, staff and sessions, written by a
    district-wide client; one session of each LEA deleted (a tombstone each)."""
    ids = district()
    for unique_id, school_id in (
        ("720001", 255901001),
        ("720002", 255902001),
        ("720003", 255901107),
    ):
        edfi.create("students", student(unique_id))
        edfi.create("studentSchoolAssociations", enrollment(unique_id, school_id))
    edfi.create("students", student("720004"))  # no school yet: nobody's
    for contact, of in (("C1", "720001"), ("C2", "720002"), ("C3", None)):
        edfi.create("contacts", {"contactUniqueId": contact, "firstName": "Mo", "lastSurname": "N"})
        if of is not None:
            edfi.create(
                "studentContactAssociations",
                {
                    "studentReference": {"studentUniqueId": of},
                    "contactReference": {"contactUniqueId": contact},
                },
            )
    for staff, edorg in (("S1", 255901107), ("S2", 255902001)):
        edfi.create("staffs", {"staffUniqueId": staff, "firstName": "Ann", "lastSurname": "L"})
        edfi.create(
            "staffEducationOrganizationAssignmentAssociations",
            {
                "staffReference": {"staffUniqueId": staff},
                "educationOrganizationReference": {"educationOrganizationId": edorg},
                "staffClassificationDescriptor": (
                    "uri://ed-fi.org/StaffClassificationDescriptor#Teacher"
                ),
                "beginDate": "2021-08-01",
            },
        )
    for school_id in (255901001, 255902001):
        edfi.create("sessions", session_body(school_id))
        gone = edfi.create("sessions", session_body(school_id, name="Gone"))
        assert edfi.delete("sessions", gone).status_code == 204
        ids[f"gone-{school_id}"] = gone
    for unique_id in ("720001", "720002", "720004"):
        found = edfi.get("students", query_string={"studentUniqueId": unique_id}).get_json()
        ids[unique_id] = found[0]["id"]
    return ids


@pytest.fixture
def everything(edfi, reach) -> dict:
    """`reach` plus a record of every governed resource in each LEA (tests/edfi/governed.py)."""
    governed.fill(edfi)
    return reach


def secured(session: Session, scope: OrgScope, sql: str) -> list:
    """The rows of a raw statement (no application filter) as a request of `scope` reads them."""
    with within_reach(session, scope, EDFI_POLICIES) as limited:
        rows = sorted(session.scalars(text(sql)))
    assert limited is not scope.unrestricted
    return rows


def application(session: Session, scope: OrgScope, resource: str) -> list:
    res = registry().resources[resource]
    where = Authorizer(registry(), scope).collection_filter(res)
    assert where is not None
    return sorted(session.scalars(select(res.table.c.id).where(where)))


def test_every_governed_table_has_a_policy_and_descriptors_none(db_session):
    enabled = dict(db_session.execute(text("SELECT relname, relrowsecurity FROM pg_class")).all())
    policies = set(
        db_session.scalars(
            text("SELECT tablename FROM pg_policies WHERE :role = ANY(roles) AND cmd = 'SELECT'"),
            {"role": READER_ROLE},
        )
    )
    for resource in GOVERNED:
        table = registry().resources[resource].table.name
        assert enabled[table] and table in policies, resource
    assert enabled["edfi_tracked_changes"] and "edfi_tracked_changes" in policies
    assert not enabled["descriptors"] and "descriptors" not in policies


# Whose reads the isolation tests compare (one `everything` for all: it writes ~500 records): a
# school, a school without records, each LEA, schools of both, nobody's, and one world's every
# kind of organization (community providers, networks … : governed.WORLDS).
READERS = [
    ("255901001",),
    ("255901107",),
    ("255901",),
    ("255902",),
    ("255901107", "255902001"),
    ("9",),
    governed.WORLDS[0].organization_ids(),
]


def test_the_database_keeps_exactly_the_application_rows(db_session, everything):
    for names in READERS:
        scope = compute_org_scope(db_session, names)
        for resource in FILLED:
            res = registry().resources[resource]
            expected = application(db_session, scope, resource)
            # the reach a request sets for this read (organizations above it for inverted reads)
            reach = Authorizer(registry(), scope).reach(res)
            assert secured(db_session, reach, f"SELECT id FROM {res.table.name}") == expected, (
                names,
                resource,
            )


def test_every_governed_table_holds_rows_of_both_organizations(db_session, everything):
    """What the other isolation tests compare is never empty, and never the same rows: each
    organization (its LEA, school, and other kinds of organization: governed.WORLDS) has rows of
    every governed resource, and none of the other's."""
    lea1, lea2 = (compute_org_scope(db_session, w.organization_ids()) for w in governed.WORLDS)
    for resource in FILLED:
        first, second = (
            application(db_session, lea1, resource),
            application(db_session, lea2, resource),
        )
        assert first and second, resource
        assert not set(first) & set(second), resource


def _ids_through_the_api(api: EdFi, resource: str) -> list:
    response = api.get(resource, query_string={"limit": 500})
    assert response.status_code == 200, (resource, response.get_json())
    return sorted(uuid.UUID(d["id"]) for d in response.get_json())


def test_every_governed_resource_reads_the_same_through_the_api_and_rls_alone(
    db_session, everything, edfi, auth_headers, monkeypatch
):
    """Each client reads, through the API, exactly its organizations' rows of every governed
    resource: with the application filter, and with it removed (row-level security alone)."""
    readers = [("255901",), ("255902",), ("255901001",), governed.WORLDS[1].organization_ids()]
    expected, apis = {}, {}
    for names in readers:
        scope = compute_org_scope(db_session, names)
        apis[names] = EdFi(edfi.client, auth_headers(edorgs=names, name="+".join(names)))
        expected[names] = {
            resource: application(db_session, scope, resource) for resource in FILLED
        }
        assert all(expected[names][r] for r in ("students", "sections", "calendarDates")), names
    for names in readers:
        for resource in FILLED:
            got = _ids_through_the_api(apis[names], resource)
            assert got == expected[names][resource], (names, resource)
    monkeypatch.setattr(Authorizer, "unrestricted", property(lambda self: True))
    for names in readers:
        for resource in FILLED:
            got = _ids_through_the_api(apis[names], resource)
            assert got == expected[names][resource], (names, resource)


@pytest.mark.parametrize(
    ("names", "table", "column", "expected"),
    [
        (["255901001"], "schools", "school_id", [255901001]),  # its own column
        (["255901"], "local_education_agencies", "local_education_agency_id", [255901]),
        (["255901001"], "students", "student_unique_id", ["720001"]),  # via an association
        (["255901"], "students", "student_unique_id", ["720001", "720003"]),
        (["255902"], "staffs", "staff_unique_id", ["S2"]),
        (["255901001"], "contacts", "contact_unique_id", ["C1"]),  # via two associations
        (["255901107"], "contacts", "contact_unique_id", []),
        (["9"], "students", "student_unique_id", []),
    ],
)
def test_a_limited_client_reads_its_organizations_rows_only(
    db_session, reach, names, table, column, expected
):
    scope = compute_org_scope(db_session, tuple(names))
    assert secured(db_session, scope, f"SELECT {column} FROM {table}") == expected


def test_tombstones_keep_the_organizations_of_their_record(db_session, reach):
    # ids in the ODS form (32 hex characters), as the API writes them
    sql = "SELECT replace(id::text, '-', '') FROM edfi_tracked_changes WHERE resource = 'sessions'"
    scope = compute_org_scope(db_session, ("255902",))
    assert secured(db_session, scope, sql) == [reach["gone-255902001"]]


def test_a_client_without_organizations_reads_every_row(db_session, reach):
    every = sorted(db_session.scalars(text("SELECT student_unique_id FROM students")))
    assert every == ["720001", "720002", "720003", "720004"]
    assert secured(db_session, EVERYONE, "SELECT student_unique_id FROM students") == every


def test_descriptors_stay_readable_under_any_reach(db_session, reach):
    count = "SELECT count(*) FROM descriptors"
    every = db_session.scalar(text(count))
    assert every > 0
    assert secured(db_session, compute_org_scope(db_session, ("9",)), count) == [every]


_WHO = f"SELECT current_user, current_setting('{EDORG_IDS_SETTING}', true)"


def test_the_reach_ends_with_the_block_inside_a_transaction(db_session, reach):
    me = db_session.scalar(text("SELECT current_user"))
    scope = compute_org_scope(db_session, ("255901",))
    with within_reach(db_session, scope, EDFI_POLICIES):
        assert tuple(db_session.execute(text(_WHO)).one()) == (
            READER_ROLE,
            "{255901,255901001,255901107}",
        )
    assert tuple(db_session.execute(text(_WHO)).one()) in ((me, ""), (me, None))
    # the connection's own role again: the transaction may write (the reader may not)
    db_session.execute(text("UPDATE schools SET web_site = 'https://after.example'"))


def test_the_reach_does_not_outlive_its_transaction(database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    scope = OrgScope(False, frozenset({255901001}), frozenset({"s1"}))
    try:
        with Session(engine) as session:
            backend = session.scalar(text("SELECT pg_backend_pid()"))
            session.rollback()
            # a statement fails inside the block: the reach is left to the transaction's end
            with pytest.raises(DBAPIError), within_reach(session, scope, EDFI_POLICIES):
                assert session.execute(text(_WHO)).one()[0] == READER_ROLE
                session.execute(text("SELECT 1/0"))
            session.rollback()
            for _ in range(2):  # the next transactions, on the same pooled connection
                me, setting = session.execute(text(_WHO)).one()
                assert me != READER_ROLE and not setting
                assert session.scalar(text("SELECT pg_backend_pid()")) == backend
                with within_reach(session, scope, EDFI_POLICIES):
                    assert session.execute(text(_WHO)).one()[0] == READER_ROLE
                session.commit()
    finally:
        engine.dispose()


@pytest.fixture
def without_app_filter(monkeypatch):
    """The application's education-organization filter gone, as a bug might lose it: every
    Authorizer believes its client reaches every organization."""
    monkeypatch.setattr(Authorizer, "unrestricted", property(lambda self: True))


def _lea1(edfi, auth_headers) -> EdFi:
    return EdFi(edfi.client, auth_headers(edorgs=("255901",), name="lea1"))


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("students?totalCount=true", "studentUniqueId", ["720001", "720003"]),
        ("students?lastSurname=Woods", "studentUniqueId", ["720001", "720003"]),
        ("contacts", "contactUniqueId", ["C1"]),
        ("staffs", "staffUniqueId", ["S1"]),
        ("schools", "schoolId", [255901001, 255901107]),
        ("studentSchoolAssociations", "entryDate", ["2021-08-23", "2021-08-23"]),
    ],
)
def test_requests_stay_in_reach_without_the_app_filter(
    edfi, reach, auth_headers, without_app_filter, path, key, expected
):
    response = _lea1(edfi, auth_headers).get(path)
    assert response.status_code == 200, response.get_json()
    assert sorted(d[key] for d in response.get_json()) == expected
    if "totalCount" in path:
        assert response.headers["Total-Count"] == str(len(expected))


def test_records_out_of_reach_are_refused_without_the_app_filter(
    edfi, reach, auth_headers, without_app_filter
):
    lea1 = _lea1(edfi, auth_headers)
    assert lea1.get(f"students/{reach['720001']}").status_code == 200
    for other in (reach["720002"], reach["720004"], reach[255902001]):
        resource = "schools" if other == reach[255902001] else "students"
        response = lea1.get(f"{resource}/{other}")
        assert response.status_code == 403, response.get_json()
    missing = lea1.get("students/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    deletes = lea1.get("sessions/deletes").get_json()
    assert [d["id"] for d in deletes] == [reach["gone-255901001"]]


def test_partitions_cover_the_reach_only_without_the_app_filter(
    edfi, reach, auth_headers, without_app_filter
):
    lea1 = _lea1(edfi, auth_headers)
    tokens = lea1.get("students/partitions?number=2").get_json()["pageTokens"]
    seen = []
    for token in tokens:
        page = lea1.get("students", query_string={"pageToken": token, "pageSize": 10})
        seen += [d["studentUniqueId"] for d in page.get_json()]
    assert sorted(seen) == ["720001", "720003"]


def test_an_unrestricted_client_reads_everything_without_the_app_filter(
    edfi, reach, without_app_filter
):
    students = edfi.get("students").get_json()
    assert sorted(d["studentUniqueId"] for d in students) == [
        "720001",
        "720002",
        "720003",
        "720004",
    ]


def test_links_to_records_out_of_reach_are_kept(edfi, reach, auth_headers):
    """A school's client reads its school's link to its LEA (which it may not read itself) as it
    did before the database limited its reads: links come from the record's references."""
    school_client = EdFi(edfi.client, auth_headers(edorgs=("255901001",), name="school"))
    link = f"/ed-fi/localEducationAgencies/{reach[255901]}"
    one = school_client.get(f"schools/{reach[255901001]}").get_json()
    assert one["localEducationAgencyReference"]["link"]["href"] == link
    (listed,) = school_client.get("schools").get_json()
    assert listed["localEducationAgencyReference"]["link"]["href"] == link
    assert school_client.get(f"localEducationAgencies/{reach[255901]}").status_code == 403


def test_an_inverted_read_reaches_up_in_the_database_too(db_session, edfi, reach):
    """The organizations above the client's reach the database only for a read an inverted
    strategy authorizes (courses): the LEA's course, never another LEA's nor a sibling's."""
    from dataclasses import replace

    from tests.edfi.test_claim_sets import _course

    for code, edorg in (("LEA", 255901), ("OTHER", 255902), ("SIB", 255901107)):
        edfi.create("courses", _course(code, edorg))
    scope = compute_org_scope(db_session, ("255901001",))
    assert scope.edfi_ancestor_ids == {255901}
    sql = "SELECT course_code FROM courses WHERE course_code IN ('LEA', 'OTHER', 'SIB')"
    assert secured(db_session, scope, sql) == ["LEA"]
    assert secured(db_session, replace(scope, edfi_ancestor_ids=frozenset()), sql) == []
