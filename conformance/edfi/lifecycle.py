"""Create → read → query → upsert → update → If-Match → delete on a scratch course in the
client's organization, with the validation and conflict errors the contract names."""

from __future__ import annotations

import re
from typing import Any

from conformance.edfi.common import (
    delete_if_created,
    delete_later,
    describe,
    descriptor_uri,
    edorg_id,
    expect_problem,
    expect_status,
    items,
    resource,
    scratch_code,
)
from conformance.http import json_of
from conformance.runner import CheckFailed, CheckList, Context, ensure
from conformance.schemas import edfi_openapi, edfi_validator, schema_errors

checks = CheckList()
COURSES = resource("courses")
_LAST_MODIFIED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def course_body(ctx: Context, code: str, title: str = "Conformance scratch course") -> dict:
    return {
        "courseCode": code,
        "courseTitle": title,
        "numberOfParts": 1,
        "identificationCodes": [
            {
                "courseIdentificationSystemDescriptor": descriptor_uri(
                    ctx, "CourseIdentificationSystemDescriptor"
                ),
                "identificationCode": code,
            }
        ],
        "educationOrganizationReference": {"educationOrganizationId": edorg_id(ctx)},
    }


def _get(ctx: Context, **kw: Any):
    return ctx.http.get(ctx.need("course_location"), **kw)


@checks.add("lifecycle", "POST a new course → 201 with Location and ETag")
def _create(ctx: Context) -> None:
    body = course_body(ctx, scratch_code())
    r = ctx.http.request("POST", COURSES, json_body=body)
    location = r.headers.get("Location", "")
    if r.status_code in (200, 201) and location:
        delete_later(
            ctx,
            f"course {body['courseCode']}",
            ctx.http.url(location) if location.startswith("/") else location,
        )
    expect_status(r, 201)
    match = re.search(r"/ed-fi/courses/([^/?#]+)$", location, re.IGNORECASE)
    ensure(match, f"{describe(r)}: Location {location!r} is not …/ed-fi/courses/{{id}}")
    ensure(r.headers.get("ETag"), f"{describe(r)}: no ETag header")
    ctx.state.update(
        course=body,
        course_id=match[1],
        course_etag=r.headers["ETag"],
        course_location=ctx.http.url(location) if location.startswith("/") else location,
    )


@checks.add(
    "lifecycle",
    "GET by id → 200 with ETag, id, _etag, _lastModifiedDate, reference "
    "links; matches the DS5 course schema",
)
def _read(ctx: Context) -> None:
    body, course_id = ctx.need("course", "course_id")
    r = _get(ctx)
    expect_status(r, 200)
    got = json_of(r)
    problems = schema_errors(edfi_validator("edFi_course"), got)
    if problems:
        raise CheckFailed("the course does not match edFi_course", problems)
    ensure(got.get("id") == course_id, f"id {got.get('id')!r}, expected {course_id!r}")
    ensure(r.headers.get("ETag"), f"{describe(r)}: no ETag header")
    ensure(isinstance(got.get("_etag"), str) and got["_etag"], "no _etag in the body")
    ensure(
        _LAST_MODIFIED.match(str(got.get("_lastModifiedDate"))),
        f"_lastModifiedDate {got.get('_lastModifiedDate')!r} is not a UTC date-time",
    )
    ensure(got.get("courseTitle") == body["courseTitle"], "courseTitle was not stored")
    link = (got.get("educationOrganizationReference") or {}).get("link") or {}
    ensure(
        link.get("rel") and link.get("href"),
        "educationOrganizationReference has no link {rel, href}",
    )
    ctx.state["course_etag"] = r.headers["ETag"]


@checks.add("lifecycle", "GET with If-None-Match of the current ETag → 304")
def _not_modified(ctx: Context) -> None:
    etag = ctx.need("course_etag")
    r = _get(ctx, headers={"If-None-Match": etag})
    expect_status(r, 304)


@checks.add("lifecycle", "query by a scalar and a flattened reference key finds the record")
def _query(ctx: Context) -> None:
    body, course_id = ctx.need("course", "course_id")
    for params in (
        {"courseCode": body["courseCode"]},
        {"courseCode": body["courseCode"], "educationOrganizationId": edorg_id(ctx)},
    ):
        r = ctx.http.get(COURSES, params=params)
        expect_status(r, 200)
        ids = [i.get("id") for i in items(r)]
        ensure(ids == [course_id], f"{describe(r)}: ids {ids}, expected [{course_id!r}]")


@checks.add("lifecycle", "POST with the same natural key → 200, same id, new ETag (upsert)")
def _upsert(ctx: Context) -> None:
    body, course_id, etag = ctx.need("course", "course_id", "course_etag")
    changed = {**body, "courseTitle": "Conformance scratch course, upserted"}
    r = ctx.http.request("POST", COURSES, json_body=changed)
    expect_status(r, 200)
    ensure(
        r.headers.get("Location", "").endswith(course_id),
        f"{describe(r)}: Location {r.headers.get('Location')!r} is not the same record",
    )
    got = _get(ctx)
    expect_status(got, 200)
    ensure(json_of(got).get("courseTitle") == changed["courseTitle"], "the upsert did not update")
    ensure(got.headers.get("ETag") != etag, "the ETag did not change on update")
    ctx.state.update(course=changed, old_etag=etag, course_etag=got.headers.get("ETag"))


