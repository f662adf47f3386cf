"""API client service: create, list, revoke, and verify client credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.auth.context import ClientContext
from gateway.auth.models import AccessToken, ApiClient
from gateway.db import utcnow
from gateway.normalize import nfc


@cache
def known_scopes() -> tuple[str, ...]:
    data = json.loads((Path(__file__).with_name("scopes.json")).read_text(encoding="utf-8"))
    return tuple(item["scope"] for item in data["scopes"])


class UnknownScope(ValueError):
    pass


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _derive_secret(master_key: str, key: str, salt: str) -> str:
    digest = hmac.new(master_key.encode(), f"client-secret:{key}:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _master_key() -> str:
    return current_app.config["SECRET_KEY"]


def create_client(
    session: Session,
    *,
    name: str,
    education_organization_ids: list[str] | tuple[str, ...] = (),
    scopes: list[str] | tuple[str, ...] | None = None,
    namespace_prefix: str | None = None,
) -> tuple[ApiClient, str]:
    """Create a client; returns it with its plaintext secret, shown to the caller once."""
    name, namespace_prefix = nfc(name), nfc(namespace_prefix)
    education_organization_ids = [nfc(str(e)) for e in education_organization_ids]
    scopes = list(scopes) if scopes else list(known_scopes())
    unknown = [s for s in scopes if s not in known_scopes()]
    if unknown:
        raise UnknownScope(f"unknown scope(s): {', '.join(unknown)}")
    key = secrets.token_hex(10)
    salt = secrets.token_hex(16)
    secret = _derive_secret(_master_key(), key, salt)
    client = ApiClient(
        key=key,
        name=name,
        secret_salt=salt,
        secret_hash=sha256_hex(secret),
        education_organization_ids=education_organization_ids,
        namespace_prefix=namespace_prefix,
        scopes=scopes,
        active=True,
    )
    session.add(client)
    session.flush()
    return client, secret


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.id)))


def revoke_client(session: Session, key: str) -> bool:
    """Deactivate a client and revoke every token it holds."""
    client = session.scalar(select(ApiClient).where(ApiClient.key == key))
    if client is None:
        return False
    now = utcnow()
    client.active = False
    client.revoked_at = now
    _revoke_tokens(session, client, now)
    return True


def rotate_secret(session: Session, key: str) -> str | None:
    """Give an active client a new secret: the old one stops working (OAuth2 and OAuth 1.0a) and
    every token issued with it is revoked. Returns the new secret, shown once (None: no such
    active client)."""
    client = find_active(session, key)
    if client is None:
        return None
    client.secret_salt = secrets.token_hex(16)
    secret = _derive_secret(_master_key(), client.key, client.secret_salt)
    client.secret_hash = sha256_hex(secret)
    _revoke_tokens(session, client, utcnow())
    return secret


def _revoke_tokens(session: Session, client: ApiClient, now: Any) -> None:
    session.execute(
        update(AccessToken)
        .where(AccessToken.client_id == client.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def find_active(session: Session, key: str) -> ApiClient | None:
    if not key or len(key) > ApiClient.key.type.length or "\x00" in key:
        return None  # no client has such a key (and PostgreSQL refuses NUL in text)
    return session.scalar(select(ApiClient).where(ApiClient.key == key, ApiClient.active))


def verify_credentials(session: Session, key: str, secret: str) -> ApiClient | None:
    client = find_active(session, key)
    if client is None or not hmac.compare_digest(client.secret_hash, sha256_hex(secret)):
        return None
    return client


def client_secret_for(session: Session, key: str) -> str | None:
    """The plaintext secret of an active client, re-derived (OAuth 1.0a needs it to verify)."""
    client = find_active(session, key)
    if client is None:
        return None
    secret = _derive_secret(_master_key(), client.key, client.secret_salt)
    # If SECRET_KEY changed since the client was made, the derived value no longer matches.
    return secret if hmac.compare_digest(client.secret_hash, sha256_hex(secret)) else None


def context_for(client: ApiClient, scopes: list[str] | None = None) -> ClientContext:
    return ClientContext(
        key=client.key,
        name=client.name,
        education_organization_ids=tuple(client.education_organization_ids or ()),
        namespace_prefix=client.namespace_prefix,
        scopes=frozenset(client.scopes if scopes is None else scopes),
    )
