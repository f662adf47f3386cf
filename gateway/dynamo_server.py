"""The embedded DynamoDB-compatible endpoint: moto's server app, one request at a time, durable.

moto's own server is threaded, and its DynamoDB backend does not lock: two conditional writes that
race can both pass their condition. Serving requests one by one makes every condition check and
write atomic, as they are in DynamoDB.

moto keeps tables in memory. With a data directory, every write that succeeds is appended to a
journal (`journal.jsonl`) and fsynced before its response is sent, so an acknowledged write
survives kill -9. On start the snapshot (`snapshot.json`) is loaded and the journal replayed on
top of it; the two are then compacted into a new snapshot (also when the journal grows long and at
a clean stop). Run as `python -m gateway.dynamo_server HOST PORT [DATA_DIR]`.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.test import Client
from werkzeug.wrappers import Response

# Operations that change state; only these are journaled (and only when they succeed).
WRITES = frozenset(
    {
        "CreateTable",
        "DeleteTable",
        "UpdateTable",
        "UpdateTimeToLive",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TagResource",
        "UntagResource",
    }
)
COMPACT_AFTER = 5000  # journaled writes between snapshots
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]+)/")


def _scope(environ: dict) -> tuple[str, str]:
    """(access key, region) of a request: moto keeps tables per account and region."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1), match.group(2)
    return os.environ.get("AWS_ACCESS_KEY_ID", "embedded"), os.environ.get(
        "AWS_REGION", "us-east-1"
    )


