"""Deterministic sourcedIds: one Ed-Fi natural key always yields the same OneRoster sourcedId."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from gateway.mapping.crosswalks import load

# json.dumps with these options would build this encoder on every call
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def canonical_key(key: dict[str, Any]) -> str:
    """A natural key as canonical JSON (sorted names, dates as ISO text, ints as ints)."""
    return _CANONICAL.encode(
        {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in key.items()}
    )


def sourced_id(resource: str, key: dict[str, Any], attempt: int = 0) -> str:
    """`<prefix>-<uuid5(resource|key)>`; `attempt` > 0 gives the next candidate when a record that
    changed its key still holds the first one."""
    doc = load("identifiers")
    name = f"{resource}|{canonical_key(key)}" + (f"#{attempt}" if attempt else "")
    return f"{doc['prefixes'][resource]}-{uuid.uuid5(uuid.UUID(doc['namespace']), name)}"
