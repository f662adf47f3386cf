"""DynamoDB attribute values <-> JSON values for profile documents.

boto3's resource API wants ``Decimal`` for every number and refuses floats, NaN,
infinities, empty sets and numbers it cannot hold in 38 digits; JSON clients want
plain numbers back. Everything crossing the boundary goes through this module so
those rules live in one place and bad values become a 400 naming the field.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary

from gateway.errors import ValidationFailed

# DynamoDB's own hard limit on one item, names and values together.
MAX_ITEM_BYTES = 400 * 1024


def _number(
    value: int | float | Decimal, path: str, errors: dict[str, list[str]]
) -> Decimal | None:
    try:
        # repr() keeps the shortest exact decimal form of a float (0.1 stays 0.1).
        number = DYNAMODB_CONTEXT.create_decimal(repr(value) if isinstance(value, float) else value)
    except DecimalException:
        errors.setdefault(path, []).append(
            "Number cannot be stored: at most 38 significant digits, magnitude 1E-130 to 9.99E+125."
        )
        return None
    if not number.is_finite():
        errors.setdefault(path, []).append("NaN and infinite numbers are not allowed.")
        return None
    return number


def _to_attribute(value: Any, path: str, errors: dict[str, list[str]]) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, Decimal)):
        return _number(value, path, errors)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or key == "":
                errors.setdefault(f"{path}", []).append("Object keys must be non-empty strings.")
                continue
            out[key] = _to_attribute(item, f"{path}.{key}", errors)
        return out
    if isinstance(value, (list, tuple)):
        return [_to_attribute(item, f"{path}[{i}]", errors) for i, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        # DynamoDB has no empty set; a list keeps the values and allows emptiness.
        return [_to_attribute(item, f"{path}[{i}]", errors) for i, item in enumerate(sorted(value))]
    errors.setdefault(path, []).append(f"Unsupported value of type {type(value).__name__}.")
    return None


def to_item(document: dict[str, Any], root: str = "$") -> dict[str, Any]:
    """A JSON document as a DynamoDB item (numbers as Decimal); ValidationFailed on bad values."""
    errors: dict[str, list[str]] = {}
    item = {key: _to_attribute(value, f"{root}.{key}", errors) for key, value in document.items()}
    if errors:
        raise ValidationFailed(
            "The profile contains values DynamoDB cannot store.", validation_errors=errors
        )
    return item


def to_attribute(value: Any, path: str) -> Any:
    """One JSON value as a DynamoDB attribute value (for update expressions)."""
    errors: dict[str, list[str]] = {}
    out = _to_attribute(value, path, errors)
    if errors:
        raise ValidationFailed(
            "The profile contains values DynamoDB cannot store.", validation_errors=errors
        )
    return out


def from_attribute(value: Any) -> Any:
    """A DynamoDB attribute value as plain JSON (Decimal -> int or float, sets -> sorted lists)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_attribute(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_attribute(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(from_attribute(item) for item in value)
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: from_attribute(value) for key, value in item.items()}


def _value_size(value: Any) -> int:
    # Sizes follow DynamoDB's documented item-size rules (strings and names as UTF-8,
    # numbers about one byte per two digits, 3 bytes per list/map plus 1 per element).
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        return (digits + 1) // 2 + 1
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, Binary):
        return len(value.value)
    if isinstance(value, dict):
        return 3 + sum(1 + len(k.encode("utf-8")) + _value_size(v) for k, v in value.items())
    if isinstance(value, (list, set, frozenset, tuple)):
        return 3 + sum(1 + _value_size(v) for v in value)
    return len(str(value).encode("utf-8"))


def item_size(item: dict[str, Any]) -> int:
    """Estimated stored size of an item in bytes, as DynamoDB counts it against 400 KB."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())
