"""Tenant isolation enforced by the database (compliance rule 2): with the application's filter out
of the way, PostgreSQL's row-level security still returns only the client's organizations' rows."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import create_engine, delete, func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from gateway.auth.access import compute_org_scope
from gateway.auth.row_security import ORG_IDS_SETTING, READER_ROLE
from gateway.oneroster import models as m
from gateway.oneroster import prepared, service
from gateway.oneroster.catalogue import catalogue
from gateway.oneroster.relations import reach_condition
from tests.oneroster.conftest import ids
from tests.oneroster.factories import BASE

REACH_LIMITED = sorted(name for name, e in catalogue().entities.items() if e.reach is not None)


def secured_ids(session: Session, entity_name: str, org_ids: frozenset[str] | None) -> list[str]:
    """Every sourcedId of the entity's table as a request's read sees it, with no filter of the
    application: only the database's row-level security can leave rows out."""
    table = catalogue().entities[entity_name].table
    row = prepared.fetch_row(
        session,
        ("test-row-security", entity_name),
        lambda: select(func.array_agg(table.c.sourced_id)),
        {},
        prepare=False,
        org_ids=org_ids,
    )
    assert row is not None
    return sorted(row[0] or [])


def application_ids(session: Session, entity_name: str, org_ids: frozenset[str]) -> list[str]:
    entity = catalogue().entities[entity_name]
    condition = reach_condition(entity, False, org_ids)
    return sorted(session.scalars(select(entity.table.c.sourced_id).where(condition)))


def test_every_table_of_organization_data_has_a_policy(db_session):
    enabled = dict(
        db_session.execute(
            text("SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r'")
        ).all()
    )
    policies = set(
        db_session.scalars(
            text("SELECT tablename FROM pg_policies WHERE :role = ANY(roles) AND cmd = 'SELECT'"),
            {"role": READER_ROLE},
        )
    )
    for name, entity in catalogue().entities.items():
        table = entity.table.name
        assert enabled[table] is (entity.reach is not None), name
        assert (table in policies) is (entity.reach is not None), name


@pytest.mark.parametrize(
    "names",
    [["s1"], ["S2"], ["d1"], ["d2"], ["s1", "s3"], ["no-such-org"]],
    ids=lambda names: "+".join(names),
)
def test_the_database_keeps_exactly_the_application_rows(roster, names):
    scope = compute_org_scope(roster, tuple(names))
    for entity_name in REACH_LIMITED:
        expected = application_ids(roster, entity_name, scope.sourced_ids)
        assert secured_ids(roster, entity_name, scope.sourced_ids) == expected, entity_name
    everything = secured_ids(roster, "user", None)
    assert len(secured_ids(roster, "user", scope.sourced_ids)) < len(everything)


def test_a_client_without_organizations_sees_every_row(roster):
    for entity_name in REACH_LIMITED:
        table = catalogue().entities[entity_name].table
        every = sorted(roster.scalars(select(table.c.sourced_id)))
        assert every and secured_ids(roster, entity_name, None) == every


def test_school_client_sees_one_school(roster):
    assert secured_ids(roster, "user", frozenset({"s2"})) == ["u-s6", "u-t2"]
    assert secured_ids(roster, "result", frozenset({"s1"})) == ["r1", "r2", "r3"]
    assert secured_ids(roster, "demographics", frozenset({"s3"})) == ["u-s7"]
    assert secured_ids(roster, "org", frozenset()) == []


def _without_reach(view, _kind, *, live=True):
    """service._bound_view_conditions less the organization condition (tombstone rule kept)."""
    return service._view_where(view) + (service._live(view.entity) if live else [])


