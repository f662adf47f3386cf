"""Change queries: versions move on writes, minChangeVersion/maxChangeVersion, /deletes,
/keyChanges; and the end of the lifecycle: DELETE → 204, then 404."""

from __future__ import annotations

from conformance.edfi.common import (
    delete_if_created,
    describe,
    expect_problem,
    expect_status,
    first,
    items,
    resource,
    school_id,
    scratch_code,
)
from conformance.edfi.discovery import newest_version
from conformance.http import json_of
from conformance.runner import CheckFailed, CheckList, Context, ensure, skip

checks = CheckList()
COURSES = resource("courses")


@checks.add(
    "change queries",
    "writes raise newestChangeVersion; minChangeVersion/maxChangeVersion select the course",
)
def _versions(ctx: Context) -> None:
    before, course, course_id = ctx.need("version_before", "course", "course_id")
    newest = newest_version(ctx)
    ensure(newest > before, f"newestChangeVersion {newest} did not grow from {before}")
    code = {"courseCode": course["courseCode"]}
    r = ctx.http.get(COURSES, params={**code, "minChangeVersion": before + 1})
    expect_status(r, 200)
    ensure(
        [i.get("id") for i in items(r)] == [course_id],
        f"{describe(r)}: the changed course is not selected",
    )
    r = ctx.http.get(COURSES, params={**code, "maxChangeVersion": before})
    expect_status(r, 200)
    ensure(items(r) == [], f"{describe(r)}: a course changed after {before} is selected")


@checks.add("lifecycle", "DELETE → 204, then GET → 404")
def _delete(ctx: Context) -> None:
    location = ctx.need("course_location")
    r = ctx.http.request("DELETE", location)
    expect_status(r, 204)
    expect_problem(ctx.http.get(location), 404, "not-found")
    ctx.state["course_deleted"] = True


@checks.add("change queries", "/courses/deletes lists the deleted course with its key values")
def _deletes(ctx: Context) -> None:
    ctx.need("course_deleted")
    before, course, course_id = ctx.need("version_before", "course", "course_id")
    r = ctx.http.get(COURSES + "/deletes", params={"minChangeVersion": before + 1, "limit": 500})
    expect_status(r, 200)
    found = [d for d in items(r) if d.get("id") == course_id]
    ensure(found, f"{describe(r)}: the deleted course {course_id} is not listed")
    entry = found[0]
    ensure(
        isinstance(entry.get("changeVersion"), int) and entry["changeVersion"] > before,
        f"changeVersion {entry.get('changeVersion')!r} is not after {before}",
    )
    keys = {k.lower(): v for k, v in (entry.get("keyValues") or {}).items()}
    ensure(
        keys.get("coursecode") == course["courseCode"],
        f"keyValues {entry.get('keyValues')} lack courseCode {course['courseCode']!r}",
    )


@checks.add(
    "change queries",
    "a session's key change (PUT, allowed) is listed by "
    "/sessions/keyChanges with old and new key values",
)
def _key_changes(ctx: Context) -> None:
    template = first(ctx, "sessions", {"schoolId": school_id(ctx)})
    if not template:
        skip(f"no session at school {school_id(ctx)} to model a scratch session on")
    before = newest_version(ctx)
    body = {
        k: v
        for k, v in template.items()
        if not k.startswith("_") and k not in ("id", "academicWeeks", "gradingPeriods")
    }
    for ref in ("schoolReference", "schoolYearTypeReference"):
        body[ref] = {k: v for k, v in (body.get(ref) or {}).items() if k != "link"}
    old_name, new_name = scratch_code("Conformance"), scratch_code("Conformance")
    body["sessionName"] = old_name
    r = ctx.http.request("POST", resource("sessions"), json_body=body)
    delete_if_created(ctx, r, f"session {old_name}")
    expect_status(r, 201)
    location = ctx.http.url(r.headers["Location"])
    session_id = location.rstrip("/").rsplit("/", 1)[-1]
    expect_status(
        ctx.http.request("PUT", location, json_body={**body, "sessionName": new_name}), 204
    )
    ensure(
        json_of(ctx.http.get(location)).get("sessionName") == new_name,
        "the session's key change was not stored",
    )
    r = ctx.http.get(resource("sessions/keyChanges"), params={"minChangeVersion": before + 1})
    expect_status(r, 200)
    found = [k for k in items(r) if k.get("id") == session_id]
    if not found:
        raise CheckFailed(f"{describe(r)}: the key change of session {session_id} is not listed")
    old = {k.lower(): v for k, v in (found[0].get("oldKeyValues") or {}).items()}
    new = {k.lower(): v for k, v in (found[0].get("newKeyValues") or {}).items()}
    ensure(
        old.get("sessionname") == old_name and new.get("sessionname") == new_name,
        f"oldKeyValues/newKeyValues {found[0]} do not show {old_name!r} → {new_name!r}",
    )
    expect_status(ctx.http.request("DELETE", location), 204)
