"""Who is calling: the authenticated client of the current request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g


@dataclass(frozen=True)
class ClientContext:
    key: str
    name: str
    education_organization_ids: tuple[str, ...]
    namespace_prefix: str | None
    scopes: frozenset[str]

    @property
    def unrestricted(self) -> bool:
        """A client created with no organization is a district-wide integration."""
        return not self.education_organization_ids


def set_current_client(ctx: ClientContext) -> None:
    g.api_client = ctx


def current_client() -> ClientContext | None:
    return g.get("api_client")
