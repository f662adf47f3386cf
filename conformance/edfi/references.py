"""References: unresolved → 409 naming the reference; deleting a referenced record → 409."""

from __future__ import annotations

from conformance.edfi.common import (
    delete_if_created,
    describe,
    descriptor_uri,
    expect_problem,
    expect_status,
    first,
    resource,
    school_id,
    scratch_code,
)
from conformance.runner import CheckList, Context, ensure, skip

checks = CheckList()


@checks.add(
    "references",
    "a reference that does not resolve → 409 unresolved-reference naming the referenced resource",
)
def _unresolved(ctx: Context) -> None:
    student = scratch_code("CONFSTU")[:32]
    body = {
        "entryDate": "2026-08-20",
        "entryGradeLevelDescriptor": descriptor_uri(ctx, "GradeLevelDescriptor"),
        "schoolReference": {"schoolId": school_id(ctx)},
        "studentReference": {"studentUniqueId": student},
    }
    r = ctx.http.request("POST", resource("studentSchoolAssociations"), json_body=body)
    delete_if_created(ctx, r, "association to a missing student")
    problem = expect_problem(r, 409, "data-conflict:unresolved-reference")
    text = " ".join(
        [str(problem.get("detail", ""))] + [str(e) for e in problem.get("errors") or []]
    )
    ensure(
        "student" in text.lower(),
        f"{describe(r)}: the problem does not name the missing Student reference: {text!r}",
    )


@checks.add(
    "references", "DELETE of a course a course offering references → 409 dependent-item-exists"
)
def _dependent(ctx: Context) -> None:
    course, location = ctx.need("course", "course_location")
    session = first(ctx, "sessions", {"schoolId": school_id(ctx)})
    if not session:
        skip(f"no session at school {school_id(ctx)} to offer the scratch course in")
    year = session.get("schoolYearTypeReference", {}).get("schoolYear")
    offering = {
        "localCourseCode": course["courseCode"],
        "courseReference": {
            "courseCode": course["courseCode"],
            "educationOrganizationId": course["educationOrganizationReference"][
                "educationOrganizationId"
            ],
        },
        "schoolReference": {"schoolId": school_id(ctx)},
        "sessionReference": {
            "schoolId": school_id(ctx),
            "schoolYear": year,
            "sessionName": session.get("sessionName"),
        },
    }
    r = ctx.http.request("POST", resource("courseOfferings"), json_body=offering)
    delete_if_created(ctx, r, "scratch course offering")
    expect_status(r, 201)
    offering_location = ctx.http.url(r.headers["Location"])
    expect_problem(ctx.http.request("DELETE", location), 409, "data-conflict:dependent-item-exists")
    expect_status(ctx.http.get(location), 200)
    expect_status(ctx.http.request("DELETE", offering_location), 204)
    ctx.state["course_etag"] = ctx.http.get(location).headers.get("ETag")
