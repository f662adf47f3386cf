"""The profiles table, reached through boto3's DynamoDB resource API.

Every write carries a condition on ``version`` so two writers can never silently
overwrite each other; DynamoDB and transport failures become the gateway's domain
errors here, so nothing above this module sees a botocore exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from gateway.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, ServiceUnavailable

from .codec import MAX_ITEM_BYTES, item_size

HASH_KEY = "profile_id"
# index name -> the attribute it is keyed on (as the foundation's tables.py creates them)
INDEXES = {"school-index": "school_id", "email-index": "email"}

# What still fails after boto3's own retries is reported as 503 with this hint.
RETRY_AFTER_SECONDS = 2
_TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "TransactionConflictException",
    }
)
_TRANSPORT_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)


class ProfileExists(Conflict):
    """A create found a profile with the same profile_id."""


class VersionConflict(Conflict):
    """The stored version is not the one the write was based on."""


@contextmanager
def dynamodb_errors(profile_id: str | None = None) -> Iterator[None]:
    """Translate botocore failures into the gateway's errors."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code in _TRANSIENT_CODES:
            raise ServiceUnavailable(
                "The profile store is busy; retry later.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from exc
        if code == "ResourceNotFoundException":
            raise ServiceUnavailable(
                "The profiles table is not available.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from exc
        if code == "ValidationException" and "size" in message.lower():
            raise PayloadTooLarge(
                f"The profile exceeds DynamoDB's {MAX_ITEM_BYTES // 1024} KB item limit."
            ) from exc
        if code == "ValidationException":
            raise BadRequest(f"The profile store rejected the request: {message}") from exc
        raise
    except _TRANSPORT_ERRORS as exc:
        raise ServiceUnavailable(
            "The profile store cannot be reached; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc


def _check_size(item: dict[str, Any]) -> None:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise PayloadTooLarge(
            f"The profile is {size} bytes; DynamoDB stores at most {MAX_ITEM_BYTES} per item.",
            details={"item_bytes": size, "max_item_bytes": MAX_ITEM_BYTES},
        )


def _version_is(expected: int) -> Any:
    # Version 0 stands for an item written without one (by another tool): it must still lack it.
    return Attr("version").not_exists() if expected == 0 else Attr("version").eq(expected)


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ProfileRepository:
    """Single-item reads and conditional writes on the profiles table (items in DynamoDB types)."""

    def __init__(self, table: Any) -> None:
        self.table = table

    def get(self, profile_id: str) -> dict[str, Any] | None:
        # Strongly consistent: the version read here is the one the next write is checked against.
        with dynamodb_errors(profile_id):
            response = self.table.get_item(Key={HASH_KEY: profile_id}, ConsistentRead=True)
        return response.get("Item")

    def create(self, item: dict[str, Any]) -> dict[str, Any]:
        item = {**item, "version": 1}
        _check_size(item)
        try:
            with dynamodb_errors():
                self.table.put_item(Item=item, ConditionExpression=Attr(HASH_KEY).not_exists())
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ProfileExists(
                    f"A profile with profile_id '{item[HASH_KEY]}' already exists."
                ) from exc
            raise
        return item

    def replace(self, item: dict[str, Any], expected_version: int) -> dict[str, Any]:
        item = {**item, "version": expected_version + 1}
        _check_size(item)
        try:
            with dynamodb_errors():
                self.table.put_item(
                    Item=item, ConditionExpression=Attr("version").eq(expected_version)
                )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise self._stale(item[HASH_KEY]) from exc
            raise
        return item

    def update(
        self,
        profile_id: str,
        expected_version: int,
        *,
        update_expression: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """Apply an UpdateExpression (built by ``patching``) if the version still matches."""
        names = {**names, "#version": "version"}
        values = {**values, ":one": 1}
        if expected_version == 0:
            condition = "attribute_not_exists(#version)"
        else:
            condition = "#version = :expected_version"
            values[":expected_version"] = expected_version
        expression = (
            f"{update_expression} ADD #version :one" if update_expression else "ADD #version :one"
        )
        try:
            with dynamodb_errors():
                response = self.table.update_item(
                    Key={HASH_KEY: profile_id},
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise self._stale(profile_id) from exc
            raise
        return response["Attributes"]

    def delete(self, profile_id: str, expected_version: int) -> None:
        try:
            with dynamodb_errors():
                self.table.delete_item(
                    Key={HASH_KEY: profile_id},
                    ConditionExpression=Attr("version").eq(expected_version),
                )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise self._stale(profile_id) from exc
            raise

    def query(
        self, index: str, value: str, *, limit: int, start_key: dict[str, str] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of an index query: (items, LastEvaluatedKey or None)."""
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": Key(INDEXES[index]).eq(value),
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        with dynamodb_errors():
            response = self.table.query(**kwargs)
        return response.get("Items", []), response.get("LastEvaluatedKey")

    def _stale(self, profile_id: str) -> NotFound | VersionConflict:
        # A failed condition means either the item is gone or its version moved on.
        if self.get(profile_id) is None:
            return NotFound(f"Profile '{profile_id}' does not exist.")
        return VersionConflict(
            f"Profile '{profile_id}' was changed by another writer; read it again and retry.",
        )
