"""Precompiled reads: one statement per query shape serves every value, host and client, and a
lone read runs on an autocommit connection that keeps its prepared statement."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from sqlalchemy import delete, insert, text

from gateway.oneroster import models as m
from tests.oneroster.conftest import ids
from tests.oneroster.factories import BASE, T0
from tests.oneroster.live import api_client, close, live_app


def test_one_filter_shape_serves_every_value(roster, get):
    for value, expected in [
        ("teacher", ["u-t1", "u-t2"]),
        ("parent", ["u-p1"]),
        ("nobody", []),
        ("student", ["u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-s6", "u-s7"]),
    ]:
        response = get("/users?filter=" + quote(f"role='{value}'"))
        assert ids(response, "users") == expected
        assert response.headers["X-Total-Count"] == str(len(expected))


def test_one_nested_shape_serves_every_parent(roster, get):
    assert ids(get("/schools/s1/classes"), "classes") == ["k1", "k2"]
    assert ids(get("/schools/s2/classes"), "classes") == ["k3"]
    assert ids(get("/classes/k3/students"), "users") == ["u-s6"]
    get("/schools/s9/classes", expect=404)
    get("/schools/k1/classes", expect=404)  # a class is not a school


def test_hrefs_and_links_follow_the_request_host(roster, client, headers):
    for host in ("http://one.example", "https://two.example:8443"):
        record = client.get(BASE + "/users/u-s1", headers=headers, base_url=host).get_json()
        assert record["user"]["orgs"] == [
            {"href": f"{host}{BASE}/orgs/s1", "sourcedId": "s1", "type": "org"}
        ]
        page = client.get(BASE + "/users?limit=2", headers=headers, base_url=host)
        assert page.get_json()["users"][0]["orgs"][0]["href"] == f"{host}{BASE}/orgs/s1"
        assert page.headers["Link"].startswith(f"<{host}{BASE}/users?limit=2&offset=0>")


def test_clients_of_different_schools_share_a_statement_not_rows(roster, client, auth_headers):
    north = auth_headers(edorgs=("s1",), name="north")
    south = auth_headers(edorgs=("s2",), name="south")
    nowhere = auth_headers(edorgs=("no-such-org",), name="nowhere")
    expected_north = ["u-p1", "u-s1", "u-s2", "u-s3", "u-s4", "u-s5", "u-t1"]
    assert ids(client.get(BASE + "/users", headers=north), "users") == expected_north
    assert ids(client.get(BASE + "/users", headers=south), "users") == ["u-s6", "u-t2"]
    assert ids(client.get(BASE + "/users", headers=nowhere), "users") == []
    assert client.get(BASE + "/users/u-s6", headers=north).status_code == 404
    assert client.get(BASE + "/users/u-s6", headers=south).status_code == 200


def _prepared_statements(engine) -> list[str]:
    """The prepared statements of every pooled connection (each is checked out at once)."""
    connections = [engine.connect() for _ in range(engine.pool.size())]
    try:
        found = []
        for connection in connections:
            assert connection.connection.driver_connection.autocommit is False
            rows = connection.execute(text("SELECT statement FROM pg_prepared_statements"))
            found += [row[0] for row in rows]
            connection.rollback()
        return found
    finally:
        for connection in connections:
            connection.close()


def test_lone_reads_run_on_autocommit_connections_that_keep_their_plan(test_config):
    """Outside the tests' rolled-back transaction: committed rows, the app's own engine."""
    app = live_app(test_config)
    engine = app.extensions["gateway.db"].engine
    org = f"prepared-{uuid.uuid4().hex}"
    with engine.begin() as connection:
        connection.execute(
            insert(m.Organization).values(sourced_id=org, name="P", type="school",
                                          date_last_modified=T0)
        )  # fmt: skip
    client_id, headers = api_client(app, "prepared")
    try:
        client = app.test_client()
        path = BASE + "/orgs?limit=1&offset=0&filter=" + quote(f"sourcedId='{org}'")
        for _ in range(3):
            response = client.get(path, headers=headers)
            assert response.status_code == 200
            assert ids(response, "orgs") == [org]
            assert response.headers["X-Total-Count"] == "1"
            page = client.get(BASE + "/orgs?limit=1", headers=headers)
            assert page.status_code == 200 and len(page.get_json()["orgs"]) == 1
            assert client.get(BASE + f"/orgs/{org}", headers=headers).status_code == 200
        statements = _prepared_statements(engine)
        totals = [s.split(") AS total")[0] for s in statements if s.startswith("SELECT (SELECT")]
        # The plain page (its total the stored count) and the record were prepared and survived
        # every request (a ROLLBACK would have dropped them); the filtered page (its total a count
        # of the matching rows) is planned with its value each time, not prepared.
        assert totals and all("FROM oneroster_counts" in total for total in totals)
        assert any(s.startswith("SELECT json_object(") for s in statements)
    finally:
        with engine.begin() as connection:
            connection.execute(delete(m.Organization).where(m.Organization.sourced_id == org))
        close(app, client_id)
