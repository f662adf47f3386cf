"""Values inside the JSONB properties (collections, common types) of a stored record.

References and descriptors inside collection items live in one JSONB column per top-level
property. These helpers find them in a document by their definition steps, build the JSONB
containment documents (`column @> …`) that find records using a value, and rewrite a reference's
key values in place (key-change cascades).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from gateway.edfi.definitions import Reference

Steps = tuple[tuple[str, str], ...]


def containment(steps: Steps, leaf: tuple[str, ...], value: Any) -> Any:
    """The smallest JSON document a column (steps[0]) must contain for `value` to sit at
    steps + leaf: [{"uses": [{"languageUseDescriptor": v}]}] for $.languages[*].uses[*]…"""
    inner: Any = value
    for key in reversed(leaf):
        inner = {key: inner}
    for name, kind in reversed(steps[1:]):
        inner = {name: [inner] if kind == "[]" else inner}
    return [inner] if steps[0][1] == "[]" else inner


def objects(root: Any, steps: Steps, path: str = "$") -> Iterator[tuple[str, dict]]:
    """(JSON path, object) for every object the steps lead to; `root` is the value of the
    top-level property steps[0] names. Malformed parts are skipped (validation reports them)."""
    name, kind = steps[0]
    here = f"{path}.{name}"
    if kind == "[]":
        children = (
            [(f"{here}[{i}]", item) for i, item in enumerate(root)]
            if isinstance(root, list)
            else []
        )
    else:
        children = [(here, root)]
    for child_path, child in children:
        if not isinstance(child, dict):
            continue
        if len(steps) == 1:
            yield child_path, child
        else:
            yield from objects(child.get(steps[1][0]), steps[1:], child_path)


def reference_objects(root: Any, ref: Reference) -> Iterator[tuple[str, dict]]:
    """(JSON path, reference object) for each occurrence of an item reference."""
    for path, obj in objects(root, ref.steps):
        value = obj.get(ref.name)
        if isinstance(value, dict):
            yield f"{path}.{ref.name}", value


def typed(spec: dict, value: Any) -> Any:
    """A JSON key value as the python value its target column holds (dates are text in JSON)."""
    if isinstance(value, str) and spec.get("format") == "date":
        return date.fromisoformat(value)
    if isinstance(value, str) and spec.get("format") == "date-time":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def reference_key(ref: Reference, obj: dict) -> tuple | None:
    """The reference's key as typed values, or None when a field is missing."""
    values = []
    for (field, _), spec in zip(ref.fields, ref.specs, strict=True):
        if obj.get(field) is None:
            return None
        try:
            values.append(typed(spec, obj[field]))
        except ValueError:
            return None  # validation has already refused such a value
    return tuple(values)


def rewrite_references(root: Any, ref: Reference, old: dict, new: dict) -> int:
    """Set the key fields of every occurrence of `ref` equal to `old` to `new`, in place;
    returns how many occurrences changed."""
    changed = 0
    for _path, obj in reference_objects(root, ref):
        if all(obj.get(f) == v for f, v in old.items()):
            obj.update(new)
            changed += 1
    return changed