@pytest.fixture
def without_app_filter(monkeypatch):
    """The application's organization filter dropped from every compiled read, as a bug might;
    statements compiled meanwhile are kept apart from the suite's cache."""
    monkeypatch.setattr(prepared, "_statements", {})
    monkeypatch.setattr(service, "_bound_view_conditions", _without_reach)


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("/users", "users", ["u-p1", "u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-t1"]),
        ("/students?filter=givenName%3D'Tom'", "users", []),
        ("/classes", "classes", ["k1", "k2"]),
        ("/enrollments?filter=role%3D'teacher'", "enrollments", ["e-t1-k1", "e-t1-k2"]),
        ("/demographics", "demographics", ["u-s1"]),
        ("/results", "results", ["r1", "r2", "r3"]),
        ("/schools/s1/students", "users", ["u-s1", "u-s2", "u-s3", "u-s4", "u-s5"]),
    ],
)
def test_requests_stay_in_the_school_without_the_app_filter(
    roster, client, auth_headers, without_app_filter, path, key, expected
):
    response = client.get(BASE + path, headers=auth_headers(edorgs=["s1"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ids(response, key) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    "path", ["/users/u-s7", "/classes/k3", "/results/r4", "/orgs/d2", "/schools/s3/students"]
)
def test_records_of_other_schools_are_not_found_without_the_app_filter(
    roster, client, auth_headers, without_app_filter, path
):
    assert client.get(BASE + path, headers=auth_headers(edorgs=["s1"])).status_code == 404


def test_unrestricted_client_without_the_app_filter_sees_every_school(
    roster, client, auth_headers, without_app_filter
):
    response = client.get(BASE + "/classes", headers=auth_headers())
    assert ids(response, "classes") == ["k1", "k2", "k3", "k4"]


@pytest.mark.parametrize(
    ("edorgs", "path", "key", "expected"),
    [
        (["d1"], "/schools/s1/students", "users", ["u-s1", "u-s2", "u-s3", "u-s4", "u-s5"]),
        (["d1"], "/schools/s2/teachers", "users", ["u-t2"]),
        (["d1"], "/schools/s2/classes", "classes", ["k3"]),
        (["d1"], "/schools/s1/courses", "courses", ["c1"]),
        (
            ["s1"],
            "/schools/s1/enrollments?filter=role%3D'teacher'",
            "enrollments",
            ["e-t1-k1", "e-t1-k2"],
        ),
        (["d1"], "/schools/s1/classes/k1/students", "users", ["u-s1", "u-s2", "u-s3"]),
    ],
)
def test_a_school_path_reads_that_school_only(
    roster, client, auth_headers, edorgs, path, key, expected
):
    response = client.get(BASE + path, headers=auth_headers(edorgs=edorgs))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert ids(response, key) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize("path", ["/schools/s3/students", "/schools/s2/classes"])
def test_a_school_path_outside_the_reach_is_not_found(roster, client, auth_headers, path):
    response = client.get(BASE + path, headers=auth_headers(edorgs=["s1"]))
    assert response.status_code == 404


_WHO = select(literal_column("current_user"), func.current_setting(ORG_IDS_SETTING, True))


def _who(session: Session, org_ids: frozenset[str] | None) -> tuple:
    row = prepared.fetch_row(
        session, ("test-who",), lambda: _WHO, {}, prepare=True, org_ids=org_ids
    )
    assert row is not None
    return tuple(row)


def test_the_setting_ends_with_the_read_inside_a_transaction(db_session):
    me = db_session.scalar(text("SELECT current_user"))
    assert _who(db_session, frozenset({"s1", 'a "quoted", name'})) == (
        READER_ROLE,
        '{"a \\"quoted\\", name",s1}',
    )
    # The transaction goes on as the connection's own role: it can write again.
    assert db_session.execute(text("SELECT current_user")).scalar() == me
    assert not db_session.scalar(text(f"SELECT current_setting('{ORG_IDS_SETTING}', true)"))
    db_session.add(m.Organization(sourced_id="o-after", name="After", type="school"))
    db_session.flush()


def test_a_lone_read_leaves_nothing_on_its_pooled_connection(database_url):
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with Session(engine) as session:
            backend = session.scalar(text("SELECT pg_backend_pid()"))
            session.rollback()
            assert not session.in_transaction()  # the read takes the lone, autocommit path
            assert _who(session, frozenset({"s1"})) == (READER_ROLE, "{s1}")
            me, setting = _who(session, None)  # the next request, on the same connection
            assert me != READER_ROLE and not setting
            assert session.scalar(text("SELECT pg_backend_pid()")) == backend
            session.rollback()
    finally:
        engine.dispose()


def test_a_failed_read_keeps_no_role_in_the_transaction(db_session):
    me = db_session.scalar(text("SELECT current_user"))
    savepoint = db_session.begin_nested()
    failing = select(func.to_date(literal_column("'not a date'"), "YYYY-MM-DD"))
    with pytest.raises(psycopg.errors.InvalidDatetimeFormat):
        prepared.fetch_row(
            db_session, ("test-failing",), lambda: failing, {}, prepare=False, org_ids=frozenset()
        )
    savepoint.rollback()  # as the request's teardown rolls back its transaction
    assert db_session.scalar(text("SELECT current_user")) == me
    db_session.add(m.Organization(sourced_id="o-after-error", name="After", type="school"))
    db_session.flush()


def test_lone_requests_of_a_school_client_read_committed_rows_of_its_school(test_config):
    """Outside the tests' transaction, as `gateway serve` runs: a restricted client's reads take
    the lone autocommit path with the reader role, and the next client on the app's pooled
    connections is not limited by it."""
    from gateway.auth.clients import create_client, find_active
    from gateway.auth.tokens import issue_token
    from gateway.db import get_session
    from tests.oneroster.live import close, live_app

    app = live_app(test_config)
    engine = app.extensions["gateway.db"].engine
    tag = uuid.uuid4().hex[:8]
    mine, theirs = f"lone-s-{tag}", f"lone-o-{tag}"
    with engine.begin() as connection:
        for org in (mine, theirs):
            connection.execute(
                insert(m.Organization).values(sourced_id=org, name=org, type="school")
            )
            connection.execute(
                insert(m.User).values(
                    sourced_id=f"u-{org}",
                    role="student",
                    given_name="A",
                    family_name="B",
                    username=f"u-{org}",
                    enabled_user=True,
                    org_ids=[org],
                )
            )
    headers, client_ids = {}, []
    with app.app_context():
        session = get_session()
        for label, orgs in (("school", [mine]), ("all", [])):
            created, _ = create_client(
                session,
                name=f"lone-{label}",
                education_organization_ids=orgs,
                all_organizations=not orgs,
            )
            token = issue_token(
                session, find_active(session, created.key), list(created.scopes), 60
            )
            headers[label] = {"Authorization": f"Bearer {token}"}
            client_ids.append(created.id)
        session.commit()
    try:
        client = app.test_client()
        wanted = "/users?filter=" + quote(f"username~'{tag}'")
        for _ in range(2):  # the second time with the token cached: the read is the only query
            response = client.get(BASE + wanted, headers=headers["school"])
            assert ids(response, "users") == [f"u-{mine}"]
            assert (
                client.get(BASE + f"/users/u-{theirs}", headers=headers["school"]).status_code
                == 404
            )
            response = client.get(BASE + wanted, headers=headers["all"])
            assert ids(response, "users") == sorted([f"u-{mine}", f"u-{theirs}"])
    finally:
        with engine.begin() as connection:
            connection.execute(delete(m.User).where(m.User.sourced_id.like(f"u-lone-%-{tag}")))
            connection.execute(
                delete(m.Organization).where(m.Organization.sourced_id.in_([mine, theirs]))
            )
        for client_id in client_ids:
            close(app, client_id)


@pytest.fixture
def both_districts(roster):
    """The roster with a row of every organization-limited table in each district (d2's
    result is added here: the factory's are all d1's)."""
    from datetime import date

    roster.add(
        m.Result(
            sourced_id="r-d2",
            line_item_sourced_id="li4",
            student_sourced_id="u-s7",
            score_status="fully graded",
            score=5,
            score_date=date(2025, 9, 20),
        )
    )
    roster.flush()
    return roster


def test_every_limited_table_holds_rows_of_both_districts(both_districts):
    """What the isolation tests compare is never empty (issue 14, finding 8)."""
    d1, d2 = (compute_org_scope(both_districts, (n,)).sourced_ids for n in ("d1", "d2"))
    for entity_name in REACH_LIMITED:
        first = application_ids(both_districts, entity_name, d1)
        second = application_ids(both_districts, entity_name, d2)
        assert first and second, entity_name
        assert not set(first) & set(second), entity_name


@pytest.mark.parametrize("names", [["d1"], ["d2"], ["s1"]], ids="+".join)
def test_every_limited_collection_reads_the_same_through_the_api_and_rls_alone(
    both_districts, client, auth_headers, monkeypatch, names
):
    """Through OneRoster REST each client reads exactly its organizations' rows of every
    organization-limited collection: with the application filter, and with it removed."""
    scope = compute_org_scope(both_districts, tuple(names))
    headers = auth_headers(edorgs=names)
    expected = {e: application_ids(both_districts, e, scope.sourced_ids) for e in REACH_LIMITED}

    def read_all() -> dict[str, list[str]]:
        out = {}
        for entity_name in REACH_LIMITED:
            collection = catalogue().entities[entity_name].collection
            response = client.get(f"{BASE}/{collection}?limit=1000", headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            out[entity_name] = sorted(ids(response, collection))
        return out

    assert read_all() == expected
    monkeypatch.setattr(prepared, "_statements", {})
    monkeypatch.setattr(service, "_bound_view_conditions", _without_reach)
    assert read_all() == expected