def _old_binary(value: Any) -> Any:
    """Snapshots written before the journal kept binary values as {"__b64__": text}; the wire
    format keeps them as the base64 text itself."""
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return value["__b64__"]
        return {k: _old_binary(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_old_binary(v) for v in value]
    return value


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


class Store:
    """The snapshot and the journal of one data directory, applied to the in-memory backend."""

    def __init__(self, app: Callable, directory: Path) -> None:
        self.app = app
        self.client = Client(app)
        self.directory = directory
        self.snapshot = directory / "snapshot.json"
        self.journal_path = directory / "journal.jsonl"
        self.seq = 0
        self.since_snapshot = 0
        self.scopes: set[tuple[str, str]] = set()
        self._fd: int | None = None

    # -- calls into the backend, as a client would make them
    def call(self, scope: tuple[str, str], operation: str, body: dict | str) -> tuple[int, dict]:
        key, region = scope
        data = body if isinstance(body, str) else json.dumps(body)
        response = self.client.post(
            "/",
            data=data,
            headers={
                "Host": f"dynamodb.{region}.amazonaws.com",
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": f"DynamoDB_20120810.{operation}",
                "Authorization": (
                    f"AWS4-HMAC-SHA256 Credential={key}/20200101/{region}/dynamodb/aws4_request, "
                    "SignedHeaders=host, Signature=0"
                ),
            },
        )
        text = response.get_data(as_text=True)
        return response.status_code, (json.loads(text) if text else {})

    def _must(self, scope: tuple[str, str], operation: str, body: dict) -> dict:
        status, answer = self.call(scope, operation, body)
        if status != 200:
            raise RuntimeError(f"{operation} failed while restoring: {answer}")
        return answer

    # -- start-up: snapshot, then the journal on top of it
    def load(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        snapshot_seq = 0
        if self.snapshot.exists():
            data = json.loads(self.snapshot.read_text())
            snapshot_seq = int(data.get("seq", 0))
            scopes = data.get("scopes")
            if scopes is None:  # the format before the journal: one scope, the environment's
                key, region = _scope({})
                scopes = [{"key": key, "region": region, "tables": data.get("tables", [])}]
            for entry in scopes:
                scope = (entry["key"], entry["region"])
                self.scopes.add(scope)
                for table in entry["tables"]:
                    self._must(scope, "CreateTable", table["spec"])
                    items = _old_binary(table["items"])
                    name = table["spec"]["TableName"]
                    for start in range(0, len(items), 25):
                        chunk = [{"PutRequest": {"Item": it}} for it in items[start : start + 25]]
                        self._must(scope, "BatchWriteItem", {"RequestItems": {name: chunk}})
        self.seq = snapshot_seq
        if self.journal_path.exists():
            with self.journal_path.open("rb") as fh:
                for line in fh:
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        break  # a torn last line: that write was never acknowledged
                    if entry["seq"] <= snapshot_seq:
                        continue
                    scope = (entry["key"], entry["region"])
                    self.scopes.add(scope)
                    self.call(scope, entry["op"], entry["body"])
                    self.seq = entry["seq"]
        self.compact()

    # -- while serving
    def append(self, scope: tuple[str, str], operation: str, body: bytes) -> None:
        """Journal one successful write; returns once it is on disk."""
        if self._fd is None:
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.seq += 1
        self.scopes.add(scope)
        line = {"seq": self.seq, "key": scope[0], "region": scope[1], "op": operation}
        line["body"] = body.decode("utf-8")
        os.write(self._fd, json.dumps(line).encode() + b"\n")
        os.fsync(self._fd)
        self.since_snapshot += 1
        if self.since_snapshot >= COMPACT_AFTER:
            self.compact()

    def compact(self) -> None:
        """Write every table into a new snapshot (atomically), then empty the journal."""
        scopes = []
        for scope in sorted(self.scopes):
            tables = []
            for name in self._table_names(scope):
                desc = self._must(scope, "DescribeTable", {"TableName": name})["Table"]
                tables.append({"spec": _table_spec(desc), "items": self._items(scope, name)})
            scopes.append({"key": scope[0], "region": scope[1], "tables": tables})
        tmp = self.snapshot.with_suffix(".tmp")
        with tmp.open("w") as fh:
            json.dump({"version": 2, "seq": self.seq, "scopes": scopes}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.snapshot)
        _fsync_dir(self.directory)
        # The snapshot holds every journaled write now (its seq says so), so a crash from here
        # on replays nothing twice.
        with self.journal_path.open("wb") as fh:
            fh.flush()
            os.fsync(fh.fileno())
        self.since_snapshot = 0

    def _table_names(self, scope: tuple[str, str]) -> list[str]:
        names: list[str] = []
        body: dict[str, Any] = {}
        while True:
            page = self._must(scope, "ListTables", body)
            names.extend(page.get("TableNames", []))
            if not page.get("LastEvaluatedTableName"):
                return names
            body = {"ExclusiveStartTableName": page["LastEvaluatedTableName"]}

    def _items(self, scope: tuple[str, str], name: str) -> list[dict]:
        items: list[dict] = []
        body: dict[str, Any] = {"TableName": name}
        while True:
            page = self._must(scope, "Scan", body)
            items.extend(page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return items
            body = {"TableName": name, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JournaledApp:
    """WSGI wrapper: a successful write is journaled before its response leaves."""

    def __init__(self, app: Callable, store: Store | None) -> None:
        self.app = app
        self.store = store

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if self.store is None or operation not in WRITES:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        response = Response.from_app(self.app, environ, buffered=True)
        if response.status_code == 200:
            self.store.append(_scope(environ), operation, body)
        return response(environ, start_response)


def _exit_with_parent(parent: int) -> None:
    """The gateway that started this endpoint is gone (even by kill -9): stop serving, so that a
    restarted gateway's endpoint is the only one writing the data directory."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _lock(directory: Path, wait: float = 30.0) -> int:
    """One endpoint per data directory: wait for a previous one (its parent killed) to exit."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise SystemExit(f"another endpoint holds {directory / 'lock'}") from None
            time.sleep(0.2)


def main(argv: list[str]) -> None:
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    host, port = argv[0], int(argv[1])
    directory = Path(argv[2]) if len(argv) > 2 else None
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()

    def stop(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    moto_app = DomainDispatcherApplication(create_backend_app)
    store = None
    if directory is not None:
        _lock(directory)
        store = Store(moto_app, directory)
        store.load()
    server = make_server(
        host,
        port,
        JournaledApp(moto_app, store),
        threaded=False,
        request_handler=MotoRequestHandler,
    )
    try:
        server.serve_forever()
    finally:
        if store is not None:
            store.compact()


if __name__ == "__main__":
    main(sys.argv[1:])
