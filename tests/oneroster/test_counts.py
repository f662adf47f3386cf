"""Stored collection counts (oneroster_0002): X-Total-Count of whole collections stays exact under
every kind of write, and only requests whose rows are the whole view read the stored figure."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select, text

from gateway.auth.access import compute_org_scope
from gateway.oneroster.catalogue import catalogue
from gateway.oneroster.counts import COUNTED, org_keys
from gateway.oneroster.relations import reach_condition
from gateway.retention import purge_tombstones
from tests.csv.conftest import do_import, write_package  # noqa: F401  (fixture)
from tests.csv.district import district
from tests.edfi.conftest import descriptors_loaded, edfi  # noqa: F401  (fixtures)
from tests.mapping.conftest import bodies
from tests.oneroster.conftest import ids

WHOLE_VIEWS = (
    "users", "students", "teachers", "orgs", "schools", "academicSessions", "terms",
    "gradingPeriods", "courses", "classes", "enrollments", "demographics", "resources",
    "categories", "lineItems", "results",
)  # fmt: skip


def real_total(session, view_name: str) -> int:
    view = catalogue().views[view_name]
    where = " AND ".join(
        f"{view.entity.fields[k].column_name} = '{v}'" for k, v in view.where.items()
    )
    if view.entity.deleted_in_delta_only:  # plain reads leave tombstones out
        where = " AND ".join(filter(None, [where, "status <> 'tobedeleted'"]))
    table = view.entity.table.name
    return session.execute(text(f"SELECT count(*) FROM {table} WHERE {where or 'true'}")).scalar()


def assert_totals_exact(session, get, views=WHOLE_VIEWS) -> None:
    for name in views:
        total = int(get(f"/{name}?limit=1").headers["X-Total-Count"])
        assert total == real_total(session, name), name


def _as_text(column: str | None) -> str:
    return f"coalesce({column}::text, '')" if column else "''"


def assert_stored_exact(connection) -> None:
    """Every stored figure equals count(*) per table, discriminator and organization key."""
    for table, column in COUNTED.items():
        keys = f"{_as_text(column)}, {_as_text(org_keys().get(table))}"
        actual = {
            (d, k): n
            for d, k, n in connection.execute(
                text(f"SELECT {keys}, count(*) FROM {table} GROUP BY 1, 2")
            )
        }
        stored = {
            (d, k): n
            for d, k, n in connection.execute(
                text(
                    "SELECT discriminator, org_key, sum(n) FROM oneroster_counts "
                    "WHERE table_name = :t GROUP BY 1, 2 HAVING sum(n) <> 0"
                ),
                {"t": table},
            )
        }
        assert stored == actual, table


def test_triggers_count_what_the_typed_views_select_on(db_session):
    rows = db_session.execute(
        text(
            "SELECT c.relname, t.tgname, encode(t.tgargs, 'escape') FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE 'oneroster_count_%'"
        )
    ).all()
    arguments = {(table, name): args.split("\\000")[:-1] for table, name, args in rows}
    for table, column in COUNTED.items():
        key = org_keys().get(table)
        expected = [column or "", key] if key else [column] if column else []
        assert arguments[(table, "oneroster_count_insert")] == expected, table
        assert arguments[(table, "oneroster_count_delete")] == expected, table
        assert (table, "oneroster_count_truncate") in arguments
        assert ((table, "oneroster_count_update") in arguments) == bool(column or key)
    for view in catalogue().views.values():  # a typed view of a counted table is counted by type
        if view.where:
            columns = {view.entity.fields[k].column_name for k in view.where}
            assert columns == {COUNTED[view.entity.table.name]}, view.name


def test_a_statement_changing_no_row_appends_no_figure(db_session):
    """An upsert fires the INSERT and the UPDATE statement triggers whatever it did: the one
    whose transition table is empty appends nothing (push_0001 returns before the delta)."""

    def appended() -> int:
        return db_session.execute(text("SELECT count(*) FROM oneroster_counts")).scalar_one()

    upsert = text(
        "INSERT INTO users (sourced_id, role, org_ids, username) "
        "VALUES ('u-empty-1', 'student', '[]', 'u-empty-1') "
        "ON CONFLICT (sourced_id) DO UPDATE SET role = EXCLUDED.role "
        "WHERE users.role IS DISTINCT FROM EXCLUDED.role"
    )
    before = appended()
    db_session.execute(upsert)  # inserted: one figure, none from the UPDATE trigger
    assert appended() == before + 1
    db_session.execute(upsert)  # neither inserted nor updated
    db_session.execute(text("UPDATE users SET username = 'u-empty-1b' WHERE sourced_id = 'u-0'"))
    db_session.execute(text("DELETE FROM users WHERE sourced_id = 'u-none'"))
    assert appended() == before + 1
    db_session.execute(  # an update moving the row's key still counts
        text("UPDATE users SET role = 'teacher' WHERE sourced_id = 'u-empty-1'")
    )
    assert appended() == before + 3
    assert_stored_exact(db_session.connection())


@pytest.mark.as_owner  # it ends with a TRUNCATE: the owner's (the serving role holds none)
def test_totals_after_inserts_role_changes_and_deletes(roster, get):
    assert_totals_exact(roster, get)
    roster.execute(
        text(
            "INSERT INTO users (sourced_id, role, org_ids, username) "
            "SELECT 'cnt-' || i, CASE WHEN i % 3 = 0 THEN 'teacher' ELSE 'student' END, "
            "'[\"s1\"]', 'cnt-' || i FROM generate_series(1, 30) i"
        )
    )
    roster.execute(
        text(
            "INSERT INTO organizations (sourced_id, name, type, parent_id) "
            "VALUES ('cnt-s', 'Counted School', 'school', 'd1')"
        )
    )
    assert_totals_exact(roster, get)
    assert int(get("/students?limit=1").headers["X-Total-Count"]) == 7 + 20
    # Role changes move rows between typed views; an update changing no role changes nothing.
    roster.execute(text("UPDATE users SET role = 'teacher' WHERE sourced_id LIKE 'cnt-1%'"))
    roster.execute(text("UPDATE users SET given_name = 'Renamed' WHERE role = 'student'"))
    roster.execute(text("UPDATE organizations SET type = 'district' WHERE sourced_id = 'cnt-s'"))
    assert_totals_exact(roster, get)
    roster.execute(text("DELETE FROM users WHERE sourced_id LIKE 'cnt-2%' OR role = 'parent'"))
    roster.execute(text("DELETE FROM enrollments WHERE class_sourced_id = 'k1'"))
    roster.execute(text("DELETE FROM academic_sessions WHERE type = 'gradingPeriod'"))
    assert_totals_exact(roster, get)
    assert int(get("/gradingPeriods?limit=1").headers["X-Total-Count"]) == 0
    roster.execute(text("TRUNCATE results, line_items"))
    assert_totals_exact(roster, get)
    assert_stored_exact(roster)


def reached_total(session, view_name: str, names: list[str]) -> int:
    """count(*) of the view's rows within the organizations `names` reach (the app's own rule)."""
    view = catalogue().views[view_name]
    table, scope = view.entity.table, compute_org_scope(session, tuple(names))
    where = [table.c[view.entity.fields[k].column_name] == v for k, v in view.where.items()]
    where.append(reach_condition(view.entity, scope.unrestricted, scope.sourced_ids))
    return session.scalar(select(func.count()).select_from(table).where(*where))


def assert_reached_totals_exact(session, get, auth_headers) -> None:
    for names in (["s1"], ["s2"], ["s1", "s3"], ["d1"], ["d2"]):
        headers = auth_headers(edorgs=names, name="+".join(names))
        for view in WHOLE_VIEWS:
            total = int(get(f"/{view}?limit=1", headers=headers).headers["X-Total-Count"])
            assert total == reached_total(session, view, names), (names, view)


def test_organization_limited_totals_follow_rows_between_organizations(roster, get, auth_headers):
    assert_reached_totals_exact(roster, get, auth_headers)
    roster.execute(text("UPDATE classes SET school_sourced_id = 's2' WHERE sourced_id = 'k1'"))
    roster.execute(text("UPDATE enrollments SET school_sourced_id = 's3' WHERE role = 'teacher'"))
    roster.execute(text("""UPDATE users SET org_ids = '["s1", "s2"]' WHERE sourced_id = 'u-s1'"""))
    roster.execute(text("UPDATE users SET org_ids = '[]' WHERE sourced_id = 'u-s2'"))
    roster.execute(text("UPDATE users SET org_ids = NULL WHERE sourced_id = 'u-s3'"))
    roster.execute(text("UPDATE oneroster_courses SET org_sourced_id = 'd2'"))
    assert_reached_totals_exact(roster, get, auth_headers)
    roster.execute(text("DELETE FROM enrollments WHERE school_sourced_id = 's3'"))
    roster.execute(text("DELETE FROM users WHERE sourced_id = 'u-s1'"))
    assert_reached_totals_exact(roster, get, auth_headers)
    assert_stored_exact(roster)


def test_totals_after_the_mapping_layers_projection(db_session, get, edfi):  # noqa: F811
    assert_totals_exact(db_session, get)
    for resource, body in bodies():  # through the Ed-Fi API, projected in the same transaction
        edfi.create(resource, body)
    assert int(get("/students?limit=1").headers["X-Total-Count"]) >= 1
    assert_totals_exact(db_session, get)
    assert_stored_exact(db_session)


def test_tombstones_are_counted_like_the_page_returns_them(roster, get, client, headers):
    total = int(get("/categories?limit=1").headers["X-Total-Count"])
    sourced_id = ids(get("/categories"), "categories")[0]
    deleted = client.delete(f"/ims/oneroster/v1p1/categories/{sourced_id}", headers=headers)
    assert deleted.status_code == 204
    # gradebook tombstones are left out of plain reads, page and count alike; a delta read has them
    response = get("/categories?limit=1000")
    assert int(response.headers["X-Total-Count"]) == total - 1
    assert len(response.get_json()["categories"]) == total - 1
    delta = get("/categories?filter=status%3D'tobedeleted'")
    assert int(delta.headers["X-Total-Count"]) == 1 == len(delta.get_json()["categories"])
    # A purge removes the tombstone, and the count with it.
    roster.execute(
        text("UPDATE categories SET date_last_modified = now() - interval '400 days' "
             "WHERE sourced_id = :id"),
        {"id": sourced_id},
    )  # fmt: skip
    purge_tombstones(roster, dt.timedelta(days=365))
    assert int(get("/categories?limit=1").headers["X-Total-Count"]) == total - 1
    assert_totals_exact(roster, get)


def test_totals_after_csv_bulk_and_delta_imports(db_session, get, do_import, tmp_path):  # noqa: F811
    full = tmp_path / "bulk"
    full.mkdir()
    assert do_import(write_package(full, district())).status == "applied"
    assert int(get("/users?limit=1").headers["X-Total-Count"]) == len(district()["users"])
    assert_totals_exact(db_session, get)
    users = district()["users"]
    later = "2026-02-01T08:00:00.000Z"
    changes = {
        "users": [
            {**users[2], "status": "tobedeleted", "dateLastModified": later},
            {**users[3], "role": "teacher" if users[3]["role"] != "teacher" else "aide",
             "dateLastModified": later},
            {**users[0], "sourcedId": "u-new", "username": "new-user", "dateLastModified": later},
        ],
        "enrollments": [
            {"sourcedId": district()["enrollments"][0]["sourcedId"], "status": "tobedeleted",
             "dateLastModified": later},
        ],
    }  # fmt: skip
    delta = tmp_path / "delta"
    delta.mkdir()
    modes = {"users": "delta", "enrollments": "delta"}
    assert do_import(write_package(delta, changes, modes)).status == "applied"
    assert int(get("/users?limit=1").headers["X-Total-Count"]) == len(users) + 1
    assert_totals_exact(db_session, get)
    assert_stored_exact(db_session)


def skew(session, table: str) -> None:
    """Add 1000 to every stored figure of `table` (one more appended row per discriminator and
    organization key)."""
    session.execute(
        text(
            "INSERT INTO oneroster_counts (table_name, discriminator, org_key, n) "
            "SELECT DISTINCT table_name, discriminator, org_key, 1000 FROM oneroster_counts "
            "WHERE table_name = :t"
        ),
        {"t": table},
    )


def test_whole_collections_read_the_stored_count_others_count_rows(roster, get, auth_headers):
    # Skew the stored figures inside the test's transaction: only the requests that may use them
    # show the skew, which tells which path each request takes.
    skew(roster, "users")
    students = real_total(roster, "students")
    figures = roster.execute(
        text("SELECT count(DISTINCT org_ids) FROM users WHERE role = 'student'")
    ).scalar()
    assert int(get("/students?limit=1").headers["X-Total-Count"]) == students + 1000 * figures
    filtered = get("/students?limit=1&filter=familyName%3D'Ruiz'")
    assert int(filtered.headers["X-Total-Count"]) == 1
    # An organization-limited client sums its organizations' figures: u-s6 is s2's only student,
    # and the one figure of students whose orgs are ["s2"] was skewed.
    restricted = auth_headers(edorgs=["s2"], name="restricted")
    response = get("/students?limit=1", headers=restricted)
    assert int(response.headers["X-Total-Count"]) == 1 + 1000
    assert ids(response, "users") == ["u-s6"]
    filtered = get("/students?limit=1&filter=familyName%3E'A'", headers=restricted)
    assert int(filtered.headers["X-Total-Count"]) == 1
    nested = get("/schools/s1/students?limit=1")
    assert int(nested.headers["X-Total-Count"]) == 5
    # Shared catalogue data (no organization) is whole for every client, restricted or not.
    skew(roster, "resources")
    resources = real_total(roster, "resources")
    response = get("/resources?limit=1", headers=restricted)
    assert int(response.headers["X-Total-Count"]) == resources + 1000


@pytest.fixture
def committed(engine):
    """Rows committed by the concurrency test are removed (through the triggers) afterwards."""
    yield
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM users WHERE sourced_id LIKE 'conc-%'"))
        assert_stored_exact(connection)


def _insert(connection, prefix: str, role: str, n: int) -> None:
    connection.execute(
        text(
            "INSERT INTO users (sourced_id, role, username) "
            "SELECT :p || i, :role, :p || i FROM generate_series(1, :n) i"
        ),
        {"p": f"conc-{prefix}-", "role": role, "n": n},
    )


def test_concurrent_transactions_leave_the_count_exact(engine, committed):
    with engine.begin() as setup:
        _insert(setup, "s", "student", 2)
    with engine.connect() as a, engine.connect() as b, engine.connect() as c:
        _insert(a, "a", "student", 3)  # appends a ('users', 'student') delta, open until it commits
        b.execute(text("SET LOCAL lock_timeout = '5s'"))
        # An update that changes no role must not wait for that row (else: lock timeout).
        b.execute(text("UPDATE users SET given_name = 'x' WHERE sourced_id LIKE 'conc-s-%'"))
        _insert(b, "b", "teacher", 2)
        b.execute(text("DELETE FROM users WHERE sourced_id = 'conc-b-1'"))
        b.rollback()
        outcome: list[BaseException | None] = []

        def third() -> None:
            try:
                _insert(c, "c", "student", 5)  # appends its own delta beside a's
                c.commit()
                outcome.append(None)
            except BaseException as error:  # reported by the main thread
                outcome.append(error)

        worker = threading.Thread(target=third)
        worker.start()
        a.commit()
        worker.join(timeout=30)
        assert outcome == [None]
    with engine.connect() as check:
        assert_stored_exact(check)
        found = check.execute(
            text("SELECT count(*) FROM users WHERE sourced_id LIKE 'conc-%'")
        ).scalar()
        assert found == 2 + 3 + 5


@pytest.mark.parametrize(
    "order", ["", "&orderBy=desc", "&sort=familyName", "&sort=middleName&orderBy=desc"]
)
def test_pages_past_the_middle_read_from_the_end_in_the_same_order(roster, get, order):
    roster.execute(text("UPDATE users SET middle_name = 'M' WHERE sourced_id IN ('u-s2', 'u-t1')"))
    roster.execute(text("UPDATE users SET family_name = 'Cohen' WHERE sourced_id = 'u-s5'"))
    whole = ids(get(f"/users?limit=1000{order}"), "users")
    assert len(whole) == 10
    for limit in (1, 3, 4):
        for offset in range(0, len(whole) + 2):
            page = get(f"/users?limit={limit}&offset={offset}{order}")
            assert ids(page, "users") == whole[offset : offset + limit], (limit, offset)
            assert int(page.headers["X-Total-Count"]) == len(whole)
    students = ids(get(f"/students?limit=1000{order}"), "users")
    for offset in range(0, len(students) + 1):
        page = get(f"/students?limit=2&offset={offset}{order}")
        assert ids(page, "users") == students[offset : offset + 2]
