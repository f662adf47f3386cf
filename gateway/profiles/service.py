"""Profile rules: validation, organization reach, optimistic concurrency, the OneRoster link.

The service is handed its repository, SQL session, the caller's organization scope and a cursor
codec; it knows nothing about HTTP. Every write is based on a strongly consistent read of the
stored version and conditioned on it: a concurrent writer yields a conflict, never a lost update.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.errors import (
    Forbidden,
    KeyChangeNotSupported,
    NotFound,
    ParameterValidationFailed,
    PayloadTooLarge,
    PreconditionFailed,
    ValidationFailed,
)

from .codec import MAX_ITEM_BYTES, from_item, item_size, to_item
from .cursor import CursorCodec
from .links import linked_user_sourced_ids, unknown_students
from .patching import merge_patch, plan_update
from .repository import HASH_KEY, INDEXES, ProfileRepository, VersionConflict
from .schemas import SERVER_FIELDS, load_profile

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


def school_in_scope(scope: OrgScope, school_id: str) -> bool:
    """school_id is an Ed-Fi school id or a OneRoster org sourcedId; OrgScope knows both names."""
    if scope.covers_sourced_id(school_id):
        return True
    # Only the canonical spelling of a number is an Ed-Fi id ("0255" is a sourcedId, not 255).
    return (
        school_id.isdigit()
        and str(int(school_id)) == school_id
        and scope.covers_edfi(int(school_id))
    )


def etag_for(item: dict[str, Any]) -> str:
    # The version alone would repeat when a profile is deleted and created again.
    origin = hashlib.sha256(f"{item[HASH_KEY]}|{item.get('created_at', '')}".encode()).hexdigest()[
        :10
    ]
    return f"{_version(item)}-{origin}"


def _version(item: dict[str, Any]) -> int:
    """The stored version; 0 for an item some other writer stored without one."""
    return int(item.get("version", 0))


def _check_key(profile_id: str, body: dict[str, Any]) -> None:
    if body.get(HASH_KEY, profile_id) != profile_id:
        raise KeyChangeNotSupported(
            "profile_id cannot be changed.",
            validation_errors={"$.profile_id": ["Must match the URL."]},
        )


def timestamp() -> str:
    """Now, as the ISO 8601 UTC date-time stored in created_at / updated_at."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ProfileService:
    def __init__(
        self, repository: ProfileRepository, session: Session, scope: OrgScope, cursors: CursorCodec
    ) -> None:
        self.repository = repository
        self.session = session
        self.scope = scope
        self.cursors = cursors

    # reads ---------------------------------------------------------------------------------

    def get(self, profile_id: str) -> tuple[dict[str, Any], str]:
        item = self._visible(profile_id)
        return self._present([item])[0], etag_for(item)

    def find(
        self, *, school_id: str | None, email: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if (school_id is None) == (email is None):
            raise ParameterValidationFailed(
                "Query profiles by exactly one of school_id or email.",
                validation_errors={
                    "$.school_id": ["Give school_id or email, not both or neither."]
                },
            )
        index, value = ("school-index", school_id) if school_id else ("email-index", email or "")
        if index == "school-index" and not school_in_scope(self.scope, value):
            raise Forbidden(f"School '{value}' is outside the client's education organizations.")
        size = DEFAULT_PAGE_SIZE if limit is None else limit
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ParameterValidationFailed(
                "limit is out of range.",
                validation_errors={"$.limit": [f"Must be between 1 and {MAX_PAGE_SIZE}."]},
            )
        key_attributes = (HASH_KEY, INDEXES[index])
        start = self.cursors.decode(cursor, index, value, key_attributes) if cursor else None

        page: list[dict[str, Any]] = []
        more = False
        while True:
            items, start = self.repository.query(
                index, value, limit=size - len(page), start_key=start
            )
            for position, item in enumerate(items):
                if not school_in_scope(self.scope, str(item.get("school_id", ""))):
                    continue
                page.append(item)
                if len(page) == size:
                    more = position < len(items) - 1 or start is not None
                    break
            if len(page) == size or start is None:
                break
        next_cursor = None
        if more:
            last = page[-1]
            next_cursor = self.cursors.encode(index, value, {a: last[a] for a in key_attributes})
        return self._present(page), next_cursor

    # writes --------------------------------------------------------------------------------

    def create(self, document: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Store a new profile; ``document`` has passed ProfileDocument (see ``load_profile``)."""
        document = {k: v for k, v in document.items() if k != "version"}
        self._check_school(document["school_id"])
        self._check_students(document)
        now = timestamp()
        profile_id = document.get(HASH_KEY) or str(uuid.uuid4())
        item = self.repository.create(
            to_item({**document, HASH_KEY: profile_id, "created_at": now, "updated_at": now})
        )
        return self._present([item])[0], etag_for(item)

    def replace(
        self, profile_id: str, document: dict[str, Any], if_match: Collection[str] | None
    ) -> tuple[dict[str, Any], str]:
        current = self._visible(profile_id)
        _check_key(profile_id, document)
        self._check_preconditions(current, if_match, document)
        document = {k: v for k, v in document.items() if k != "version"}
        self._check_school(document["school_id"])
        self._check_students(document)
        item = to_item(
            {
                **document,
                HASH_KEY: profile_id,
                "created_at": current.get("created_at", timestamp()),
                "updated_at": timestamp(),
            }
        )
        with self._precondition(if_match):
            item = self.repository.replace(item, expected_version=_version(current))
        return self._present([item])[0], etag_for(item)

    def patch(
        self, profile_id: str, patch: Any, if_match: Collection[str] | None
    ) -> tuple[dict[str, Any], str]:
        if not isinstance(patch, dict):
            raise ValidationFailed(
                "A merge patch must be a JSON object.", validation_errors={"$": ["Not an object."]}
            )
        current = self._visible(profile_id)
        _check_key(profile_id, patch)
        self._check_preconditions(current, if_match, patch)
        changes = {k: v for k, v in patch.items() if k not in (*SERVER_FIELDS, HASH_KEY, "version")}
        stored = {
            k: v for k, v in from_item(current).items() if k not in (*SERVER_FIELDS, "version")
        }
        document = load_profile(merge_patch(stored, changes))
        self._check_school(document["school_id"])
        if "students_assigned" in changes:
            self._check_students(document)
        merged = to_item(
            {
                **document,
                HASH_KEY: profile_id,
                "created_at": current.get("created_at"),
                "updated_at": timestamp(),
            }
        )
        size = item_size({**merged, "version": _version(current) + 1})
        if size > MAX_ITEM_BYTES:
            raise PayloadTooLarge(
                f"The patched profile would be {size} bytes; the limit is {MAX_ITEM_BYTES}."
            )
        expression, names, values = plan_update(
            current, {**changes, "updated_at": merged["updated_at"]}, merged
        )
        with self._precondition(if_match):
            item = self.repository.update(
                profile_id,
                _version(current),
                update_expression=expression,
                names=names,
                values=values,
            )
        return self._present([item])[0], etag_for(item)

    def delete(self, profile_id: str, if_match: Collection[str] | None) -> None:
        current = self._visible(profile_id)
        self._check_preconditions(current, if_match, None)
        with self._precondition(if_match):
            self.repository.delete(profile_id, expected_version=_version(current))

    # helpers -------------------------------------------------------------------------------

    def _visible(self, profile_id: str) -> dict[str, Any]:
        item = self.repository.get(profile_id)
        # A profile of another organization is reported exactly like a missing one.
        if item is None or not school_in_scope(self.scope, str(item.get("school_id", ""))):
            raise NotFound(f"Profile '{profile_id}' does not exist.")
        return item

    def _check_school(self, school_id: str) -> None:
        if not school_in_scope(self.scope, school_id):
            raise Forbidden(
                f"School '{school_id}' is outside the client's education organizations.",
                validation_errors={
                    "$.school_id": ["Not one of the client's education organizations."]
                },
            )

    def _check_students(self, document: dict[str, Any]) -> None:
        assigned = document.get("students_assigned") or []
        unknown = unknown_students(self.session, assigned, self.scope)
        if unknown:
            raise ValidationFailed(
                "students_assigned names ids that are not OneRoster student users.",
                validation_errors={
                    f"$.students_assigned[{i}]": [
                        f"'{sid}' is not a OneRoster user with role student."
                    ]
                    for i, sid in enumerate(assigned)
                    if sid in unknown
                },
            )

    def _check_preconditions(
        self, current: dict[str, Any], if_match: Collection[str] | None, body: Any
    ) -> None:
        if if_match is not None and "*" not in if_match and etag_for(current) not in if_match:
            raise PreconditionFailed("The profile has changed since the given ETag; read it again.")
        expected = body.get("version") if isinstance(body, dict) else None
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            raise ValidationFailed(
                "version must be the integer version the write is based on.",
                validation_errors={"$.version": ["Not a valid integer."]},
            )
        if expected is not None and expected != _version(current):
            raise VersionConflict(
                f"The profile is at version {_version(current)}, not {expected}; "
                "read it again and retry.",
                details={"current_version": _version(current)},
            )

    @staticmethod
    @contextmanager
    def _precondition(if_match: Collection[str] | None) -> Iterator[None]:
        """With If-Match, a write that loses a race is 412 (the tag no longer matches), else 409."""
        try:
            yield
        except VersionConflict as exc:
            if if_match is None:
                raise
            raise PreconditionFailed(
                "The profile changed while it was being written; read it again."
            ) from exc

    def _present(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        links = linked_user_sourced_ids(self.session, (item[HASH_KEY] for item in items))
        return [
            {
                **from_item(item),
                "version": _version(item),
                "user_sourced_id": links.get(item[HASH_KEY]),
            }
            for item in items
        ]
