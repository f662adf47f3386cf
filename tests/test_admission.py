"""Admission control: a bounded amount of work in flight per process; beyond it, 429 at once."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.admission import Admission, AdmissionMiddleware
from gateway.app import create_app


def test_a_request_waits_for_a_slot_within_the_timeout():
    admission = Admission(max_in_flight=1, max_queued=1, queue_timeout=5)
    assert admission.try_enter()
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(admission.try_enter()))
    waiter.start()
    while admission.waiting == 0:
        time.sleep(0.005)
    admission.leave()  # the slot passes to the waiting request
    waiter.join(5)
    assert got == [True]
    assert (admission.in_flight, admission.waiting, admission.shed) == (1, 0, 0)


def test_a_full_queue_sheds_at_once_and_a_long_wait_sheds_at_the_timeout():
    admission = Admission(max_in_flight=1, max_queued=1, queue_timeout=0.3)
    assert admission.try_enter()
    waited: list[float] = []

    def wait() -> None:
        start = time.monotonic()
        assert admission.try_enter() is False
        waited.append(time.monotonic() - start)

    waiter = threading.Thread(target=wait)
    waiter.start()
    while admission.waiting == 0:
        time.sleep(0.005)
    start = time.monotonic()
    assert admission.try_enter() is False  # the one queue place is taken: no wait at all
    assert time.monotonic() - start < 0.1
    waiter.join(5)
    assert waited and 0.25 <= waited[0] < 2
    assert admission.shed == 2
    admission.leave()
    assert admission.try_enter()  # the slot is free again


def test_a_streamed_response_holds_its_slot_until_it_is_closed():
    admission = Admission(max_in_flight=1, max_queued=0, queue_timeout=0)

    def streaming(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"a"
        yield b"b"

    middleware = AdmissionMiddleware(streaming, admission, reject=None)  # type: ignore[arg-type]
    body = middleware({"PATH_INFO": "/oneroster/csv/export"}, lambda *a: None)
    assert next(iter(body)) == b"a"
    assert admission.in_flight == 1
    body.close()
    assert admission.in_flight == 0


@pytest.fixture
def busy_app(test_config, app):
    """An app admitting one request at once, with no queue, whose one slot is taken."""
    limited = create_app(
        {**test_config.as_dict(), "MAX_IN_FLIGHT": 1, "MAX_QUEUED": 0, "RETRY_AFTER_SECONDS": 3},
        database=app.extensions["gateway.db"],
    )
    admission = limited.extensions["admission"]
    assert admission.try_enter()
    yield limited
    admission.leave()


def test_overload_answers_429_with_retry_after_in_each_apis_envelope(busy_app, db_session):
    client = busy_app.test_client()
    edfi = client.get("/data/v3/ed-fi/students")
    assert edfi.status_code == 429
    assert edfi.headers["Retry-After"] == "3"
    assert edfi.mimetype == "application/problem+json"
    assert edfi.get_json()["type"] == "urn:ed-fi:api:too-many-requests"
    assert edfi.headers["X-Correlation-Id"] == edfi.get_json()["correlationId"]

    oneroster = client.get("/ims/oneroster/v1p1/users", headers={"X-Correlation-Id": "c-1"})
    assert oneroster.status_code == 429
    assert oneroster.headers["Retry-After"] == "3"
    assert oneroster.headers["X-Correlation-Id"] == "c-1"
    status = oneroster.get_json()
    assert status["imsx_codeMajor"] == "failure"
    minor = status["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    assert minor.replace("_", "") == "serverbusy"

    profiles = client.get("/profiles")
    assert profiles.status_code == 429
    assert profiles.get_json()["error"] == "too-many-requests"


def _shed_total(client, api: str) -> float:
    prefix = f'gateway_requests_shed_total{{api="{api}"}} '
    lines = client.get("/metrics").get_data(as_text=True).splitlines()
    return sum(float(line[len(prefix) :]) for line in lines if line.startswith(prefix))


def test_a_refusal_is_counted_in_metrics_not_audited(busy_app, audit_rows, db_session):
    """A shed request did no work and touched no record: it leaves no audit row (the audit trail
    records access to student data) but is counted, by API, in /metrics."""
    client = busy_app.test_client()
    before = _shed_total(client, "edfi")
    refused = client.get(
        "/data/v3/ed-fi/students?correlationId=ignored", headers={"correlation-id": "shed-1"}
    )
    assert refused.status_code == 429
    assert refused.get_json()["correlationId"] == "shed-1"  # the ODS/API's header first
    assert refused.headers["X-Correlation-Id"] == "shed-1"
    assert audit_rows("shed-1") == []
    assert _shed_total(client, "edfi") == before + 1


def test_a_refusal_without_a_correlation_id_gets_a_new_one(busy_app, db_session):
    client = busy_app.test_client()
    ids = {client.get("/profiles").headers["X-Correlation-Id"] for _ in range(2)}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)


def test_health_is_never_shed(busy_app, db_session):
    assert busy_app.test_client().get("/health").status_code != 429


def test_a_freed_slot_admits_the_next_request(test_config, app, db_session):
    limited = create_app(
        {**test_config.as_dict(), "MAX_IN_FLIGHT": 1, "MAX_QUEUED": 0},
        database=app.extensions["gateway.db"],
    )
    client = limited.test_client()
    for _ in range(3):  # each request gives its slot back when the server closes its response
        response = client.get("/data/v3/ed-fi/students")
        assert response.status_code == 401
        response.close()
    assert limited.extensions["admission"].in_flight == 0


def test_zero_turns_admission_control_off(app):
    assert "admission" not in app.extensions


def test_admission_control_is_on_by_default(monkeypatch):
    from gateway.config import Config

    monkeypatch.delenv("MAX_IN_FLIGHT", raising=False)
    config = Config()
    assert (config.MAX_IN_FLIGHT, config.MAX_QUEUED, config.QUEUE_TIMEOUT_MS) == (4, 16, 500)


@pytest.mark.parametrize(
    ("env", "threads"),
    [
        ({}, 4 + 16 + 8),  # on by default: a thread per slot and queue place, 8 to refuse
        ({"MAX_IN_FLIGHT": "6", "MAX_QUEUED": "10"}, 6 + 10 + 8),
        ({"MAX_IN_FLIGHT": "4", "GATEWAY_THREADS": "64"}, 64),  # set: as set
        ({"MAX_IN_FLIGHT": "0"}, 4),
    ],
)
def test_workers_run_more_threads_than_admission_holds(monkeypatch, env, threads):
    """Waiting happens in admission's bounded queue, not unseen in gunicorn's: by default each
    worker has a thread for every slot and queue place, and spares that answer the refusals."""
    from gateway.config import Config

    for name in ("MAX_IN_FLIGHT", "MAX_QUEUED", "GATEWAY_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Config().GATEWAY_THREADS == threads
