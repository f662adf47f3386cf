"""Paging signals for collection responses: X-Total-Count and an RFC 8288 Link header."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode


def link_header(
    base_url: str, args: Iterable[tuple[str, str]], limit: int, offset: int, total: int
) -> str:
    """first/prev/next/last with absolute URLs that keep every other query parameter."""
    # A signed request's own OAuth 1.0a parameters are not part of the next request.
    kept = [(k, v) for k, v in args if k not in ("limit", "offset") and not k.startswith("oauth_")]

    def url(at: int) -> str:
        return f"{base_url}?{urlencode([*kept, ('limit', str(limit)), ('offset', str(at))])}"

    last = ((total - 1) // limit) * limit if total > 0 else 0
    links = [(url(0), "first")]
    if offset > 0:
        links.append((url(max(0, min(offset - limit, last))), "prev"))
    if offset + limit < total:
        links.append((url(offset + limit), "next"))
    links.append((url(last), "last"))
    return ", ".join(f'<{u}>; rel="{rel}"' for u, rel in links)
