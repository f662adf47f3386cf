"""HTTP for the Ed-Fi API: one catch-all route per family, resolved case-insensitively against the
resource definitions; every resource is served by the same service."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest as WerkzeugBadRequest
from werkzeug.routing import BaseConverter, ValidationError

from gateway.audit import note_records
from gateway.auth import current_client, require_token
from gateway.auth.access import org_scope
from gateway.db import get_session
from gateway.edfi import documents, metadata
from gateway.edfi.definitions import Resource, registry
from gateway.edfi.documents import VALIDATION_DETAIL
from gateway.edfi.queries import CollectionReader, available_change_versions
from gateway.edfi.security import Authorizer
from gateway.edfi.service import ResourceService, strip_etag
from gateway.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    SnapshotNotFound,
    SnapshotReadOnly,
    UnsupportedMediaType,
    ValidationFailed,
    method_not_supported,
)

blp = Blueprint("edfi", __name__)

SUB_COLLECTIONS = {"deletes": "delete", "keychanges": "keyChange"}
# the ODS/API's words for a request the route does not accept
INVALID_REQUEST = "The request construction was invalid."
WITHOUT_ID = {
    "PUT": 'Resource collections cannot be replaced. To "upsert" an item in the collection, use '
    'POST. To update a specific item, use PUT and include the "id" in the route.',
    "DELETE": "Resource collections cannot be deleted. To delete a specific item, use DELETE "
    'and include the "id" in the route.',
}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # documents keep the definition's property order, so no key sorting here
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=status, headers=headers, mimetype="application/json")


def quoted(etag: str) -> str:
    return f'"{etag}"'


def authorizer() -> Authorizer:
    client = current_client()
    if client is None:  # require_token ran first; this is a programming error, not a client's
        raise RuntimeError("authorizer() needs an authenticated request")
    scope = org_scope(get_session(), client)
    return Authorizer(
        registry(),
        scope,
        client.namespace_prefixes,
        client.claim_set,
        client.education_organization_ids,
        client.ownership_token,
        client.ownership_tokens,
    )


EMPTY_BODY = "A non-empty request body is required."


def malformed_id(tail: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """The ODS/API's validation error for a resource id in the route that is no id."""
    if len(tail) == 1 and documents.parse_id(tail[0]) is None:
        return {"$.id": [f"The value '{tail[0]}' is not valid."]}
    return {}


def body(tail: tuple[str, ...] | list[str] = ()) -> Any:
    if not request.is_json:
        raise UnsupportedMediaType(
            "The request body must be JSON (Content-Type: application/json)."
        )
    # as the ODS/API: an empty body is a bad request (a POST) or a data validation failure on
    # "$" (a PUT, with the id's own problem); an unreadable one is a data validation failure
    if not request.get_data(cache=True).strip():
        if request.method == "POST":
            raise BadRequest(
                "The request could not be processed. See 'errors' for details.",
                errors=[EMPTY_BODY],
            )
        raise ValidationFailed(
            VALIDATION_DETAIL, validation_errors={"$": [EMPTY_BODY], **malformed_id(tail)}
        )
    try:
        return request.get_json()
    except WerkzeugBadRequest:
        text = request.get_data(cache=True).decode("utf-8", "replace")
        try:
            return json.loads(documents.without_trailing_commas(text))
        except ValueError:
            pass
        try:
            json.loads(text)
            reason = "."
        except ValueError as exc:  # the parser's own words: where and what
            reason = f": {exc}."
        raise ValidationFailed(
            VALIDATION_DETAIL,
            validation_errors={"$": [f"The request body is not valid JSON{reason}"]},
        ) from None


def refuse_snapshot() -> None:
    """`Use-Snapshot: true` asks for a read-only snapshot of the ODS; none is kept here, which
    the ODS/API 7.3 answers as an unconfigured snapshot connection (writes: read-only)."""
    if request.headers.get("Use-Snapshot", "").strip().lower() != "true":
        return
    if request.method == "GET":
        raise SnapshotNotFound(
            "Snapshot not found.",
            errors=["The snapshot connection for the ODS has not been configured."],
        )
    raise SnapshotReadOnly(
        "An attempt was made to modify data in a Snapshot, but this data is read-only."
    )


@require_token("edfi.read")
def read(res: Resource, tail: list[str]) -> Response:
    refuse_snapshot()
    session = get_session()
    auth = authorizer()
    if not tail:
        page = CollectionReader(session, registry(), auth).read(res, request.args)
        note_records(*page.ids)
        headers = {}
        if page.total_count is not None:
            headers["Total-Count"] = str(page.total_count)
        if page.next_page_token:
            headers["Next-Page-Token"] = page.next_page_token
        return Response(page.body, headers=headers, mimetype="application/json")
    if len(tail) == 1 and tail[0].lower() in SUB_COLLECTIONS:
        items, total = CollectionReader(session, registry(), auth).tracked(
            res, SUB_COLLECTIONS[tail[0].lower()], request.args
        )
        return json_response(
            items, headers={"Total-Count": str(total)} if total is not None else None
        )
    if len(tail) == 1 and tail[0].lower() == "partitions":
        return json_response(
            {
                "pageTokens": CollectionReader(session, registry(), auth).partitions(
                    res, request.args
                )
            }
        )
    if len(tail) != 1:
        raise NotFound("The requested resource does not exist.")
    note_records(tail[0])
    doc = ResourceService(session, registry(), auth).get(res, tail[0])
    etag = quoted(doc["_etag"])
    if strip_etag(request.headers.get("If-None-Match")) == doc["_etag"]:
        return Response(status=304, headers={"ETag": etag})
    return json_response(doc, headers={"ETag": etag})


