"""OAuth 2.0 client-credentials token endpoint (RFC 6749 §4.4), token info and revocation."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from flask import Response, current_app, jsonify, request
from flask_smorest import Blueprint

from gateway.auth import clients, tokens
from gateway.auth.models import ApiClient
from gateway.db import get_session
from gateway.edfi import claim_sets
from gateway.errors import BadRequest, PayloadTooLarge, render_edfi_error

blp = Blueprint("oauth", __name__, url_prefix="/oauth", description="OAuth 2.0 client credentials")

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CREDENTIALS_TWICE = "Send client credentials in one place only (Basic or body)."


def _oauth_error(error: str, description: str, status: int):
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers.update(_NO_STORE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="gateway"'
    return response


@blp.errorhandler(BadRequest)
@blp.errorhandler(PayloadTooLarge)
def _unreadable_body(err: BadRequest | PayloadTooLarge):
    """A body the request refused to parse (too long, nested too deep): RFC 6749's error shape."""
    return _oauth_error("invalid_request", err.message, err.status)


def _body() -> dict:
    """Form-encoded or JSON body, whichever the client sent."""
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return request.form.to_dict()


class _MalformedBasic(Exception):
    """An Authorization: Basic header that is not base64 of `key:secret`."""


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _MalformedBasic from None
    key, colon, secret = decoded.partition(":")
    if not colon:
        raise _MalformedBasic
    # RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
    return unquote(key), unquote(secret)


def _authenticate(body: dict) -> tuple[ApiClient | None, str | None]:
    """The client, or the error: "malformed" (a Basic header that cannot be read), "empty" (Basic
    with an empty key or secret), "twice" (credentials in the header and the body),
    "invalid_client"."""
    try:
        basic = _basic_credentials()
    except _MalformedBasic:
        return None, "malformed"
    in_body = "client_id" in body or "client_secret" in body
    if basic is not None and in_body:
        return None, "twice"
    if basic is not None and not (basic[0] and basic[1]):
        return None, "empty"
    key, secret = basic if basic is not None else (body.get("client_id"), body.get("client_secret"))
    if not key or not secret or not isinstance(key, str) or not isinstance(secret, str):
        return None, "invalid_client"
    client = clients.verify_credentials(get_session(), key, secret)
    return client, None if client else "invalid_client"


def _authentication_error(error: str | None):
    """As the Ed-Fi ODS/API 7.3 answers each failed client authentication."""
    if error == "twice":
        return _oauth_error("invalid_request", _CREDENTIALS_TWICE, 400)
    if error == "malformed":
        return _oauth_error(
            "invalid_request", "The Authorization header is not valid Basic credentials.", 400
        )
    if error == "empty":
        return _oauth_error("invalid_request", "The client key and secret are required.", 401)
    return _oauth_error("invalid_client", "Client authentication failed.", 401)


_NOT_A_NUMBER = (
    "The supplied 'scope' was not a number (it should be an EducationOrganizationId that is "
    "explicitly associated with the client)."
)
_NOT_ASSOCIATED = (
    "The client is not explicitly associated with the EducationOrganizationId specified in the "
    "requested 'scope'."
)


