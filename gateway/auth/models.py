"""API clients, their access tokens, and OAuth 1.0a nonces."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, utcnow


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    # The secret is never stored: only its hash, and a salt from which the server can re-derive it
    # with SECRET_KEY (OAuth 1.0a signatures need the plaintext on the server side).
    secret_salt: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64))
    education_organization_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # Reaching every organization is the operator's explicit choice, never an empty list's.
    all_organizations: Mapped[bool] = mapped_column(Boolean, default=False)
    namespace_prefixes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # The first prefix, kept for the code version before namespace_prefixes.
    namespace_prefix: Mapped[str | None] = mapped_column(String(255))
    # The Ed-Fi claim set (gateway.edfi.claim_sets) authorizing its Ed-Fi requests.
    claim_set: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # OwnershipBased authorization (the ODS/API's record ownership): the token stamped on the
    # records it creates, and the tokens of the records it may then act on (its own included).
    ownership_token: Mapped[str | None] = mapped_column(String(255))
    ownership_tokens: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # An unapproved client cannot get a token (as an ODS application not approved).
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessToken(Base):
    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("api_clients.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    # One of the client's education organizations the token is narrowed to (`scope=<id>`).
    education_organization_id: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OAuth1Nonce(Base):
    __tablename__ = "oauth1_nonces"
    __table_args__ = (UniqueConstraint("consumer_key", "nonce", "timestamp"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    consumer_key: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(255))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