@checks.add("lifecycle", "PUT full replacement → 204; the change is stored")
def _put(ctx: Context) -> None:
    body, etag = ctx.need("course", "course_etag")
    changed = {**body, "courseTitle": "Conformance scratch course, replaced"}
    r = ctx.http.request(
        "PUT", ctx.need("course_location"), json_body=changed, headers={"If-Match": etag}
    )
    expect_status(r, 204)
    got = _get(ctx)
    ensure(json_of(got).get("courseTitle") == changed["courseTitle"], "the PUT did not replace")
    ctx.state.update(course=changed, old_etag=etag, course_etag=got.headers.get("ETag"))


@checks.add("lifecycle", "PUT and DELETE with a stale If-Match → 412 optimistic-lock-failed")
def _stale(ctx: Context) -> None:
    body, old = ctx.need("course", "old_etag")
    location = ctx.need("course_location")
    before = json_of(_get(ctx)).get("courseTitle")
    r = ctx.http.request(
        "PUT", location, json_body={**body, "courseTitle": "stale write"}, headers={"If-Match": old}
    )
    expect_problem(r, 412, "optimistic-lock-failed")
    expect_problem(
        ctx.http.request("DELETE", location, headers={"If-Match": old}),
        412,
        "optimistic-lock-failed",
    )
    ensure(json_of(_get(ctx)).get("courseTitle") == before, "a stale PUT changed the record")


@checks.add("lifecycle", "PUT changing a course's natural key → 400 key-change-not-supported")
def _key_change(ctx: Context) -> None:
    body = ctx.need("course")
    r = ctx.http.request(
        "PUT", ctx.need("course_location"), json_body={**body, "courseCode": scratch_code()}
    )
    expect_problem(r, 400, "bad-request:data-validation-failed:key-change-not-supported")


@checks.add("validation", "POST with an id in the body → 400")
def _body_id(ctx: Context) -> None:
    body, course_id = ctx.need("course", "course_id")
    r = ctx.http.request("POST", COURSES, json_body={**body, "id": course_id})
    expect_status(r, 400)
    problem = json_of(r)
    ensure(
        str(problem.get("type", "")).startswith("urn:ed-fi:api:bad-request"),
        f"{describe(r)}: type {problem.get('type')!r} is not a bad-request type",
    )


def _max_length(component: str, field: str) -> int:
    return int(edfi_openapi()["components"]["schemas"][component]["properties"][field]["maxLength"])


@checks.add(
    "validation",
    "missing required field, too long value → 400 data-validation-failed "
    "with validationErrors by JSON path",
)
def _invalid(ctx: Context) -> None:
    base = course_body(ctx, scratch_code())
    cases = [
        ({k: v for k, v in base.items() if k != "courseTitle"}, "courseTitle"),
        (
            {**base, "courseCode": "X" * (_max_length("edFi_course", "courseCode") + 1)},
            "courseCode",
        ),
    ]
    for body, field in cases:
        r = ctx.http.request("POST", COURSES, json_body=body)
        delete_if_created(ctx, r, f"invalid course {field}")
        problem = expect_problem(r, 400, "bad-request:data-validation-failed")
        errors = problem.get("validationErrors") or {}
        ensure(
            isinstance(errors, dict) and any(field.lower() in k.lower() for k in errors),
            f"{describe(r)}: validationErrors {errors} do not name $.{field}",
        )


@checks.add("validation", "unknown descriptor value → 400 with validationErrors on its path")
def _descriptor(ctx: Context) -> None:
    body = course_body(ctx, scratch_code())
    body["courseDefinedByDescriptor"] = (
        "uri://ed-fi.org/CourseDefinedByDescriptor#Conformance " + scratch_code()
    )
    r = ctx.http.request("POST", COURSES, json_body=body)
    delete_if_created(ctx, r, "course with unknown descriptor")
    problem = expect_problem(r, 400, "bad-request:data-validation-failed")
    errors = problem.get("validationErrors") or {}
    ensure(
        "$.courseDefinedByDescriptor" in errors,
        f"{describe(r)}: validationErrors {errors} lack $.courseDefinedByDescriptor",
    )


@checks.add("lifecycle", "GET of an unknown id → 404 not-found; a body that is not JSON → 415")
def _not_found(ctx: Context) -> None:
    expect_problem(ctx.http.get(COURSES + "/00000000000000000000000000000000"), 404, "not-found")
    r = ctx.http.request(
        "POST", COURSES, data="courseCode=x", headers={"Content-Type": "text/plain"}
    )
    expect_problem(r, 415, "unsupported-media-type")


@checks.add("lifecycle", "routes match case-insensitively (/data/v3/ed-fi/COURSES)")
def _case(ctx: Context) -> None:
    body, course_id = ctx.need("course", "course_id")
    r = ctx.http.get(
        COURSES.replace("courses", "COURSES"), params={"courseCode": body["courseCode"]}
    )
    expect_status(r, 200)
    ensure([i.get("id") for i in items(r)] == [course_id], f"{describe(r)}: not the same record")
