"""The query language: filter operators and joins, sort/orderBy, fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from conformance.oneroster.common import (
    COLLECTIONS,
    describe,
    expect_imsx,
    expect_status,
    get,
    items_of,
    read_all,
    ref_ids,
    warnings_of,
)
from conformance.runner import CheckFailed, CheckList, Context, ensure, skip

checks = CheckList()
Predicate = Callable[[dict[str, Any]], bool]


def everything(ctx: Context, path: str) -> tuple[list[dict[str, Any]], bool]:
    cache = ctx.state.setdefault("all", {})
    if path not in cache:
        cache[path] = read_all(ctx, path, {}, COLLECTIONS[path]["envelope"][0])
    return cache[path]


def values(item: dict[str, Any], field: str) -> list[str]:
    """What a filter compares: a scalar, a GUIDRef's sourcedId, or each element of a list."""
    value = item.get(field)
    if isinstance(value, dict) or (
        isinstance(value, list) and value and isinstance(value[0], dict)
    ):
        return ref_ids(value)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value).lower() if isinstance(value, bool) else str(value)]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def pred(field: str, op: str, target: str) -> Predicate:
    def compare(v: str) -> bool:
        if op == "~":
            return target.lower() in v.lower()
        a: Any = v
        b: Any = target
        if field == "dateLastModified":
            a, b = _when(v), _when(target)
        return {"=": a == b, "!=": a != b, ">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]

    if op == "!=":
        return lambda item: not any(v == target for v in values(item, field))
    return lambda item: any(compare(v) for v in values(item, field))


def run_filter(
    ctx: Context,
    path: str,
    expression: str,
    predicate: Predicate,
    ambiguous: Predicate = lambda item: False,
) -> None:
    """Soundness (every record returned satisfies the filter) and, when the whole collection was
    read, completeness and X-Total-Count. `ambiguous` records may go either way."""
    key = COLLECTIONS[path]["envelope"][0]
    all_items, complete = everything(ctx, path)
    got, _ = read_all(ctx, path, {"filter": expression}, key)
    ids = [i.get("sourcedId") for i in got]
    problems = [
        f"{i.get('sourcedId')} does not satisfy {expression}"
        for i in got
        if not predicate(i) and not ambiguous(i)
    ]
    if len(set(ids)) != len(ids):
        problems.append("the filtered result repeats records")
    if complete:
        expected = {i["sourcedId"] for i in all_items if predicate(i) and not ambiguous(i)}
        either = {i["sourcedId"] for i in all_items if ambiguous(i)}
        problems += [
            f"{s} satisfies {expression} but is missing" for s in sorted(expected - set(ids))
        ]
        r = get(ctx, path, {"filter": expression, "limit": 1})
        expect_status(r, 200)
        total = r.headers.get("X-Total-Count", "")
        low, high = len(expected), len(expected) + len(either)
        if not (total.isdigit() and low <= int(total) <= high):
            wanted = str(low) if low == high else f"{low}–{high}"
            problems.append(f"X-Total-Count is {total!r} for {expression}, expected {wanted}")
    if problems:
        raise CheckFailed(f"filter {expression} on {path} is wrong", problems[:30])


def _pick(ctx: Context, path: str, field: str) -> list[str]:
    items, _ = everything(ctx, path)
    # A value holding a quote would need escaping, which the standard leaves open.
    found = sorted({v for i in items for v in values(i, field) if "'" not in v})
    if not found:
        skip(f"no {field} values in {path} to filter on")
    return found


def _op_check(path: str, field: str, op: str, choose: Callable[[list[str]], str]):
    def check(ctx: Context) -> None:
        target = choose(_pick(ctx, path, field))
        ambiguous: Predicate = lambda item: False  # noqa: E731
        if field == "dateLastModified":
            # Stored times may be finer than the milliseconds shown: a record shown at exactly
            # the pivot may really be just after it.
            ambiguous = lambda item: target in values(item, field)  # noqa: E731
        run_filter(ctx, path, f"{field}{op}'{target}'", pred(field, op, target), ambiguous)

    return check


def _median(found: list[str]) -> str:
    return found[len(found) // 2]


def _contains(found: list[str]) -> str:
    name = max(found, key=len)
    middle = name[len(name) // 4 : len(name) // 4 + max(3, len(name) // 3)] or name
    return middle.swapcase()


def _join(word: str):
    def check(ctx: Context) -> None:
        types = _pick(ctx, "/academicSessions", "type")
        starts = _pick(ctx, "/academicSessions", "startDate")
        a = pred("type", "=", types[0])
        if word == "AND":
            b = pred("startDate", ">=", _median(starts))
            expression = f"type='{types[0]}' AND startDate>='{_median(starts)}'"
            run_filter(ctx, "/academicSessions", expression, lambda i: a(i) and b(i))
        else:
            other = types[-1]
            b = pred("type", "=", other)
            expression = f"type='{types[0]}' OR type='{other}'"
            run_filter(ctx, "/academicSessions", expression, lambda i: a(i) or b(i))

    return check


def _bad_filters(ctx: Context) -> None:
    problems = []
    for expression in (
        "conformanceNoSuchField='x'",
        "name=",
        "name='unterminated",
        "name='a' AND type='school' OR type='district'",
    ):
        r = get(ctx, "/orgs", {"filter": expression})
        try:
            expect_imsx(r, 400, "invalid_filter_field")
        except CheckFailed as exc:
            problems.append(f"filter {expression!r}: {exc.reason}")
    if problems:
        raise CheckFailed("malformed filters are not rejected as the standard says", problems)


def _sorted(order: str):
    def check(ctx: Context) -> None:
        items, complete = read_all(
            ctx,
            "/academicSessions",
            {"sort": "startDate", "orderBy": order},
            "academicSessions",
            page=max(1, len(everything(ctx, "/academicSessions")[0]) // 3),
        )
        if len(items) < 2:
            skip("fewer than two academicSessions to sort")
        keys = [i.get("startDate") or "" for i in items]
        wanted = sorted(keys, reverse=order == "desc")
        ensure(
            keys == wanted,
            f"sort=startDate&orderBy={order} is not in "
            f"{'descending' if order == 'desc' else 'ascending'} order: {keys[:8]}…",
        )
        ids = [i.get("sourcedId") for i in items]
        ensure(len(set(ids)) == len(ids), "sorted pages repeat records (tie-break not stable)")

    return check


def _warning(param: dict[str, str], code: str):
    def check(ctx: Context) -> None:
        r = get(ctx, "/orgs", {**param, "limit": 5})
        expect_status(r, 200)
        items_of(r, "orgs")
        found = warnings_of(r)
        ensure(code in found, f"{describe(r)}: statusInfoSet codeMinor {found}, expected {code!r}")

    return check


def _fields(ctx: Context) -> None:
    r = get(ctx, "/orgs", {"fields": "sourcedId,name", "limit": 20})
    expect_status(r, 200)
    items = items_of(r, "orgs")
    if not items:
        skip("no orgs to select fields of")
    wrong = [
        f"$.orgs[{n}] has fields {sorted(i)}"
        for n, i in enumerate(items)
        if set(i) != {"sourcedId", "name"}
    ]
    if wrong:
        raise CheckFailed("fields=sourcedId,name returns other fields", wrong[:10])


def _register() -> None:
    add = checks.add
    add("filter", "filter = on a scalar field (orgs type)")(
        _op_check("/orgs", "type", "=", lambda f: f[0])
    )
    add("filter", "filter != on a scalar field (orgs type)")(
        _op_check("/orgs", "type", "!=", lambda f: f[0])
    )
    for op in (">", ">=", "<", "<="):
        add("filter", f"filter {op} compares dates (academicSessions startDate)")(
            _op_check("/academicSessions", "startDate", op, _median)
        )
    add("filter", "filter ~ is a case-insensitive contains (orgs name)")(
        _op_check("/orgs", "name", "~", _contains)
    )
    add("filter", "filter > compares date-times (orgs dateLastModified)")(
        _op_check("/orgs", "dateLastModified", ">", _median)
    )
    add("filter", "filter on a GUIDRef field means its sourcedId (classes school)")(
        _op_check("/classes", "school", "=", lambda f: f[0])
    )
    add("filter", "filter on a list field means any element (classes terms)")(
        _op_check("/classes", "terms", "=", _median)
    )
    add("filter", "filter with AND")(_join("AND"))
    add("filter", "filter with OR")(_join("OR"))
    add("filter", "unknown field or malformed filter → 400 invalid_filter_field (imsx)")(
        _bad_filters
    )
    add("sort", "sort=startDate&orderBy=asc is ascending and stable")(_sorted("asc"))
    add("sort", "sort=startDate&orderBy=desc is descending and stable")(_sorted("desc"))
    add("sort", "orderBy=acs (the spec's typo) is accepted as asc")(_sorted("acs"))
    add("sort", "unknown sort field → 200 with an invalid_sort_field warning")(
        _warning({"sort": "conformanceNoSuchField"}, "invalid_sort_field")
    )
    add("fields", "fields=sourcedId,name returns exactly those fields")(_fields)
    add("fields", "unknown fields entry → 200 with an invalid_selection_field warning")(
        _warning({"fields": "sourcedId,conformanceNoSuchField"}, "invalid_selection_field")
    )


_register()
