"""Gradebook writes: PUT (201 create / 200 replace) and DELETE of categories, lineItems, results."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from conformance.http import json_of
from conformance.oneroster.common import (
    COLLECTIONS,
    INVALID_DATA,
    UNKNOWN_OBJECT,
    describe,
    expect_imsx,
    expect_status,
    expect_valid,
    get,
    items_of,
    read_all,
    sample,
)
from conformance.runner import CheckFailed, CheckList, Context, ensure, skip

checks = CheckList()


def _ref(ctx: Context, kind: str, path: str, sourced_id: str) -> dict[str, str]:
    return {
        "href": ctx.http.url(f"{ctx.options['root']}{path}/{sourced_id}"),
        "sourcedId": sourced_id,
        "type": kind,
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def _put(ctx: Context, path: str, key: str, body: dict[str, Any]) -> Any:
    return ctx.http.request(
        "PUT", f"{ctx.options['root']}{path}/{body['sourcedId']}", json_body={key: body}
    )


def _delete(ctx: Context, path: str, sourced_id: str) -> Any:
    return ctx.http.request("DELETE", f"{ctx.options['root']}{path}/{sourced_id}")


def _forget(ctx: Context, label: str, path: str, sourced_id: str) -> None:
    def undo() -> None:
        r = _delete(ctx, path, sourced_id)
        if r.status_code not in (200, 204, 404):
            raise CheckFailed(f"DELETE {path}/{sourced_id} → {r.status_code}")

    ctx.cleanups.append((label, undo))


def _create(ctx: Context, path: str, key: str, body: dict[str, Any]) -> None:
    r = _put(ctx, path, key, body)
    if r.status_code in (401, 403):
        ctx.state["gradebook_denied"] = (
            f"{describe(r)}: the client has no gradebook.createput scope"
        )
        skip(ctx.state["gradebook_denied"])
    if r.status_code in (200, 201):
        _forget(ctx, f"{key} {body['sourcedId']}", path, body["sourcedId"])
    expect_status(r, 201)
    g = get(ctx, f"{path}/{body['sourcedId']}")
    expect_status(g, 200)
    stored = json_of(g).get(key) or {}
    expect_valid([stored], key, f"$.{key}")
    ctx.state.setdefault("created_at", {})[body["sourcedId"]] = stored.get("dateLastModified")
    ensure(
        stored.get("title", body.get("title")) == body.get("title"),
        f"{describe(g)}: title {stored.get('title')!r}, expected {body.get('title')!r}",
    )


@checks.add("gradebook", "PUT /categories/{id} creates (201), a second PUT replaces (200)")
def _category(ctx: Context) -> None:
    sourced_id = f"conformance-category-{uuid.uuid4().hex[:10]}"
    body = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": _now(),
        "title": "Conformance scratch category",
    }
    _create(ctx, "/categories", "category", body)
    r = _put(ctx, "/categories", "category", {**body, "title": "Conformance scratch, renamed"})
    expect_status(r, 200)
    g = get(ctx, f"/categories/{sourced_id}")
    expect_status(g, 200)
    ensure(
        json_of(g)["category"].get("title") == "Conformance scratch, renamed",
        f"{describe(g)}: the replacing PUT did not change the title",
    )
    ctx.state["category"] = sourced_id


def _grading_period(ctx: Context) -> str:
    """A session for the line item's gradingPeriod (required in 1.1): a grading period, else any
    academic session."""
    for path in ("/gradingPeriods", "/academicSessions"):
        for session in sample(ctx, path):
            return str(session["sourcedId"])
    skip("no academic session to name as a line item's gradingPeriod")
    raise AssertionError


def _line_item_body(ctx: Context, sourced_id: str, class_id: str, category: str) -> dict[str, Any]:
    """Every field 1.1 requires of a lineItem; the title longer than 100 characters, as 1.1 sets
    no length limit."""
    return {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": _now(),
        "title": "Conformance scratch line item with a long title: " + "x" * 120,
        "assignDate": time.strftime("%Y-%m-%d"),
        "dueDate": time.strftime("%Y-%m-%d"),
        "class": _ref(ctx, "class", "/classes", class_id),
        "category": _ref(ctx, "category", "/categories", category),
        "gradingPeriod": _ref(ctx, "academicSession", "/academicSessions", _grading_period(ctx)),
        "resultValueMin": 0.0,
        "resultValueMax": 100.0,
    }


def _student_class(ctx: Context) -> tuple[str, str]:
    for e in sample(ctx, "/enrollments"):
        if e.get("role") == "student" and isinstance(e.get("class"), dict):
            return e["class"]["sourcedId"], e["user"]["sourcedId"]
    skip("no student enrollment to attach a line item and a result to")
    raise AssertionError


@checks.add(
    "gradebook",
    "PUT /lineItems/{id} with every required field (a title over 100 characters) creates it (201)",
)
def _line_item(ctx: Context) -> None:
    category = ctx.need("category")
    class_id, student_id = _student_class(ctx)
    sourced_id = f"conformance-lineitem-{uuid.uuid4().hex[:10]}"
    _create(ctx, "/lineItems", "lineItem", _line_item_body(ctx, sourced_id, class_id, category))
    ctx.state.update(line_item=sourced_id, line_item_class=class_id, student=student_id)


@checks.add("gradebook", "PUT /lineItems/{id} naming an unknown class → 4xx (imsx), nothing stored")
def _line_item_bad_ref(ctx: Context) -> None:
    category = ctx.need("category")
    class_id, _student = _student_class(ctx)
    sourced_id = f"conformance-lineitem-{uuid.uuid4().hex[:10]}"
    body = _line_item_body(ctx, sourced_id, class_id, category)
    missing = f"conformance-missing-{uuid.uuid4().hex[:8]}"
    body["class"] = _ref(ctx, "class", "/classes", missing)
    r = _put(ctx, "/lineItems", "lineItem", body)
    if r.status_code in (200, 201):
        _forget(ctx, f"lineItem {sourced_id}", "/lineItems", sourced_id)
    code = r.status_code if r.status_code in (400, 404, 409, 422) else 400
    expect_imsx(r, code)
    expect_imsx(get(ctx, f"/lineItems/{sourced_id}"), 404, UNKNOWN_OBJECT)


@checks.add(
    "gradebook",
    "PUT /lineItems/{id} without a required field → 400 'invaliddata' naming the field (imsx)",
)
def _line_item_missing_field(ctx: Context) -> None:
    category = ctx.need("category")
    class_id, _student = _student_class(ctx)
    problems = []
    for field in ("title", "gradingPeriod", "resultValueMax"):
        sourced_id = f"conformance-lineitem-{uuid.uuid4().hex[:10]}"
        body = _line_item_body(ctx, sourced_id, class_id, category)
        del body[field]
        r = _put(ctx, "/lineItems", "lineItem", body)
        if r.status_code in (200, 201):
            _forget(ctx, f"lineItem {sourced_id}", "/lineItems", sourced_id)
        try:
            expect_imsx(r, 400, INVALID_DATA)
            ensure(field in r.text, f"{describe(r)}: the imsx status info does not name {field}")
        except CheckFailed as exc:
            problems.append(exc.reason)
    if problems:
        raise CheckFailed("line items missing a field 1.1 requires", problems)


@checks.add(
    "gradebook",
    "PUT /results/{id} for a student of the class creates it (201) and it "
    "is listed under its class and line item",
)
def _result(ctx: Context) -> None:
    line_item, class_id, student = ctx.need("line_item", "line_item_class", "student")
    sourced_id = f"conformance-result-{uuid.uuid4().hex[:10]}"
    body = {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": _now(),
        "lineItem": _ref(ctx, "lineItem", "/lineItems", line_item),
        "student": _ref(ctx, "user", "/users", student),
        "scoreStatus": "fully graded",
        "score": 87.5,
        "scoreDate": time.strftime("%Y-%m-%d"),
        "comment": "Conformance scratch result",
    }
    _create(ctx, "/results", "result", body)
    r = get(ctx, f"/classes/{class_id}/lineItems/{line_item}/results")
    expect_status(r, 200)
    ensure(
        sourced_id in [i.get("sourcedId") for i in items_of(r, "results")],
        f"{describe(r)}: the new result is not listed",
    )
    ctx.state["result"] = sourced_id


@checks.add(
    "gradebook",
    "DELETE /results, /lineItems, /categories → 204; then 404 by id and absent from the "
    "collection, while a dateLastModified delta read lists the tombstone",
)
def _deletes(ctx: Context) -> None:
    result, line_item, category = ctx.need("result", "line_item", "category")
    # before the oldest of the three was created, in the server's own clock
    created = [ctx.state["created_at"].get(i) for i in (result, line_item, category)]
    since = _before(min(c for c in created if c))
    problems = []
    for path, sourced_id in (
        ("/results", result),
        ("/lineItems", line_item),
        ("/categories", category),
    ):
        r = _delete(ctx, path, sourced_id)
        if r.status_code in (401, 403):
            skip(f"{describe(r)}: the client has no gradebook.delete scope")
        expect_status(r, 204, 200)
        key = COLLECTIONS[path]["envelope"][0]
        try:
            expect_imsx(get(ctx, f"{path}/{sourced_id}"), 404, UNKNOWN_OBJECT)
            plain, _complete = read_all(ctx, path, {}, key)
            ensure(
                sourced_id not in [i.get("sourcedId") for i in plain],
                f"GET {path}: the deleted {sourced_id} is still listed",
            )
            delta, _complete = read_all(ctx, path, {"filter": f"dateLastModified>'{since}'"}, key)
            statuses = [i.get("status") for i in delta if i.get("sourcedId") == sourced_id]
            ensure(
                statuses == ["tobedeleted"],
                f"GET {path}?filter=dateLastModified>'{since}': the tombstone of {sourced_id} "
                f"is {statuses or 'missing'}, expected one record with status tobedeleted",
            )
        except CheckFailed as exc:
            problems.append(exc.reason)
    if problems:
        raise CheckFailed("deleted gradebook records", problems)


def _before(stamp: str) -> str:
    """One second before a dateLastModified the server sent."""
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) - dt.timedelta(seconds=1)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
