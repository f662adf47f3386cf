"""Apps on their own engine (as `gateway serve` builds them), outside the tests' rolled-back
transaction: their requests read committed rows and run the lone-read path."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import delete

from gateway.auth.models import AccessToken, ApiClient


def live_app(test_config: Any, **settings: Any) -> Flask:
    from gateway.app import create_app

    # A cached token: later requests make no token look-up, so a read is the request's only query.
    config = {**test_config.as_dict(), "DB_POOL_SIZE": 2, "DB_MAX_OVERFLOW": 0}
    return create_app({**config, "TOKEN_CACHE_SECONDS": 60, **settings})


def api_client(app: Flask, name: str = "live") -> tuple[int, dict[str, str]]:
    """A committed district-wide client: its id and request headers."""
    from gateway.auth.clients import create_client, find_active
    from gateway.auth.tokens import issue_token
    from gateway.db import get_session

    with app.app_context():
        session = get_session()
        created, _secret = create_client(session, name=name, all_organizations=True)
        token = issue_token(session, find_active(session, created.key), list(created.scopes), 60)
        session.commit()
        return created.id, {"Authorization": f"Bearer {token}"}


def close(app: Flask, client_id: int) -> None:
    """Remove the client and its tokens, and close the app's connections."""
    engine = app.extensions["gateway.db"].engine
    with engine.begin() as connection:
        connection.execute(delete(AccessToken).where(AccessToken.client_id == client_id))
        connection.execute(delete(ApiClient).where(ApiClient.id == client_id))
    engine.dispose()
