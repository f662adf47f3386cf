"""Gradebook writes: PUT (201 create / 200 replace) and DELETE of lineItems, results, categories."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import null, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.errors import INVALID_DATA, BadRequest, Forbidden
from gateway.oneroster.catalogue import Entity, Field, View, catalogue
from gateway.oneroster.service import (
    MAX_SOURCED_ID,
    Reach,
    exists_in_view,
    storable,
    unknown_object,
    view_conditions,
)
from gateway.oneroster.shared import IN_USE, in_use_outside

_SERVER_OWNED = ("sourcedId", "dateLastModified")


def _invalid(problems: dict[str, list[str]]) -> BadRequest:
    """A 400 naming each field at fault (imsx_description and one imsx_codeMinorField each)."""
    return BadRequest("Invalid data.", validation_errors=problems, code_minor=INVALID_DATA)


def _value(f: Field, raw: Any) -> Any:
    """Input value → column value; raises ValueError with a reason."""
    if f.kind in ("string", "enum"):
        if not isinstance(raw, str):
            raise ValueError("must be a string")
        if "\x00" in raw:
            raise ValueError("cannot contain NUL characters")
        if f.kind == "enum" and raw not in f.values:
            raise ValueError(f"must be one of {', '.join(f.values)}")
        return raw
    if f.kind == "date":
        if not isinstance(raw, str):
            raise ValueError("must be a date YYYY-MM-DD")
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
        return dt.datetime.fromisoformat(raw).date()  # some consumers send a full date-time
    if f.kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise ValueError("must be a number")
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return number
    if f.kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ValueError("must be a boolean")
    if f.kind == "ref":
        sourced_id = raw.get("sourcedId") if isinstance(raw, dict) else raw
        if not isinstance(sourced_id, str) or not sourced_id:
            raise ValueError("must be a GUIDRef with a sourcedId")
        return sourced_id
    if f.kind == "object":
        if not isinstance(raw, dict):
            raise ValueError("must be an object")
        return raw
    raise ValueError("cannot be written")


def _record(view: View, body: Any, sourced_id: str) -> dict[str, Any]:
    entity = view.entity
    if isinstance(body, dict) and entity.single in body:
        body = body[entity.single]
    if not isinstance(body, dict):
        raise _invalid({entity.single: [f'the body must be {{"{entity.single}": {{…}}}}']})
    if body.get("sourcedId", sourced_id) != sourced_id:
        raise _invalid({f"{entity.single}.sourcedId": ["differs from the one in the path"]})
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, f in entity.fields.items():
        if name in _SERVER_OWNED or f.column is None:
            continue
        raw = body.get(name)
        where = f"{entity.single}.{name}"
        if raw is None or raw == "":
            if f.required:
                problems.setdefault(where, []).append("is required")
            # an absent object is SQL NULL, never a stored JSON null
            values[f.column] = (
                "active" if name == "status" else (null() if f.kind == "object" else None)
            )
            continue
        try:
            values[f.column] = _value(f, raw)
        except ValueError as exc:
            problems.setdefault(where, []).append(str(exc) or "is invalid")
    if problems:
        raise _invalid(problems)
    return values


def _check_references(
    session: Session, entity: Entity, values: Mapping[str, Any], reach: Reach
) -> None:
    views = catalogue().views
    problems: dict[str, list[str]] = {}
    for name, f in entity.fields.items():
        if f.kind != "ref" or values.get(f.column_name) is None:
            continue
        sourced_id = values[f.column_name]
        target = views[f.refers_to or catalogue().hrefs[f.target_type]]
        if not exists_in_view(session, target, sourced_id, reach):
            problems[f"{entity.single}.{name}"] = [f"names unknown {f.target} {sourced_id}"]
    if problems:
        raise _invalid(problems)


def put(session: Session, view: View, sourced_id: str, body: Any, reach: Reach) -> bool:
    """Creates or replaces the record; returns True when it was created."""
    entity = view.entity
    table = entity.table
    if not storable(sourced_id):
        raise _invalid({"sourcedId": [f"must be 1 to {MAX_SOURCED_ID} characters, without NUL"]})
    values = _record(view, body, sourced_id)
    _check_references(session, entity, values, reach)
    values.update(date_last_modified=utcnow(), origin="oneroster-rest")
    # ON CONFLICT makes create-or-replace atomic when two requests PUT the same new sourcedId.
    created = session.execute(
        insert(table)
        .values(sourced_id=sourced_id, **values)
        .on_conflict_do_nothing(index_elements=["sourced_id"])
        .returning(table.c.sourced_id)
    ).first()
    if created is None:
        if not exists_in_view(session, view, sourced_id, reach):
            raise Forbidden(
                f"{entity.single} {sourced_id} belongs to another organization",
                code_minor="forbidden",
            )
        _check_shared(session, entity, sourced_id, reach)
        session.execute(update(table).where(table.c.sourced_id == sourced_id).values(**values))
    # mapping layer (issue 5): project into Ed-Fi inside this transaction
    _project(session, view, sourced_id)
    session.commit()
    return created is not None


def delete(session: Session, view: View, sourced_id: str, reach: Reach) -> None:
    """Marks the record `tobedeleted`: the tombstone lets delta consumers see the deletion."""
    table = view.entity.table
    if not storable(sourced_id):
        raise unknown_object(view.entity.single, sourced_id)
    _check_shared(session, view.entity, sourced_id, reach)
    done = session.execute(
        update(table)
        .where(
            table.c.sourced_id == sourced_id,
            table.c.status != "tobedeleted",
            *view_conditions(view, reach),
        )
        .values(status="tobedeleted", date_last_modified=utcnow())
        .returning(table.c.sourced_id)
    ).first()
    if done is None:
        raise unknown_object(view.entity.single, sourced_id)
    # mapping layer (issue 5): project into Ed-Fi inside this transaction
    _project(session, view, sourced_id)
    session.commit()


def _check_shared(session: Session, entity: Entity, sourced_id: str, reach: Reach) -> None:
    """A limited client leaves alone the shared records other organizations use
    (gateway.oneroster.shared)."""
    if reach.unrestricted:
        return
    if in_use_outside(session, entity, [sourced_id], reach.sourced_ids):
        raise Forbidden(f"{entity.single} {sourced_id} {IN_USE}", code_minor="forbidden")


def _project(session: Session, view: View, sourced_id: str) -> None:
    """Mapping layer (issue 5): the gradebook write's Ed-Fi projection, same transaction."""
    from gateway.auth import current_client
    from gateway.mapping.to_edfi.per_record import project_oneroster

    client = current_client()
    namespace = client.namespace_prefix if client is not None else None
    project_oneroster(session, view.entity.single, [sourced_id], namespace)
