"""Opaque paging cursors over DynamoDB's LastEvaluatedKey.

The key is signed with the app's secret, so a client can hand it back but not forge or edit it,
and it is bound to the index and value it was issued for; anything else is a 400.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from gateway.errors import ParameterValidationFailed

_SALT = "gateway.profiles.cursor"


def _invalid() -> ParameterValidationFailed:
    return ParameterValidationFailed(
        "The cursor is not valid for this query; start again without it.",
        validation_errors={"$.cursor": ["Not a cursor issued for this query."]},
    )


class CursorCodec:
    def __init__(self, secret: str | bytes) -> None:
        self._serializer = URLSafeSerializer(secret, salt=_SALT)

    def encode(self, index: str, value: str, key: dict[str, Any]) -> str:
        return self._serializer.dumps(
            {"i": index, "v": value, "k": {k: str(v) for k, v in key.items()}}
        )

    def decode(
        self, token: str, index: str, value: str, key_attributes: tuple[str, ...]
    ) -> dict[str, str]:
        try:
            payload = self._serializer.loads(token)
        except BadData as exc:
            raise _invalid() from exc
        if not isinstance(payload, dict) or payload.get("i") != index or payload.get("v") != value:
            raise _invalid()
        key = payload.get("k")
        if not isinstance(key, dict) or set(key) != set(key_attributes):
            raise _invalid()
        return key
