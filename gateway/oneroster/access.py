"""Who may call the OneRoster API: an OAuth 1.0a signed request or an OAuth 2 bearer token."""

from __future__ import annotations

from flask import current_app, request

from gateway.auth import (
    ClientContext,
    authenticate_bearer,
    check_scopes,
    current_client,
    oauth1,
    set_current_client,
)
from gateway.auth.access import org_scope
from gateway.auth.clients import client_secret_for, context_for, find_active
from gateway.db import get_session
from gateway.errors import Unauthorized
from gateway.oneroster.service import Reach
from gateway.public_url import signed_url

_FORM = "application/x-www-form-urlencoded"


def _oauth1_client() -> ClientContext | None:
    form_body = request.get_data(as_text=True) if request.mimetype == _FORM else None
    authorization = request.headers.get("Authorization")
    query = request.query_string.decode("utf-8", "replace")
    if not oauth1.is_signed(authorization, query, form_body):
        return None
    session = get_session()
    key = oauth1.verify(
        session,
        http_method=request.method,
        base_url=signed_url(request),
        authorization=authorization,
        query_string=query,
        form_body=form_body,
        secret_for=client_secret_for,
        window_seconds=current_app.config.get(
            "OAUTH1_TIMESTAMP_WINDOW", oauth1.DEFAULT_WINDOW_SECONDS
        ),
    )
    client = find_active(session, key)
    if client is None:  # revoked between the two look-ups
        raise Unauthorized("Unknown OAuth consumer key", code_minor="unauthorisedrequest")
    ctx = context_for(client)
    set_current_client(ctx)
    return ctx


def authenticate(scopes: tuple[str, ...]) -> tuple[ClientContext, Reach]:
    """The caller (OAuth 1.0a, else bearer) holding one of `scopes`, and its reach."""
    ctx = current_client() or _oauth1_client() or authenticate_bearer()
    check_scopes(ctx, scopes)
    scope = org_scope(get_session(), ctx)
    return ctx, Reach(scope.unrestricted, scope.sourced_ids)


def hidden_fields(ctx: ClientContext) -> frozenset[str]:
    """Passwords are never returned unless the client is explicitly allowed (compliance rule 5)."""
    allowed = current_app.config.get("ONEROSTER_PASSWORD_CLIENTS") or ()
    if isinstance(allowed, str):  # as read from the environment: comma-separated keys
        allowed = [key.strip() for key in allowed.split(",")]
    return frozenset() if ctx.key in allowed else frozenset({"password"})
