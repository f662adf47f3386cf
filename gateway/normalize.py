"""Unicode NFC normalisation of every text input (compliance rule 1).

Composed and decomposed forms of the same name must never make two records, so the request object
hands views NFC text: JSON bodies, query arguments and form fields alike.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from flask import Request, current_app
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property

from gateway.errors import PayloadTooLarge


def nfc(value: Any) -> Any:
    """NFC-normalise strings anywhere inside a JSON-like value (keys included)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc(v) for v in value]
    return value


class GatewayRequest(Request):
    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        limit = current_app.config.get("MAX_JSON_LENGTH")
        if limit and self.content_length is not None and self.content_length > limit:
            raise PayloadTooLarge(f"The JSON body exceeds {limit} bytes.")
        return nfc(super().get_json(force=force, silent=silent, cache=cache))

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
