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


class UnknownClaimSet(ValueError):
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
    all_organizations: bool = False,
    scopes: list[str] | tuple[str, ...] | None = None,
    namespace_prefix: str | None = None,
    namespace_prefixes: list[str] | tuple[str, ...] = (),
    claim_set: str | None = None,
    approved: bool = True,
    ownership_token: str | None = None,
    ownership_tokens: list[str] | tuple[str, ...] = (),
) -> tuple[ApiClient, str]:
    """Create a client; returns it with its plaintext secret, shown to the caller once.
    It reaches the organizations named (and their descendants), or every one with
    `all_organizations`; with neither it reaches none."""
    from gateway.edfi.claim_sets import DEFAULT_CLAIM_SET, claim_sets

    name = nfc(name)
    prefixes = [
        nfc(p) for p in (*([namespace_prefix] if namespace_prefix else []), *namespace_prefixes)
    ]
    prefixes = list(dict.fromkeys(p for p in prefixes if p))
    education_organization_ids = [nfc(str(e)) for e in education_organization_ids]
    scopes = list(scopes) if scopes else list(known_scopes())
    unknown = [s for s in scopes if s not in known_scopes()]
    if unknown:
        raise UnknownScope(f"unknown scope(s): {', '.join(unknown)}")
    claim_set = claim_set or DEFAULT_CLAIM_SET
    if claim_set not in claim_sets():
        raise UnknownClaimSet(f"unknown claim set {claim_set!r}; known: {', '.join(claim_sets())}")
    key = secrets.token_hex(10)
    salt = secrets.token_hex(16)
    secret = _derive_secret(_master_key(), key, salt)
    client = ApiClient(
        key=key,
        name=name,
        secret_salt=salt,
        secret_hash=sha256_hex(secret),
        education_organization_ids=education_organization_ids,
        all_organizations=all_organizations,
        namespace_prefixes=prefixes,
        namespace_prefix=prefixes[0] if prefixes else None,
        claim_set=claim_set,
        scopes=scopes,
        approved=approved,
        active=True,
        ownership_token=nfc(ownership_token) if ownership_token else None,
        # a client acts on the records it owns, and on those of the tokens it is given
        ownership_tokens=list(
            dict.fromkeys(
                nfc(t) for t in (*([ownership_token] if ownership_token else []), *ownership_tokens)
            )
        ),
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
    """An active, approved client (an unapproved one is known to no authentication)."""
    if not key or len(key) > ApiClient.key.type.length or "\x00" in key:
        return None  # no client has such a key (and PostgreSQL refuses NUL in text)
    return session.scalar(
        select(ApiClient).where(ApiClient.key == key, ApiClient.active, ApiClient.approved)
    )


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


def context_for(
    client: ApiClient, scopes: list[str] | None = None, education_organization_id: str | None = None
) -> ClientContext:
    """The client as a request sees it; a token narrowed to one of its education organizations
    reaches that one only."""
    edorgs = tuple(client.education_organization_ids or ())
    if education_organization_id is not None:
        edorgs = tuple(e for e in edorgs if e == education_organization_id)
    return ClientContext(
        key=client.key,
        name=client.name,
        education_organization_ids=edorgs,
        namespace_prefixes=tuple(client.namespace_prefixes or ()),
        scopes=frozenset(client.scopes if scopes is None else scopes),
        claim_set=client.claim_set,
        all_organizations=client.all_organizations and education_organization_id is None,
        ownership_token=client.ownership_token,
        ownership_tokens=tuple(client.ownership_tokens or ()),
    )
