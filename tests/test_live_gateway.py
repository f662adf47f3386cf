"""The whole gateway as an operator runs it (`gateway serve`, gunicorn workers, the embedded
DynamoDB endpoint): concurrent profile writers through the API, kill -9 during a stream of profile
writes, /metrics, and JSON request logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.embedded import free_port
from tests.conftest import recreate_database, wait_until_healthy
from tests.profiles.factories import make_profile

pytestmark = pytest.mark.slow

SECRET_KEY = "live-test-secret-key"


class LiveGateway:
    """`gateway serve` in its own process group, on a data directory that outlives it."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DYNAMODB_"))
        } | {
            "DATABASE_URL": database_url,
            "GATEWAY_DATA_DIR": str(data_dir),
            "SECRET_KEY": SECRET_KEY,
            "LOG_FORMAT": "json",
            "AUDIT_MODE": "sync",
            "TOKEN_CACHE_SECONDS": "0",
        }
        self.proc: subprocess.Popen | None = None
        self.log = data_dir / "serve.log"

    def gateway(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--port", str(self.port)]
                + ["--workers", "2", "--threads", "4"],
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        wait_until_healthy(self.proc, self.base, self.log, 180)

    def kill_9(self) -> None:
        """SIGKILL to every process of the gateway: gunicorn master, workers, DynamoDB endpoint."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.proc = None

    def token(self, key: str, secret: str) -> dict[str, str]:
        r = requests.post(
            f"{self.base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(key, secret),
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def live(pg_server_url, tmp_path_factory) -> Iterator[LiveGateway]:
    url = recreate_database(pg_server_url, "gateway_live_test")
    gateway = LiveGateway(url, tmp_path_factory.mktemp("live"))
    gateway.start()  # `serve` migrates on start
    created = gateway.gateway(
        "clients", "create", "--name", "live-test", "--all-organizations", "--json"
    )
    assert created.returncode == 0, created.stderr
    gateway.credentials = json.loads(created.stdout)  # type: ignore[attr-defined]
    yield gateway
    gateway.stop()


def test_concurrent_profile_writers_one_wins_the_others_get_412(live):
    headers = live.token(**live.credentials)
    created = requests.post(
        f"{live.base}/profiles", json=make_profile(), headers=headers, timeout=10
    )
    assert created.status_code == 201, created.text
    profile, etag = created.json(), created.headers["ETag"]
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def writer(n: int) -> None:
        body = {**profile, "first_name": f"Writer{n}"}
        barrier.wait()
        r = requests.put(
            f"{live.base}/profiles/{profile['profile_id']}",
            json=body,
            headers=headers | {"If-Match": etag},
            timeout=30,
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * 7, statuses
    final = requests.get(
        f"{live.base}/profiles/{profile['profile_id']}", headers=headers, timeout=10
    ).json()
    assert final["version"] == profile["version"] + 1


def test_metrics_are_scraped_and_requests_logged_as_json(live):
    headers = live.token(**live.credentials)
    requests.get(f"{live.base}/profiles/{uuid.uuid4()}", headers=headers, timeout=10)
    body = requests.get(f"{live.base}/metrics", timeout=10)
    assert body.status_code == 200
    assert body.headers["Content-Type"].startswith("text/plain")
    text = body.text
    assert 'gateway_http_requests_total{api="profiles",method="GET",route=' in text
    assert 'route="/profiles/<string:profile_id>",status="404"' in text
    assert "gateway_http_request_duration_seconds_bucket{" in text
    assert "gateway_db_pool_checked_out " in text and "gateway_db_pool_size " in text
    assert 'gateway_audit_rows_total{outcome="written"}' in text
    assert "# TYPE gateway_import_jobs gauge" in text
    lines = [json.loads(line) for line in live.log.read_text().splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line["logger"] == "gateway.request"]
    profile_reads = [line for line in requests_logged if line["path"].startswith("/profiles/")]
    assert profile_reads, requests_logged[-5:]
    assert set(profile_reads[-1]) >= {
        "correlation_id",
        "client_key",
        "method",
        "path",
        "status",
        "duration_ms",
    }
    assert profile_reads[-1]["client_key"] == live.credentials["key"]
    assert profile_reads[-1]["status"] == 404


def test_kill_9_during_a_stream_of_profile_writes_loses_no_201(live):
    headers = live.token(**live.credentials)
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                r = session.post(
                    f"{live.base}/profiles", json=make_profile(), headers=headers, timeout=10
                )
            except requests.RequestException:
                return  # the gateway is gone
            if r.status_code == 201:
                acknowledged.append(r.json()["profile_id"])

    writers = [threading.Thread(target=stream) for _ in range(3)]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.1)
    live.kill_9()
    stop.set()
    for writer in writers:
        writer.join()
    assert len(acknowledged) >= 60

    live.start()
    headers = live.token(**live.credentials)
    missing = [
        pid
        for pid in acknowledged
        if requests.get(f"{live.base}/profiles/{pid}", headers=headers, timeout=10).status_code
        != 200
    ]
    assert missing == [], f"{len(missing)} of {len(acknowledged)} acknowledged profiles lost"