@blp.route("/token", methods=["POST"], strict_slashes=False)
@blp.doc(security=[])
def token():
    """Issue an access token (client credentials grant)

    Credentials as HTTP Basic or `client_id`/`client_secret` in a form-encoded or JSON body.
    """
    body = _body()
    grant_type = body.get("grant_type")
    if not grant_type:
        return _oauth_error("invalid_request", "grant_type is required.", 400)
    if grant_type != "client_credentials":
        return _oauth_error(
            "unsupported_grant_type", "Only the client_credentials grant is supported.", 400
        )
    client, error = _authenticate(body)
    if client is None:
        return _authentication_error(error)
    requested = body.get("scope")
    if requested is not None and not isinstance(requested, str):
        return _oauth_error("invalid_request", "scope must be a space-separated string.", 400)
    words = requested.split() if requested else []
    # A number is an education organization the token is narrowed to (ODS/API 7.3); it must be
    # one the client lists, not one it reaches through them.
    edorgs = [w for w in words if w.isascii() and w.isdigit()]
    if len(edorgs) > 1:
        return _oauth_error(
            "invalid_scope", "Only one EducationOrganizationId may be requested in 'scope'.", 400
        )
    if edorgs and edorgs[0] not in (client.education_organization_ids or ()):
        return _oauth_error("invalid_scope", _NOT_ASSOCIATED, 400)
    scopes = [w for w in words if w not in edorgs] or list(client.scopes)
    outside = [s for s in scopes if s not in client.scopes]
    if outside and not set(outside) & set(clients.known_scopes()):
        return _oauth_error("invalid_scope", _NOT_A_NUMBER, 400)  # the ODS/API's words
    if outside:
        return _oauth_error(
            "invalid_scope", f"Scope not granted to this client: {' '.join(outside)}", 400
        )
    session = get_session()
    expires_in = current_app.config["TOKEN_EXPIRES_IN"]
    access_token = tokens.issue_token(
        session, client, scopes, expires_in, edorgs[0] if edorgs else None
    )
    session.commit()
    answer = {"access_token": access_token, "expires_in": expires_in, "token_type": "bearer"}
    if words:
        # what was asked for and granted: the named scopes, then the organization
        answer["scope"] = " ".join([w for w in words if w not in edorgs] + edorgs)
    response = jsonify(answer)
    response.headers.update(_NO_STORE)
    return response


@blp.route("/token_info", methods=["POST"], strict_slashes=False)
@blp.doc(security=[])
def token_info():
    """Describe the client behind a token

    Body `{"token": "…"}` (JSON or form). Unknown, expired or revoked tokens answer
    `{"active": false}`.
    """
    body = _body()
    value = body.get("token", body.get("Token"))
    if not isinstance(value, str) or not value:
        return render_edfi_error(
            BadRequest(
                "An invalid token was provided",
                errors=["The token was not present, or was not processable as a GUID value."],
            )
        )
    # As the ODS/API, when the caller authenticates: a token that authenticates nobody is a
    # 401 without a body, and only the caller's own token may be inspected.
    scheme, _, bearer = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and bearer.strip():
        if tokens.lookup(get_session(), bearer.strip()) is None:
            return Response(status=401)
        if bearer.strip() != value:
            return render_edfi_error(
                BadRequest(
                    "The authentication token and the token to inspect must match.",
                    errors=[
                        "The authentication token (header) and the token to inspect in the body "
                        "must match."
                    ],
                )
            )
    found = tokens.lookup(get_session(), value)
    if found is None:
        return jsonify({"active": False})
    ctx, access = found
    return jsonify(
        {
            "active": True,
            "client_id": ctx.key,
            "name": ctx.name,
            "education_organizations": [
                {"education_organization_id": e} for e in ctx.education_organization_ids
            ],
            "district_wide": ctx.unrestricted,
            "namespace_prefixes": list(ctx.namespace_prefixes),
            "claim_set": {"name": ctx.claim_set},
            "resources": claim_sets.granted_resources(ctx.claim_set) if ctx.claim_set else [],
            "services": claim_sets.granted_services(ctx.claim_set) if ctx.claim_set else [],
            "scopes": sorted(ctx.scopes),
            "exp": int(access.expires_at.timestamp()),
        }
    )


@blp.route("/revoke", methods=["POST"], strict_slashes=False)
@blp.doc(security=[])
def revoke():
    """Revoke an access token (RFC 7009)

    The client authenticates as for /oauth/token; body `token=…`.
    """
    body = _body()
    client, error = _authenticate(body)
    if client is None:
        return _authentication_error(error)
    value = body.get("token")
    if not isinstance(value, str) or not value:
        return _oauth_error("invalid_request", "token is required.", 400)
    session = get_session()
    tokens.revoke_token(session, value, client.id)
    session.commit()
    return ("", 200)
