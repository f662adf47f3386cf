"""Shared by the end-to-end benches: a real `gateway serve` (gunicorn, embedded default) in a data
directory of the bench's own, a client and its token, and the owner's URL of the same database for
the raw floors."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway(*args: str, env: dict[str, str], root: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], env=env, capture_output=True, text=True,
        check=True, cwd=root,
    )  # fmt: skip


class Server:
    """`gateway serve` on a free loopback port; healthy when the constructor returns."""

    def __init__(
        self,
        data_dir: str,
        env_extra: dict[str, str] | None = None,
        workers: int = 2,
        root: Path = ROOT,
    ):
        """`root`: the source tree to serve (another checkout's, to compare two versions)."""
        self.port = free_port()
        self.env = {**os.environ, "GATEWAY_DATA_DIR": data_dir, **(env_extra or {})}
        # BENCH_SERVER_LOG=FILE keeps the server's output (appended), else it is discarded.
        log = os.environ.get("BENCH_SERVER_LOG")
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(self.port),
             "--workers", str(workers)],
            env=self.env, stdout=out, stderr=out,
            start_new_session=True, cwd=root,
        )  # fmt: skip
        self.root = root
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("gateway serve exited during start-up")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit("gateway serve did not become healthy in 300 s")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def token(self, name: str = "bench") -> str:
        """A bearer token of a new client that reaches every organization."""
        options = gateway("clients", "create", "--help", env=self.env, root=self.root).stdout
        args = ["clients", "create", "--name", name, "--json"]
        if "--all-organizations" in options:
            args.append("--all-organizations")
        created = gateway(*args, env=self.env, root=self.root).stdout.strip().splitlines()[-1]
        created = json.loads(created)
        basic = base64.b64encode(f"{created['key']}:{created['secret']}".encode()).decode()
        conn = self.connection()
        conn.request(
            "POST", "/oauth/token", body="grant_type=client_credentials",
            headers={"Authorization": "Basic " + basic,
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        return json.loads(conn.getresponse().read())["access_token"]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextmanager
def owner_url(data_dir: str) -> Iterator[str]:
    """The libpq URL of the served database as its owner (the embedded server is shared with the
    running gateway, reference-counted)."""
    from gateway.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(Path(data_dir))
    url = server.start()
    try:
        yield "postgresql://" + url.split("://", 1)[1]
    finally:
        server.stop()


def in_threads(target: Callable[[int], object], n: int) -> float:
    """Run target(0) … target(n - 1) in n threads at once; the wall seconds until all ended."""
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - began


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))]
