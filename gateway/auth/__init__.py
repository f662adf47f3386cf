"""Authentication and authorization: OAuth2 client credentials, scopes, organization reach."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, request
from flask_smorest import Api

from gateway.auth.context import ClientContext, current_client, set_current_client
from gateway.db import get_session
from gateway.errors import Forbidden, Unauthorized

__all__ = [
    "ClientContext",
    "authenticate_bearer",
    "check_scopes",
    "current_client",
    "require_token",
    "set_current_client",
]

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="gateway"'}
NOT_AUTHENTICATED = "The caller could not be authenticated."


def authenticate_bearer() -> ClientContext:
    """Resolve the request's bearer token to its client, or raise 401."""
    from gateway.auth.tokens import cached_lookup

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    # the ODS/API's words: a generic detail, the reason in `errors`
    if not header.strip():
        reason = "Authorization header is missing."
    elif scheme.lower() != "bearer":
        reason = "Unknown Authorization header scheme."
    elif not token.strip():
        reason = "Missing Authorization header bearer token value."
    else:
        reason = ""
    if reason:
        raise Unauthorized(NOT_AUTHENTICATED, errors=[reason], headers=_BEARER_CHALLENGE)
    found = cached_lookup(get_session(), token.strip(), current_app.config["TOKEN_CACHE_SECONDS"])
    if found is None:
        raise Unauthorized(
            NOT_AUTHENTICATED,
            errors=["Invalid token"],
            headers={"WWW-Authenticate": 'Bearer realm="gateway", error="invalid_token"'},
        )
    set_current_client(found)
    return found


def check_scopes(ctx: ClientContext, scopes: tuple[str, ...], any_of: bool = True) -> None:
    if not scopes:
        return
    held = [s for s in scopes if s in ctx.scopes]
    if (any_of and not held) or (not any_of and len(held) != len(scopes)):
        needed = " or ".join(scopes) if any_of else " and ".join(scopes)
        raise Forbidden(f"The access token lacks the required scope: {needed}.")


def require_token(*scopes: str, any_of: bool = True) -> Callable:
    """Decorator: the view needs a valid bearer token holding the scope(s)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = current_client() or authenticate_bearer()
            check_scopes(ctx, scopes, any_of)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def init_app(app: Flask, api: Api) -> None:
    from gateway.auth.routes import blp

    api.register_blueprint(blp)
