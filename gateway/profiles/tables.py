"""The DynamoDB tables the gateway owns, created when missing."""

from __future__ import annotations

from botocore.exceptions import ClientError


def profiles_table_spec(table_name: str) -> dict:
    def gsi(name: str, attribute: str) -> dict:
        return {
            "IndexName": name,
            "KeySchema": [{"AttributeName": attribute, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }

    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": "profile_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": "profile_id", "AttributeType": "S"},
            {"AttributeName": "school_id", "AttributeType": "S"},
            {"AttributeName": "email", "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [gsi("school-index", "school_id"), gsi("email-index", "email")],
        "BillingMode": "PAY_PER_REQUEST",
    }


def ensure_tables(dynamodb_resource, table_name: str) -> bool:
    """Create the profiles table if it does not exist. Returns True when it was created."""
    client = dynamodb_resource.meta.client
    try:
        client.describe_table(TableName=table_name)
        return False
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    client.create_table(**profiles_table_spec(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name)
    return True
