"""Paging signals: X-Total-Count and Link across a whole collection, limit/offset edge cases."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

import requests

from conformance.oneroster.common import (
    COLLECTIONS,
    describe,
    expect_imsx,
    expect_status,
    get,
    items_of,
)
from conformance.runner import CheckFailed, CheckList, Context, ensure, not_requested, skip

checks = CheckList()
PAGE_CAP = 1000  # below any documented provider cap, so every page but the last is full
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?')


def links(r: requests.Response) -> dict[str, str]:
    return {rel: url for url, rel in _LINK.findall(r.headers.get("Link", ""))}


def _total(r: requests.Response) -> int:
    total = r.headers.get("X-Total-Count", "")
    ensure(total.isdigit(), f"{describe(r)}: X-Total-Count is {total!r}")
    return int(total)


def _plan(ctx: Context) -> tuple[str, str, int, int]:
    path = ctx.options["paging_collection"]
    key = COLLECTIONS[path]["envelope"][0]
    r = get(ctx, path, {"limit": 1})
    expect_status(r, 200)
    total = _total(r)
    if total < 2:
        skip(f"{path} has {total} record(s): too few to page")
    if total > ctx.options["max_records"]:
        not_requested(
            f"{path} has {total} records, more than --max-records {ctx.options['max_records']}"
        )
    limit = min(PAGE_CAP, math.ceil(total / 4))
    ctx.state["max_pages"] = math.ceil(total / limit) + 1
    return path, key, total, limit


def _walk_links(ctx: Context) -> None:
    path, key, total, limit = _plan(ctx)
    url = ctx.http.url(ctx.options["root"] + path, {"limit": limit})
    seen: list[str] = []
    problems: list[str] = []
    page = 0
    while url and page <= ctx.state["max_pages"]:
        r = ctx.http.get(url)
        expect_status(r, 200)
        batch = items_of(r, key)
        rels = links(r)
        if _total(r) != total:
            problems.append(f"page {page}: X-Total-Count {_total(r)} != {total}")
        for rel in ("first", "last"):
            if rel not in rels:
                problems.append(f'page {page}: Link has no rel="{rel}"')
        if page == 0 and "prev" in rels:
            problems.append('first page: Link has rel="prev"')
        if page > 0 and "prev" not in rels:
            problems.append(f'page {page}: Link has no rel="prev"')
        bad = [u for u in rels.values() if not u.startswith(("http://", "https://"))]
        if bad:
            problems.append(f"page {page}: Link URLs are not absolute: {bad}")
        seen += [i.get("sourcedId") for i in batch]
        if "next" in rels and len(batch) < limit:
            problems.append(
                f"page {page} has {len(batch)} records (< limit {limit}) but a next link"
            )
        url = rels.get("next")
        page += 1
        if not batch:
            break
    duplicates = len(seen) - len(set(seen))
    if duplicates:
        problems.append(f"{duplicates} record(s) appear on more than one page")
    if len(set(seen)) != total:
        problems.append(
            f'following rel="next" read {len(set(seen))} records; X-Total-Count says {total}'
        )
    if problems:
        raise CheckFailed(f"Link/X-Total-Count walk of {path} is inconsistent", problems[:30])
    ctx.state["link_walk"] = set(seen)


def _walk_offsets(ctx: Context) -> None:
    path, key, total, limit = _plan(ctx)
    seen: list[str] = []
    problems = []
    for n in range(ctx.state["max_pages"] + 1):
        r = get(ctx, path, {"limit": limit, "offset": n * limit})
        expect_status(r, 200)
        batch = items_of(r, key)
        seen += [i.get("sourcedId") for i in batch]
        if len(batch) < limit:
            if len(seen) < total and batch:
                problems.append(f"offset {n * limit}: short page before the end")
            break
    if len(seen) != len(set(seen)):
        problems.append(f"{len(seen) - len(set(seen))} record(s) repeat across offset pages")
    if len(set(seen)) != total:
        problems.append(f"offset paging read {len(set(seen))} records; X-Total-Count says {total}")
    previous = ctx.state.get("link_walk")
    if previous is not None and previous != set(seen):
        problems.append("offset paging and the Link walk read different records")
    if problems:
        raise CheckFailed(f"offset paging of {path} is inconsistent", problems)


def _links_keep_params(ctx: Context) -> None:
    path = ctx.options["paging_collection"]
    params = {"limit": 1, "filter": "status='active'", "sort": "sourcedId", "orderBy": "asc"}
    r = get(ctx, path, params)
    expect_status(r, 200)
    rels = links(r)
    if "next" not in rels:
        skip(f"{path} with {params} has a single page")
    query = parse_qs(urlsplit(rels["next"]).query)
    lost = [k for k, v in params.items() if query.get(k) != [str(v)]]
    ensure(not lost, f'rel="next" {rels["next"]} lost or changed {lost}')
    ensure(query.get("offset") == ["1"], f'rel="next" {rels["next"]} does not ask for offset 1')
    last = ctx.http.get(rels["last"]) if "last" in rels else None
    ensure(
        last is not None
        and last.status_code == 200
        and "next" not in links(last)
        and items_of(last, COLLECTIONS[path]["envelope"][0]),
        'rel="last" is missing, empty, or not the last page',
    )


def _bad_values(ctx: Context) -> None:
    problems = []
    for params in (
        {"limit": 0},
        {"limit": -1},
        {"limit": "abc"},
        {"offset": -1},
        {"offset": "abc"},
    ):
        r = get(ctx, "/orgs", params)
        try:
            expect_imsx(r, 400)
        except CheckFailed as exc:
            problems.append(f"{params}: {exc.reason}")
    if problems:
        raise CheckFailed("bad limit/offset values are not a 400 imsx error", problems)


def _beyond_end(ctx: Context) -> None:
    r = get(ctx, "/orgs", {"limit": 1})
    expect_status(r, 200)
    total = _total(r)
    r = get(ctx, "/orgs", {"offset": total + 10})
    expect_status(r, 200)
    ensure(items_of(r, "orgs") == [], f"{describe(r)}: offset past the end returns records")
    ensure(_total(r) == total, f"{describe(r)}: X-Total-Count changes past the end")


def _limit_5000(ctx: Context) -> None:
    path = ctx.options["paging_collection"]
    key = COLLECTIONS[path]["envelope"][0]
    r = get(ctx, path, {"limit": 5000})
    expect_status(r, 200)
    got, total = len(items_of(r, key)), _total(r)
    ensure(
        got == min(total, 5000),
        f"{describe(r)}: {got} records of {total}, "
        f"expected {min(total, 5000)} (consumers such as SDS ask for 5000)",
    )


def _default_limit(ctx: Context) -> None:
    path = ctx.options["paging_collection"]
    r = get(ctx, path)
    expect_status(r, 200)
    got, total = len(items_of(r, COLLECTIONS[path]["envelope"][0])), _total(r)
    ensure(
        got == min(total, 100),
        f"{describe(r)}: {got} records of {total} without limit, expected the default of 100",
    )


checks.add(
    "paging", 'following Link rel="next" reads the whole collection once, X-Total-Count agrees'
)(_walk_links)
checks.add("paging", "offset/limit paging reads the same records, pages full until the last")(
    _walk_offsets
)
checks.add("paging", 'Link URLs keep filter/sort/orderBy/limit; rel="last" is the last page')(
    _links_keep_params
)
checks.add("paging", "limit 0, negative or non-integer, offset negative → 400 (imsx)")(_bad_values)
checks.add("paging", "offset past the end → 200 with no records and the same X-Total-Count")(
    _beyond_end
)
checks.add("paging", "limit=5000 is honoured")(_limit_5000)
checks.add("paging", "no limit → the default page of 100")(_default_limit)
