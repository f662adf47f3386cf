"""Collections: limit bounds, Total-Count, offset paging and cursor paging to the end."""

from __future__ import annotations

import math

from conformance.edfi.common import describe, expect_problem, expect_status, items, resource
from conformance.runner import CheckFailed, CheckList, Context, ensure, not_requested, skip

checks = CheckList()
MAX_LIMIT = 500  # the Ed-Fi maximum page size


def _path(ctx: Context) -> str:
    return resource(ctx.options["paging_resource"])


def _total(ctx: Context) -> int:
    if "paging_total" not in ctx.state:
        r = ctx.http.get(_path(ctx), params={"limit": 0, "totalCount": "TRUE"})
        expect_status(r, 200)
        total = r.headers.get("Total-Count", "")
        ensure(total.isdigit(), f"{describe(r)}: Total-Count is {total!r}")
        ensure(items(r) == [], f"{describe(r)}: limit=0 returned records")
        ctx.state["paging_total"] = int(total)
    return ctx.state["paging_total"]


def _page_size(ctx: Context) -> int:
    total = _total(ctx)
    if total < 2:
        skip(f"{_path(ctx)} has {total} record(s): too few to page")
    if total > ctx.options["max_records"]:
        not_requested(
            f"{_path(ctx)} has {total} records, more than --max-records "
            f"{ctx.options['max_records']}"
        )
    size = min(MAX_LIMIT, math.ceil(total / 4))
    ctx.state["max_pages"] = math.ceil(total / size) + 1
    return size


@checks.add("paging", "limit=0&totalCount=TRUE → an empty page and Total-Count")
def _count_only(ctx: Context) -> None:
    _total(ctx)


@checks.add("paging", "limit > 500 → 400 parameter-validation-failed")
def _too_big(ctx: Context) -> None:
    expect_problem(
        ctx.http.get(_path(ctx), params={"limit": 501}),
        400,
        "bad-request:parameter-validation-failed",
    )


# The ODS/API 7.3 serves its DefaultPageSizeLimit (500) when no limit is asked (its own suite
# expects 500 students); the OpenAPI's "default: 25" is not what it does.
DEFAULT_PAGE = 500


@checks.add("paging", "no limit → the default page of 500 (the ODS/API's DefaultPageSizeLimit)")
def _default(ctx: Context) -> None:
    r = ctx.http.get(_path(ctx))
    expect_status(r, 200)
    got = len(items(r))
    ensure(
        got == min(DEFAULT_PAGE, _total(ctx)),
        f"{describe(r)}: {got} records, expected {min(DEFAULT_PAGE, _total(ctx))}",
    )


@checks.add("paging", "offset/limit to the end: Total-Count agrees, no duplicates or gaps")
def _offsets(ctx: Context) -> None:
    size, total = _page_size(ctx), _total(ctx)
    seen: list[str] = []
    for n in range(ctx.state["max_pages"] + 1):
        r = ctx.http.get(
            _path(ctx), params={"offset": n * size, "limit": size, "totalCount": "true"}
        )
        expect_status(r, 200)
        ensure(
            r.headers.get("Total-Count") == str(total),
            f"{describe(r)}: Total-Count {r.headers.get('Total-Count')!r}, expected {total}",
        )
        batch = [i.get("id") for i in items(r)]
        seen += batch
        if len(batch) < size:
            break
    problems = []
    if len(seen) != len(set(seen)):
        problems.append(f"{len(seen) - len(set(seen))} record(s) repeat across pages")
    if len(set(seen)) != total:
        problems.append(f"read {len(set(seen))} distinct records, Total-Count says {total}")
    if problems:
        raise CheckFailed(f"offset paging of {_path(ctx)} is inconsistent", problems)
    ctx.state["offset_ids"] = set(seen)


def _cursor_walk(ctx: Context, size: int, token: str | None) -> tuple[list[str], list[str]]:
    seen: list[str] = []
    problems: list[str] = []
    for _page in range(ctx.state["max_pages"] + 2):
        # as the ODS/API 7.3: a pageSize needs a pageToken, so a walk from the start reads its
        # first page by limit and follows the Next-Page-Token from there
        params: dict[str, object] = (
            {"pageSize": size, "pageToken": token} if token else {"limit": size}
        )
        r = ctx.http.get(_path(ctx), params=params)
        expect_status(r, 200)
        batch = [i.get("id") for i in items(r)]
        # ODS/API 7.3 names a next page on every non-empty one: the walk ends on an empty page
        seen += batch
        token = r.headers.get("Next-Page-Token")
        if not token or not batch:
            break
    return seen, problems


@checks.add(
    "paging",
    "cursor paging: Next-Page-Token to the end (an empty page), the same records as offset paging",
)
def _cursor(ctx: Context) -> None:
    size, total = _page_size(ctx), _total(ctx)
    seen, problems = _cursor_walk(ctx, size, None)
    if len(seen) != len(set(seen)):
        problems.append(f"{len(seen) - len(set(seen))} record(s) repeat across cursor pages")
    if len(set(seen)) != total:
        problems.append(
            f"cursor paging read {len(set(seen))} distinct records, Total-Count says {total}"
        )
    offset_ids = ctx.state.get("offset_ids")
    if offset_ids is not None and offset_ids != set(seen):
        problems.append("cursor and offset paging read different records")
    if problems:
        raise CheckFailed(f"cursor paging of {_path(ctx)} is inconsistent", problems)


@checks.add("paging", "/partitions?number=3 gives page tokens that split the collection")
def _partitions(ctx: Context) -> None:
    size, total = _page_size(ctx), _total(ctx)
    r = ctx.http.get(
        _path(ctx) + "/partitions", params={"number": 3, "allowSmallPartitions": "true"}
    )
    expect_status(r, 200)
    tokens = r.json().get("pageTokens") if isinstance(r.json(), dict) else None
    ensure(isinstance(tokens, list) and tokens, f"{describe(r)}: no pageTokens array")
    seen: list[str] = []
    problems: list[str] = []
    for token in tokens:
        part, more = _cursor_walk(ctx, size, token)
        seen += part
        problems += more
    if len(seen) != len(set(seen)):
        problems.append("partitions overlap")
    if len(set(seen)) != total:
        problems.append(f"partitions cover {len(set(seen))} records, Total-Count says {total}")
    if problems:
        raise CheckFailed("partitions do not split the collection", problems)
