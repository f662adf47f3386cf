"""Authorization: 401 without a valid token; 403 outside the client's organizations, namespace."""

from __future__ import annotations

import uuid

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
    school_id,
    scratch_code,
)
from conformance.edfi.lifecycle import course_body
from conformance.http import BearerAuth, json_of
from conformance.runner import CheckList, Context, ensure, not_requested, skip

checks = CheckList()


@checks.add("authorization", "no token → 401 security:authentication")
def _anonymous(ctx: Context) -> None:
    expect_problem(ctx.http.get(resource("students"), auth=False), 401, "security:authentication")


@checks.add("authorization", "an unknown token → 401 security:authentication")
def _bad_token(ctx: Context) -> None:
    r = ctx.http.get(resource("students"), auth=BearerAuth("conformance-" + uuid.uuid4().hex))
    expect_problem(r, 401, "security:authentication")


def _other(ctx: Context) -> int:
    other = ctx.options["other_edorg"]
    if not other:
        not_requested(
            "give --other-edorg (an organization outside the client's reach) to check this"
        )
    return int(other)


@checks.add(
    "authorization", "writing a course in another organization → 403 security:authorization"
)
def _write_outside(ctx: Context) -> None:
    other = _other(ctx)
    body = {
        **course_body(ctx, scratch_code()),
        "educationOrganizationReference": {"educationOrganizationId": other},
    }
    r = ctx.http.request("POST", resource("courses"), json_body=body)
    delete_if_created(ctx, r, "course written outside the organization")
    expect_problem(r, 403, "security:authorization")


@checks.add("authorization", "records of another organization are absent from collections")
def _read_outside(ctx: Context) -> None:
    # Not schools: under the ODS's default claim sets every client reads every education
    # organization (educationOrganizations Read: NoFurtherAuthorizationRequired).
    other = _other(ctx)
    r = ctx.http.get(resource("courses"), params={"educationOrganizationId": other})
    expect_status(r, 200)
    ensure(items(r) == [], f"{describe(r)}: courses outside the client's reach are listed")


@checks.add(
    "authorization",
    "writing a descriptor outside the client's namespace → 403 "
    "security:authorization:namespace:access-denied:namespace-mismatch",
)
def _namespace(ctx: Context) -> None:
    body = {
        "namespace": "uri://conformance.invalid/GradeLevelDescriptor",
        "codeValue": scratch_code("Conf"),
        "shortDescription": "Conformance scratch",
        "description": "Conformance scratch value outside the client's namespace",
    }
    r = ctx.http.request("POST", resource("gradeLevelDescriptors"), json_body=body)
    delete_if_created(ctx, r, "descriptor outside the namespace")
    expect_problem(r, 403, "security:authorization:namespace:access-denied:namespace-mismatch")


STAFF_HINT = (
    "Hint: You may need to create corresponding 'StaffEducationOrganizationEmploymentAssociation' "
    "or 'StaffEducationOrganizationAssignmentAssociation' items."
)


def _namespace_prefix(ctx: Context) -> str:
    """The client's first namespace prefix, as token_info describes the client."""
    if "namespace_prefix" not in ctx.state:
        url = ctx.options["token_url"].rsplit("/", 1)[0] + "/token_info"
        r = ctx.http.request("POST", url, json_body={"token": ctx.need("token")})
        prefixes = (json_of(r) or {}).get("namespace_prefixes") if r.status_code == 200 else None
        if not prefixes:
            skip("token_info names no namespace prefix of the client")
        ctx.state["namespace_prefix"] = str(prefixes[0]).rstrip("/")
    return ctx.state["namespace_prefix"]


@checks.add(
    "authorization",
    "a descriptor mapping is authorized by its namespace, not its mappedNamespace: outside the "
    "client's prefixes → 403 namespace-mismatch; inside, mapped to another namespace → 201",
)
def _mapping_namespace(ctx: Context) -> None:
    prefix = _namespace_prefix(ctx)
    value = scratch_code("Conf")
    outside = {
        "namespace": "uri://conformance.invalid/SomeDescriptor",
        "value": value,
        "mappedNamespace": f"{prefix}/SomeDescriptor",
        "mappedValue": "Mapped",
    }
    r = ctx.http.request("POST", resource("descriptorMappings"), json_body=outside)
    delete_if_created(ctx, r, "descriptor mapping outside the namespace")
    expect_problem(r, 403, "security:authorization:namespace:access-denied:namespace-mismatch")
    inside = {
        "namespace": f"{prefix}/SomeDescriptor",
        "value": value,
        "mappedNamespace": "uri://conformance.invalid/SomeOtherDescriptor",
        "mappedValue": "Mapped",
    }
    r = ctx.http.request("POST", resource("descriptorMappings"), json_body=inside)
    delete_if_created(ctx, r, "descriptor mapping in the client's namespace")
    expect_status(r, 201)


def _new_staff(ctx: Context) -> tuple[str, str]:
    """A scratch staff member (removed after): its staffUniqueId and URL."""
    unique_id = scratch_code("STAFF")
    r = ctx.http.request(
        "POST",
        resource("staffs"),
        json_body={"staffUniqueId": unique_id, "firstName": "Conformance", "lastSurname": "Staff"},
    )
    expect_status(r, 201)
    staff = ctx.http.url(r.headers["Location"])
    delete_later(ctx, f"staff {unique_id}", staff)
    return unique_id, staff


def _employ(ctx: Context, unique_id: str) -> None:
    """Employ the staff member at the client's organization (removed after)."""
    r = ctx.http.request(
        "POST",
        resource("staffEducationOrganizationEmploymentAssociations"),
        json_body={
            "staffReference": {"staffUniqueId": unique_id},
            "educationOrganizationReference": {"educationOrganizationId": edorg_id(ctx)},
            "employmentStatusDescriptor": descriptor_uri(ctx, "EmploymentStatusDescriptor"),
            "hireDate": "2021-08-01",
        },
    )
    expect_status(r, 201)
    delete_later(ctx, f"employment of staff {unique_id}", ctx.http.url(r.headers["Location"]))


@checks.add(
    "authorization",
    "a staff member is reached through an employment association, as in the ODS/API; with no "
    "employment nor assignment, 403 hinting at both",
)
def _staff_through_employment(ctx: Context) -> None:
    unique_id, staff = _new_staff(ctx)
    refused = expect_problem(ctx.http.get(staff), 403, "security:authorization")
    ensure(
        STAFF_HINT in str(refused.get("detail")),
        f"GET {staff}: detail {refused.get('detail')!r} does not hint at employment and "
        "assignment associations",
    )
    _employ(ctx, unique_id)
    expect_status(ctx.http.get(staff), 200)


@checks.add(
    "authorization",
    "a record naming the client's school and a staff member it does not reach → 403 (every "
    "securable element must relate, as in the ODS/API); once the staff member is employed "
    "there → 201",
)
def _every_element(ctx: Context) -> None:
    unique_id, _ = _new_staff(ctx)
    body = {
        "staffReference": {"staffUniqueId": unique_id},
        "schoolReference": {"schoolId": school_id(ctx)},
        "programAssignmentDescriptor": descriptor_uri(ctx, "ProgramAssignmentDescriptor"),
    }
    r = ctx.http.request("POST", resource("staffSchoolAssociations"), json_body=body)
    delete_if_created(ctx, r, f"school association of staff {unique_id}")
    expect_problem(r, 403, "security:authorization")
    _employ(ctx, unique_id)
    r = ctx.http.request("POST", resource("staffSchoolAssociations"), json_body=body)
    delete_if_created(ctx, r, f"school association of staff {unique_id}")
    expect_status(r, 201)
