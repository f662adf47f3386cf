"""Who is calling: the authenticated client of the current request."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g


@dataclass(frozen=True)
class ClientContext:
    key: str
    name: str
    education_organization_ids: tuple[str, ...]
    namespace_prefixes: tuple[str, ...]
    scopes: frozenset[str]
    claim_set: str | None = None
    all_organizations: bool = False
    ownership_token: str | None = None  # stamped on the Ed-Fi records it creates
    ownership_tokens: tuple[str, ...] = ()  # those whose records OwnershipBased lets it act on

    @property
    def unrestricted(self) -> bool:
        """Whether the operator made this client reach every organization."""
        return self.all_organizations

    @property
    def namespace_prefix(self) -> str | None:
        """The first namespace prefix: what the OneRoster side writes under."""
        return self.namespace_prefixes[0] if self.namespace_prefixes else None


def set_current_client(ctx: ClientContext) -> None:
    g.api_client = ctx


def current_client() -> ClientContext | None:
    return g.get("api_client")
