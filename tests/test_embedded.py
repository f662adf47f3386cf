"""The embedded DynamoDB endpoint: conditional writes are atomic, and tables survive a restart."""

from __future__ import annotations

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