@require_token("edfi.write")
def write(res: Resource, tail: list[str]) -> Response:
    refuse_snapshot()
    service = ResourceService(get_session(), registry(), authorizer())
    if request.method == "POST":
        if tail:
            raise MethodNotAllowed(
                INVALID_REQUEST,
                errors=[
                    'Resource items can only be updated using PUT. To "upsert" an item in the '
                    'resource collection using POST, remove the "id" from the route.'
                ],
            )
        created, new_id, etag = service.upsert(res, body())
        note_records(new_id)
        location = f"{request.host_url}data/v3/ed-fi/{res.name}/{new_id.hex}"
        return Response(
            status=201 if created else 200, headers={"Location": location, "ETag": quoted(etag)}
        )
    if len(tail) != 1 or tail[0].lower() in (*SUB_COLLECTIONS, "partitions"):
        raise MethodNotAllowed(INVALID_REQUEST, errors=[WITHOUT_ID[request.method]])
    note_records(tail[0])
    if_match = request.headers.get("If-Match")
    if request.method == "PUT":
        sent = body(tail)
        if malformed_id(tail):
            raise ValidationFailed(VALIDATION_DETAIL, validation_errors=malformed_id(tail))
        etag = service.replace(res, tail[0], sent, if_match)
        location = f"{request.host_url}data/v3/ed-fi/{res.name}/{tail[0]}"
        return Response(status=204, headers={"ETag": quoted(etag), "Location": location})
    if malformed_id(tail):
        raise ValidationFailed(VALIDATION_DETAIL, validation_errors=malformed_id(tail))
    service.delete(res, tail[0], if_match)
    return Response(status=204)


class CaseInsensitive(BaseConverter):
    """A path segment equal to `word` in any letter case (Ed-Fi clients differ in casing)."""

    part_isolating = True

    def __init__(self, url_map: Any, word: str) -> None:
        super().__init__(url_map)
        self.regex = f"(?i:{re.escape(word)})"


class ServedResource(BaseConverter):
    """A served resource's name in any letter case; other names are left to the 404 handler (and
    to other routes), so this context never swallows paths it does not serve."""

    part_isolating = True

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map)
        names = sorted(registry().resources, key=len, reverse=True)
        self.regex = "(?i:" + "|".join(re.escape(n) for n in names) + ")"

    def to_python(self, value: str) -> Resource:
        res = registry().find(value)
        if res is None:  # the regex admits only served names
            raise ValidationError()
        return res

    def to_url(self, value: Any) -> str:
        return value.name if isinstance(value, Resource) else str(value)


@blp.record_once
def _register_converters(state: Any) -> None:
    state.app.url_map.converters.setdefault("ci", CaseInsensitive)
    state.app.url_map.converters.setdefault("edfi_resource", ServedResource)


DATA = "/<ci('data'):_d>/<ci('v3'):_v>/<ci('ed-fi'):_e>/<edfi_resource:res>"
VERBS = ["GET", "POST", "PUT", "DELETE"]


# no automatic OPTIONS (and HEAD refused below): the ODS/API answers both with 405
@blp.route(DATA, methods=VERBS, strict_slashes=False, provide_automatic_options=False)
@blp.route(
    DATA + "/<path:rest>", methods=VERBS, strict_slashes=False, provide_automatic_options=False
)
def data(res: Resource, rest: str = "", **_segments: str) -> Response:
    if request.method == "HEAD":
        raise MethodNotAllowed(
            INVALID_REQUEST,
            errors=[method_not_supported("HEAD")],
            headers={"Allow": ", ".join(VERBS)},
        )
    tail = [p for p in rest.split("/") if p]
    return read(res, tail) if request.method == "GET" else write(res, tail)


@blp.route("/", methods=["GET"])
def discovery() -> Response:
    """Ed-Fi discovery document (readable without a token)."""
    return json_response(metadata.discovery(request.host_url))


@blp.route("/<ci('metadata'):_m>", methods=["GET"], strict_slashes=False)
@blp.route("/<ci('metadata'):_m>/<path:rest>", methods=["GET"], strict_slashes=False)
def metadata_route(rest: str = "", _m: str = "") -> Response:
    key = rest.strip("/").lower()
    base = request.host_url
    if key == "":
        return json_response(metadata.sections(base))
    for kind, path in metadata.SWAGGER_PATHS.items():
        if key == path.removeprefix("metadata/").lower():
            return json_response(metadata.swagger(kind, base))
    if key == "data/v3/dependencies":
        return json_response(metadata.dependencies())
    raise NotFound("The requested metadata does not exist.")


@blp.route("/<ci('changeQueries'):_c>/<path:rest>", methods=["GET"])
@require_token("edfi.read")
def change_queries(rest: str, _c: str = "") -> Response:
    if rest.strip("/").lower() != "v1/availablechangeversions":
        raise NotFound("The requested resource does not exist.")
    return json_response(available_change_versions(get_session()))
