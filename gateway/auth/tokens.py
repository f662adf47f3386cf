"""Opaque bearer tokens: issued for a client, stored hashed, expiring and revocable."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.auth.clients import context_for, sha256_hex
from gateway.auth.context import ClientContext
from gateway.auth.models import AccessToken, ApiClient
from gateway.db import utcnow


def issue_token(
    session: Session,
    client: ApiClient,
    scopes: list[str],
    expires_in: int,
    education_organization_id: str | None = None,
) -> str:
    """A new token for `client` holding `scopes`; with `education_organization_id` (one the client
    lists) it reaches that organization only."""
    # 32 lowercase hex characters, 128 random bits: the form of the ODS/API's tokens (a GUID),
    # which its clients tell apart from JWTs by length
    token = secrets.token_hex(16)
    now = utcnow()
    session.add(
        AccessToken(
            token_hash=sha256_hex(token),
            client_id=client.id,
            scopes=scopes,
            education_organization_id=education_organization_id,
            issued_at=now,
            expires_at=now + timedelta(seconds=expires_in),
        )
    )
    return token


def lookup(session: Session, token: str) -> tuple[ClientContext, AccessToken] | None:
    """The client behind a live token, or None when unknown, expired, or revoked."""
    row = session.execute(
        select(AccessToken, ApiClient)
        .join(ApiClient, ApiClient.id == AccessToken.client_id)
        .where(
            AccessToken.token_hash == sha256_hex(token),
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > utcnow(),
            ApiClient.active,
            ApiClient.approved,
        )
    ).first()
    if row is None:
        return None
    access, client = row
    return context_for(client, access.scopes, access.education_organization_id), access


def revoke_token(session: Session, token: str, client_id: int) -> None:
    forget(token)
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.token_hash == sha256_hex(token),
            AccessToken.client_id == client_id,
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


# token hash → (monotonic deadline, client). Per process; bounded; see TOKEN_CACHE_SECONDS.
_CACHE: dict[str, tuple[float, ClientContext]] = {}
_CACHE_LIMIT = 50_000


def cached_lookup(session: Session, token: str, ttl: int) -> ClientContext | None:
    """`lookup`, remembered for up to `ttl` seconds (never past the token's expiry), so a busy
    client does not cost a database round trip per request. Revocation applies within `ttl`."""
    if ttl <= 0:
        found = lookup(session, token)
        return found[0] if found else None
    key = sha256_hex(token)
    now = time.monotonic()
    hit = _CACHE.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    found = lookup(session, token)
    if found is None:
        _CACHE.pop(key, None)
        return None
    ctx, access = found
    remaining = (access.expires_at - utcnow()).total_seconds()
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = (now + min(ttl, remaining), ctx)
    return ctx


def forget(token: str) -> None:
    _CACHE.pop(sha256_hex(token), None)
