"""The demo data set's profile: the core data model's sample item, validated like any other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .codec import to_item
from .repository import ProfileExists, ProfileRepository
from .schemas import load_profile
from .service import timestamp

DEMO_FILE = Path(__file__).with_name("demo_profile.json")


def load_demo_profile(table: Any) -> str:
    document = load_profile(json.loads(DEMO_FILE.read_text(encoding="utf-8"))["profile"])
    now = timestamp()
    try:
        ProfileRepository(table).create(to_item({**document, "created_at": now, "updated_at": now}))
    except ProfileExists:
        pass
    return str(document["profile_id"])
