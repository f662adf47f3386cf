"""JSON merge patch (RFC 7396) for profiles, and its translation into one DynamoDB UpdateExpression.

A PATCH touches only the nested attributes it names
(``preferences.notification_settings.sms_notifications``),
so concurrent patches of different parts of a profile do not rewrite each other's data.
"""

from __future__ import annotations

from typing import Any

# DynamoDB refuses expressions longer than 4 KB; past this we set whole top-level attributes.
MAX_EXPRESSION_CHARS = 4000


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class _Expression:
    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.sets: list[str] = []
        self.removes: list[str] = []

    def path(self, segments: tuple[str, ...]) -> str:
        placeholders = []
        for segment in segments:
            placeholder = next((k for k, v in self.names.items() if v == segment), None)
            if placeholder is None:
                placeholder = f"#n{len(self.names)}"
                self.names[placeholder] = segment
            placeholders.append(placeholder)
        return ".".join(placeholders)

    def set(self, segments: tuple[str, ...], value: Any) -> None:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        self.sets.append(f"{self.path(segments)} = {placeholder}")

    def remove(self, segments: tuple[str, ...]) -> None:
        self.removes.append(self.path(segments))

    def text(self) -> str:
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        return " ".join(clauses)


def _walk(
    expr: _Expression, current: Any, patch: dict, merged: Any, prefix: tuple[str, ...]
) -> None:
    for key, value in patch.items():
        segments = (*prefix, key)
        exists = isinstance(current, dict) and key in current
        if value is None:
            if exists:
                expr.remove(segments)
        elif isinstance(value, dict) and exists and isinstance(current[key], dict):
            # The map is already stored, so its members can be addressed one by one.
            _walk(expr, current[key], value, merged[key], segments)
        else:
            expr.set(segments, merged[key])


def plan_update(
    current: dict[str, Any], patch: dict[str, Any], merged: dict[str, Any]
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(UpdateExpression, names, values) turning ``current`` into ``merged`` along ``patch``.

    ``current`` is the stored item the write is conditioned on, ``merged`` the validated result in
    DynamoDB types: values are taken from it, so they are exactly what validation accepted.
    """
    expr = _Expression()
    _walk(expr, current, patch, merged, ())
    if len(expr.text()) > MAX_EXPRESSION_CHARS:
        expr = _Expression()
        for key in patch:
            if key in merged:
                expr.set((key,), merged[key])
            elif key in current:
                expr.remove((key,))
    return expr.text(), expr.names, expr.values
