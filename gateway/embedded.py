"""Embedded services for the default run: PostgreSQL (pgserver) and a DynamoDB-compatible endpoint.

Used when DATABASE_URL / DYNAMODB_ENDPOINT_URL are not set. Data lives under GATEWAY_DATA_DIR, so a
restart on the same directory keeps everything.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import subprocess
import sys
import threading
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


# ---------------------------------------------------------------- PostgreSQL

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
    """A real PostgreSQL server from the `pgserver` package, reference-counted across processes:
    the server stops when the last process using it (server, CLI command) exits."""

    def __init__(self, data_dir: Path, database: str = "gateway") -> None:
        self.pgdata = ensure_writable_dir(data_dir / "postgres")
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        # platformdirs (used by pgserver) warns when XDG_RUNTIME_DIR is unset; nothing to fix.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver

        logging.getLogger("pgserver").setLevel(logging.WARNING)
        self._server = self._get_server(pgserver)
        if self._configure() and self._sole_user():
            # Settings read only at start-up: restart now, while no other process uses the
            # server (else they apply at its next start).
            self._server.cleanup()
            self._server = self._get_server(pgserver)
        self._ensure_database()
        return self.url(self.database)

    def _get_server(self, pgserver: Any) -> Any:
        try:
            return pgserver.get_server(self.pgdata, cleanup_mode="stop")
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
        return handles is not None and handles.get() == [os.getpid()]

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


def _encode(value: Any) -> Any:
    """Binary attribute values are bytes; JSON snapshots keep them as base64 text."""
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class EmbeddedDynamo:
    """A DynamoDB-compatible endpoint (moto's server mode) on a free loopback port.

    moto keeps tables in memory, so the endpoint's tables are snapshotted to GATEWAY_DATA_DIR
    periodically and on stop, and restored on start.
    """

    SNAPSHOT_EVERY = 30.0

    def __init__(self, data_dir: Path | None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.snapshot = (
            ensure_writable_dir(data_dir / "dynamodb") / "snapshot.json" if data_dir else None
        )
        self.proc: subprocess.Popen | None = None
        self.endpoint_url: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        port = free_port(self.host)
        env = dict(os.environ)
        # A new session: Ctrl-C in the terminal must not kill it before its tables are saved.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.dynamo_server", self.host, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        self.endpoint_url = f"http://{self.host}:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ConfigurationError("the embedded DynamoDB endpoint (moto) exited at start-up")
            try:
                self.client().list_tables(Limit=1)
                break
            except Exception:
                time.sleep(0.2)
        else:
            self.stop(save=False)
            raise ConfigurationError("the embedded DynamoDB endpoint did not start within 30 s")
        self.restore()
        if self.snapshot is not None:
            self._thread = threading.Thread(target=self._autosave, daemon=True)
            self._thread.start()
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

    def _autosave(self) -> None:
        while not self._stop.wait(self.SNAPSHOT_EVERY):
            try:
                self.save()
            except Exception:  # keep serving; the next save or the one at stop will retry
                log.warning("embedded DynamoDB snapshot failed", exc_info=True)

    def save(self) -> None:
        if self.snapshot is None:
            return
        client = self.client()
        tables = []
        for name in client.list_tables().get("TableNames", []):
            desc = client.describe_table(TableName=name)["Table"]
            items: list[dict] = []
            for page in client.get_paginator("scan").paginate(TableName=name):
                items.extend(page["Items"])
            tables.append({"spec": _table_spec(desc), "items": _encode(items)})
        tmp = self.snapshot.with_suffix(".tmp")
        tmp.write_text(json.dumps({"tables": tables}))
        tmp.replace(self.snapshot)

    def restore(self) -> None:
        if self.snapshot is None or not self.snapshot.exists():
            return
        data = json.loads(self.snapshot.read_text())
        client = self.client()
        for table in data.get("tables", []):
            spec = table["spec"]
            client.create_table(**spec)
            items = _decode(table["items"])
            for start in range(0, len(items), 25):
                requests = [{"PutRequest": {"Item": it}} for it in items[start : start + 25]]
                pending = {spec["TableName"]: requests}
                while pending:
                    pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")

    def stop(self, save: bool = True) -> None:
        self._stop.set()
        if self.proc is None:
            return
        if save:
            try:
                self.save()
            except Exception:
                log.warning("could not save the embedded DynamoDB tables", exc_info=True)
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc = None


def _table_spec(desc: dict) -> dict:
    spec: dict[str, Any] = {
        "TableName": desc["TableName"],
        "KeySchema": desc["KeySchema"],
        "AttributeDefinitions": desc["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    gsis = [
        {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]}
        for g in desc.get("GlobalSecondaryIndexes", [])
    ]
    if gsis:
        spec["GlobalSecondaryIndexes"] = gsis
    return spec


def aws_configured() -> bool:
    """True when standard boto3 configuration (env, profile, files) provides credentials."""
    try:
        return boto3.Session().get_credentials() is not None
    except Exception:
        return False
