"""Unicode NFC normalisation of every text input (compliance rule 1).

Composed and decomposed forms of the same name must never make two records, so the request object
hands views NFC text: JSON bodies, query arguments and form fields alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from flask import Request, current_app, has_app_context
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

from gateway.errors import BadRequest, PayloadTooLarge

DEFAULT_MAX_JSON_DEPTH = 64


class JsonTooDeep(BadRequest):
    """A JSON body nested deeper than MAX_JSON_DEPTH: refused before any code walks it."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The JSON body is nested more than {limit} levels deep.")


def nfc(value: Any) -> Any:
    """NFC-normalise strings anywhere inside a JSON-like value (keys included)."""
    if isinstance(value, str):
        # ASCII text is NFC already (the check is a flag of the string, not a scan)
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc(v) for v in value]
    return value


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply arrays and objects nest in `value`, counting stops past `limit` (no recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


def max_json_depth() -> int:
    configured = current_app.config.get("MAX_JSON_DEPTH") if has_app_context() else None
    return int(configured or DEFAULT_MAX_JSON_DEPTH)


def checked_json(parse: Callable[[], Any]) -> Any:
    """`parse()`'s JSON value, NFC-normalised, or JsonTooDeep when it nests past MAX_JSON_DEPTH:
    the one nesting rule for request bodies and the lines of bulk packages alike."""
    limit = max_json_depth()
    try:
        value = parse()
    except RecursionError:  # deeper than the interpreter's stack: far past any limit
        raise JsonTooDeep(limit) from None
    if nesting_depth(value, limit) > limit:
        raise JsonTooDeep(limit)
    return nfc(value)


class GatewayRequest(Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The JSON body, NFC-normalised; too long or too deeply nested raises a 4xx even when
        `silent` (silence covers only malformed JSON)."""
        limit = current_app.config.get("MAX_JSON_LENGTH")
        if limit and self.content_length is not None and self.content_length > limit:
            raise PayloadTooLarge(f"The JSON body exceeds {limit} bytes.")
        return checked_json(lambda: super(GatewayRequest, self).get_json(force, silent, cache))

    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        query = self.query_string.decode("utf-8", "replace")
        pairs = parse_qsl(query, keep_blank_values=True)
        return ImmutableMultiDict([(nfc(k), nfc(v)) for k, v in pairs])

    def _load_form_data(self) -> None:
        super()._load_form_data()
        form = self.__dict__.get("form")
        if form is not None:
            self.__dict__["form"] = ImmutableMultiDict(
                [(nfc(k), nfc(v)) for k, v in form.items(multi=True)]
            )
