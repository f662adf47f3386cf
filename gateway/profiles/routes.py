"""HTTP for profiles: /profiles and /profiles/{profile_id} (plain JSON errors)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from gateway.audit import note_records
from gateway.auth import current_client, require_token
from gateway.auth.access import org_scope
from gateway.db import get_session
from gateway.errors import ParameterValidationFailed, Unauthorized, ValidationFailed
from gateway.extensions import dynamodb, dynamodb_table_name

from .cursor import CursorCodec
from .repository import ProfileRepository
from .schemas import ProfileDocument, ProfilePage, ProfilePatch, ProfileQuery, flatten_errors
from .service import ProfileService


class ProfilesParser(FlaskParser):
    """webargs reading the app's (NFC-normalised) JSON and failing in the gateway's envelope."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        return req.get_json()

    def handle_error(
        self, error: Any, req: Any, schema: Any, *, error_status_code: Any, error_headers: Any
    ) -> Any:
        # webargs nests messages under the one location each schema reads ("json" or "query").
        messages = error.messages if isinstance(error.messages, dict) else {"json": error.messages}
        location, inner = next(iter(messages.items()))
        if location == "query":
            raise ParameterValidationFailed(
                "The query parameters are not valid.", validation_errors=flatten_errors(inner)
            )
        raise ValidationFailed(
            "The profile document is not valid.", validation_errors=flatten_errors(inner)
        )


class ProfilesBlueprint(Blueprint):
    ARGUMENTS_PARSER = ProfilesParser()


blp = ProfilesBlueprint(
    "profiles",
    __name__,
    url_prefix="/profiles",
    description="Professional profiles (DynamoDB). Scopes profiles.read / profiles.write.",
)


def _service() -> ProfileService:
    session = get_session()
    client = current_client()
    if client is None:  # require_token has run; this only narrows the type
        raise Unauthorized("A bearer token is required.")
    # Building a Table resource costs more than a GetItem's client-side work, so keep one per app.
    table = current_app.extensions.get("gateway.profiles.table")
    if table is None:
        table = dynamodb().Table(dynamodb_table_name("profiles"))
        current_app.extensions["gateway.profiles.table"] = table
    return ProfileService(
        ProfileRepository(table),
        session,
        org_scope(session, client),
        CursorCodec(current_app.config["SECRET_KEY"]),
    )


def _if_match() -> set[str] | None:
    if "If-Match" not in request.headers:
        return None
    if request.if_match.star_tag:
        return {"*"}
    return set(request.if_match.as_set())


def _document(body: dict[str, Any], etag: str, status: int = 200) -> Response:
    note_records(body["profile_id"])
    response = jsonify(body)
    response.status_code = status
    response.set_etag(etag)
    return response


@blp.route("")
class Profiles(MethodView):
    @require_token("profiles.read")
    @blp.arguments(ProfileQuery, location="query")
    @blp.response(200, ProfilePage)
    def get(self, args: dict[str, Any]) -> Any:
        """List profiles of a school (school-index) or with an email (email-index)

        Pass `next_cursor` back as `cursor` for the next page.
        """
        profiles, next_cursor = _service().find(
            school_id=args.get("school_id"),
            email=args.get("email"),
            limit=args.get("limit"),
            cursor=args.get("cursor"),
        )
        note_records(*(p["profile_id"] for p in profiles))
        return jsonify({"profiles": profiles, "next_cursor": next_cursor})

    @require_token("profiles.write")
    @blp.arguments(ProfileDocument)
    @blp.response(201, ProfileDocument)
    def post(self, document: dict[str, Any]) -> Any:
        """Create a profile (profile_id assigned unless given)"""
        body, etag = _service().create(document)
        response = _document(body, etag, 201)
        response.headers["Location"] = f"{request.base_url.rstrip('/')}/{body['profile_id']}"
        return response


@blp.route("/<string:profile_id>")
class ProfilesById(MethodView):
    @require_token("profiles.read")
    @blp.response(200, ProfileDocument)
    def get(self, profile_id: str) -> Any:
        """Read a profile, with the sourcedId of its linked OneRoster user"""
        return _document(*_service().get(profile_id))

    @require_token("profiles.write")
    @blp.arguments(ProfileDocument)
    @blp.response(200, ProfileDocument)
    def put(self, document: dict[str, Any], profile_id: str) -> Any:
        """Replace a profile (If-Match or body version guard against lost updates)"""
        return _document(*_service().replace(profile_id, document, _if_match()))

    @require_token("profiles.write")
    @blp.arguments(ProfilePatch)
    @blp.response(200, ProfileDocument)
    def patch(self, patch: dict[str, Any], profile_id: str) -> Any:
        """Update part of a profile with a JSON merge patch (nested fields merge, null removes)"""
        return _document(*_service().patch(profile_id, patch, _if_match()))

    @require_token("profiles.write")
    @blp.response(204)
    def delete(self, profile_id: str) -> Any:
        """Delete a profile"""
        _service().delete(profile_id, _if_match())
        note_records(profile_id)
        return Response(status=204)
