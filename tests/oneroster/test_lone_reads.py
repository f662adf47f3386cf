"""A lone read checks out its connection without the ping round trip; when the server has dropped
that connection it is invalidated and the read answers from a fresh one. Writes keep the ping."""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import psycopg
from sqlalchemy import delete, event, insert, text
from sqlalchemy.exc import InvalidatePoolError

from gateway.db import get_session
from gateway.oneroster import models as m
from tests.oneroster.conftest import ids
from tests.oneroster.factories import BASE, T0
from tests.oneroster.live import api_client, close, live_app


def pooled_backends(engine) -> list[int]:
    """The server processes of every connection the pool holds (each checked out at once)."""
    connections = [engine.connect() for _ in range(engine.pool.size())]
    try:
        return [c.connection.driver_connection.info.backend_pid for c in connections]
    finally:
        for connection in connections:
            connection.close()


def terminate(engine, pids: list[int]) -> None:
    """Drop those connections from the server side, as a restart or an idle timeout would."""
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(pid) FROM unnest(:p) pid"), {"p": pids})
        admin.commit()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": pids}
            ).scalar_one()
            admin.rollback()
            if alive == 0:
                return
            time.sleep(0.05)
    raise AssertionError(f"backends {pids} still running")


def test_reads_answer_after_the_server_dropped_every_pooled_connection(test_config, engine):
    app = live_app(test_config)
    own = app.extensions["gateway.db"].engine
    org = f"lone-{uuid.uuid4().hex}"
    with own.begin() as connection:
        connection.execute(
            insert(m.Organization).values(
                sourced_id=org, name="Lone", type="school", date_last_modified=T0
            )
        )
    client_id, headers = api_client(app, "lone")
    invalidated: list[BaseException | None] = []
    event.listen(own, "invalidate", lambda _conn, _record, error: invalidated.append(error))
    try:
        client = app.test_client()
        # Filtered and by id: reads that wake no compactor, so only the requests use the pool.
        page = BASE + "/orgs?filter=" + quote(f"sourcedId='{org}'")
        record = BASE + f"/orgs/{org}"
        assert client.get(page, headers=headers).status_code == 200  # caches the token
        pids = pooled_backends(own)
        assert len(set(pids)) == 2
        terminate(engine, pids)
        for _ in range(3):
            response = client.get(page, headers=headers)
            assert response.status_code == 200, response.get_data(as_text=True)
            assert ids(response, "orgs") == [org]
            assert response.headers["X-Total-Count"] == "1"
            response = client.get(record, headers=headers)
            assert response.status_code == 200
            assert response.get_json()["org"]["name"] == "Lone"
        # The first request's own statement met the dropped connection: no ping came before it.
        assert isinstance(invalidated[0], psycopg.OperationalError)
        assert set(pooled_backends(own)).isdisjoint(pids)

        # A write transaction still pings its connection at checkout, and so never starts on one
        # the server dropped.
        invalidated.clear()
        terminate(engine, pooled_backends(own))
        with app.app_context():
            session = get_session()
            session.execute(
                text("UPDATE organizations SET name = 'Renamed' WHERE sourced_id = :id"),
                {"id": org},
            )
            session.commit()
        assert isinstance(invalidated[0], InvalidatePoolError)
        response = client.get(record, headers=headers)
        assert response.get_json()["org"]["name"] == "Renamed"
    finally:
        with own.begin() as connection:
            connection.execute(delete(m.Organization).where(m.Organization.sourced_id == org))
        close(app, client_id)
