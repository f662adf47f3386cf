"""What clients of the ODS/API 7.3 rely on at the level of the wire: ignored extra parameters,
numbers sent as text, page tokens on every page, ids in the ODS form, correlation ids, and the
ODS/API's problem details for malformed requests, unknown methods, limits, 401 and 404."""

from __future__ import annotations

import json
import math
import re
import uuid
from typing import Any

from conformance.edfi.common import (
    delete_if_created,
    delete_later,
    describe,
    edorg_id,
    expect_problem,
    expect_status,
    first,
    items,
    resource,
    school_id,
    scratch_code,
)
from conformance.edfi.lifecycle import course_body
from conformance.edfi.paging import _path, _total
from conformance.http import BearerAuth, json_of
from conformance.runner import CheckFailed, CheckList, Context, ensure, skip

checks = CheckList()
HEX_ID = re.compile(r"^[0-9a-f]{32}$")
HREF = re.compile(r"^/ed-fi/\w+/[0-9a-f]{32}$")
INVALID_REQUEST = "The request construction was invalid."


@checks.add("wire", "unknown query parameters (correlationId, …) are ignored")
def _unknown_parameters(ctx: Context) -> None:
    r = ctx.http.get(_path(ctx), params={"limit": 1, "correlationId": "conformance", "zz": "1"})
    expect_status(r, 200)
    ensure(len(items(r)) == min(1, _total(ctx)), f"{describe(r)}: the page is not the same")


@checks.add("wire", "the correlation-id header, else the correlationId parameter, is the problem's")
def _correlation(ctx: Context) -> None:
    missing = resource("courses", "/" + uuid.uuid4().hex)
    r = ctx.http.get(missing, params={"correlationId": "conf-in-query"})
    body = expect_problem(r, 404, "not-found")
    ensure(
        body["correlationId"] == "conf-in-query",
        f"{describe(r)}: correlationId {body['correlationId']!r}, expected 'conf-in-query'",
    )
    r = ctx.http.get(
        missing,
        params={"correlationId": "conf-in-query"},
        headers={"correlation-id": "conf-in-header"},
    )
    body = expect_problem(r, 404, "not-found")
    ensure(
        body["correlationId"] == "conf-in-header",
        f"{describe(r)}: correlationId {body['correlationId']!r}, expected 'conf-in-header'",
    )


@checks.add(
    "wire",
    "ids and link hrefs are 32 lowercase hex characters; a hyphenated id reads the same record",
)
def _ids(ctx: Context) -> None:
    record = first(ctx, ctx.options["paging_resource"])
    if record is None:
        skip(f"{_path(ctx)} is empty")
    rid = str(record.get("id"))
    ensure(HEX_ID.match(rid), f"id {rid!r} is not 32 lowercase hex characters")
    hrefs = [
        v["link"]["href"]
        for v in record.values()
        if isinstance(v, dict) and isinstance(v.get("link"), dict) and "href" in v["link"]
    ]
    bad = [h for h in hrefs if not HREF.match(h)]
    ensure(not bad, f"link hrefs not of the form /ed-fi/{{resource}}/{{32 hex}}: {bad}")
    r = ctx.http.get(_path(ctx) + "/" + str(uuid.UUID(rid)))
    expect_status(r, 200)
    ensure(json_of(r).get("id") == rid, f"{describe(r)}: another record")


@checks.add(
    "wire",
    "every non-empty page has a Next-Page-Token; following them from a first request "
    "without pageSize reads every record",
)
def _tokens_everywhere(ctx: Context) -> None:
    total = _total(ctx)
    if total > ctx.options["max_records"]:
        skip(f"{_path(ctx)} has {total} records, more than --max-records")
    seen: list[str] = []
    # a first page smaller than the whole (as edfi-api-client asks one by `limit`), so that
    # following the tokens crosses pages even where every record fits the default page
    size = max(1, math.ceil(total / 4))
    params: dict[str, object] = {"limit": size}
    for _ in range(total // size + 3):
        r = ctx.http.get(_path(ctx), params=params)
        expect_status(r, 200)
        page = [i.get("id") for i in items(r)]
        token = r.headers.get("Next-Page-Token")
        if not page:
            break
        ensure(token, f"{describe(r)}: a page of {len(page)} records without Next-Page-Token")
        seen += page
        params = {"pageToken": token}
    if len(seen) != total or len(set(seen)) != total:
        raise CheckFailed(
            f"following Next-Page-Token read {len(set(seen))} distinct of {total} records"
        )


@checks.add(
    "wire",
    "pageSize without pageToken → 400 'PageToken is required when pageSize is specified.'",
)
def _page_size_needs_token(ctx: Context) -> None:
    r = ctx.http.get(_path(ctx), params={"pageSize": 2})
    body = expect_problem(r, 400, "bad-request:parameter-validation-failed")
    errors = body.get("errors") or []
    ensure(
        "PageToken is required when pageSize is specified." in errors,
        f"{describe(r)}: errors {errors!r} do not say a pageToken is required",
    )


@checks.add(
    "wire",
    "a pageToken beside offset or totalCount=true → 400, worded as the ODS/API words it; "
    "beside limit it pages by pageSize",
)
def _cursor_mixing(ctx: Context) -> None:
    first_page = ctx.http.get(_path(ctx), params={"limit": 1})
    expect_status(first_page, 200)
    token = first_page.headers.get("Next-Page-Token")
    if not token:
        skip(f"{_path(ctx)} is empty")
    for extra, said in (
        (
            {"offset": 0},
            "Both offset and pageToken parameters were provided, but they support alternative "
            "paging approaches and cannot be used together.",
        ),
        (
            {"totalCount": "true"},
            "Total count cannot be determined while using cursor paging (when pageToken is "
            "specified).",
        ),
    ):
        r = ctx.http.get(_path(ctx), params={"pageToken": token, "pageSize": 1, **extra})
        body = expect_problem(r, 400, "bad-request:parameter-validation-failed")
        errors = body.get("errors") or []
        ensure(
            body.get("detail") == INVALID_REQUEST and said in errors,
            f"{describe(r)}: detail {body.get('detail')!r}, errors {errors!r}; expected "
            f"{INVALID_REQUEST!r} and {said!r}",
        )
    r = ctx.http.get(_path(ctx), params={"pageToken": token, "pageSize": 1, "limit": 0})
    expect_status(r, 200)


@checks.add(
    "wire",
    "Use-Snapshot: true → 404 'Snapshot not found.' on reads, 405 snapshots:method-not-allowed "
    "on writes (no snapshot is configured)",
)
def _snapshots(ctx: Context) -> None:
    snapshot = {"Use-Snapshot": "true"}
    r = ctx.http.get(_path(ctx), params={"limit": 1}, headers=snapshot)
    body = expect_problem(r, 404, "not-found")
    ensure(
        body.get("detail") == "Snapshot not found.",
        f"{describe(r)}: detail {body.get('detail')!r}, expected 'Snapshot not found.'",
    )
    r = ctx.http.request("POST", _path(ctx), json_body={}, headers=snapshot)
    expect_problem(r, 405, "snapshots:method-not-allowed")


@checks.add("wire", "/deletes?totalCount=true → Total-Count")
def _deletes_total(ctx: Context) -> None:
    r = ctx.http.get(resource("courses", "/deletes"), params={"totalCount": "true", "limit": 1})
    expect_status(r, 200)
    total = r.headers.get("Total-Count", "")
    ensure(total.isdigit(), f"{describe(r)}: Total-Count is {total!r}")


@checks.add("wire", "numbers sent as JSON strings are accepted as numbers")
def _numeric_strings(ctx: Context) -> None:
    body = course_body(ctx, scratch_code())
    edorg = body["educationOrganizationReference"]["educationOrganizationId"]
    body["educationOrganizationReference"] = {"educationOrganizationId": str(edorg)}
    body["numberOfParts"] = "1"
    r = ctx.http.request("POST", resource("courses"), json_body=body)
    location = r.headers.get("Location", "")
    url = ctx.http.url(location) if location.startswith("/") else location
    if r.status_code in (200, 201) and location:
        delete_later(ctx, f"course {body['courseCode']}", url)
    expect_status(r, 201)
    ensure(location, f"{describe(r)}: no Location")
    stored = json_of(ctx.http.get(url))
    ensure(
        stored.get("numberOfParts") == 1
        and stored["educationOrganizationReference"]["educationOrganizationId"] == edorg,
        f"GET {url}: the values were not stored as numbers",
    )


@checks.add(
    "wire",
    "an empty JSON body → 400 bad-request naming it, a malformed one → 400 data-validation-failed",
)
def _bad_bodies(ctx: Context) -> None:
    json_type = {"Content-Type": "application/json"}
    r = ctx.http.request("POST", resource("courses"), data="", headers=json_type)
    body = expect_problem(r, 400, "bad-request")
    ensure(
        "A non-empty request body is required." in (body.get("errors") or []),
        f"{describe(r)}: errors {body.get('errors')!r}",
    )
    r = ctx.http.request("POST", resource("courses"), data="{not json", headers=json_type)
    body = expect_problem(r, 400, "bad-request:data-validation-failed")
    ensure(body.get("validationErrors"), f"{describe(r)}: a problem without validationErrors")


@checks.add(
    "wire", "OPTIONS and PATCH on a collection → 405 method-not-allowed, as the ODS words it"
)
def _methods(ctx: Context) -> None:
    for method in ("OPTIONS", "PATCH"):
        r = ctx.http.request(method, resource("courses"))
        body = expect_problem(r, 405, "method-not-allowed")
        expected = f"The endpoint of the request does not support the '{method}' method."
        ensure(
            body.get("detail") == INVALID_REQUEST and expected in (body.get("errors") or []),
            f"{describe(r)}: detail {body.get('detail')!r}, errors {body.get('errors')!r}",
        )


@checks.add("wire", "limit, 404 and 401 problems are worded as the ODS/API words them")
def _wording(ctx: Context) -> None:
    problems = []
    r = ctx.http.get(_path(ctx), params={"limit": 501})
    body = expect_problem(r, 400, "bad-request:parameter-validation-failed")
    if body.get("errors") != ["Limit must be a value between 0 and 500."]:
        problems.append(f"{describe(r)}: errors {body.get('errors')!r}")
    r = ctx.http.get(resource("courses", "/" + uuid.uuid4().hex))
    body = expect_problem(r, 404, "not-found")
    if body.get("detail") != "The specified item could not be found.":
        problems.append(f"{describe(r)}: detail {body.get('detail')!r}")
    r = ctx.http.get(_path(ctx), auth=False)
    body = expect_problem(r, 401, "security:authentication")
    if body.get("detail") != "The caller could not be authenticated." or (
        "Authorization header is missing." not in (body.get("errors") or [])
    ):
        problems.append(f"{describe(r)}: detail {body.get('detail')!r}, {body.get('errors')!r}")
    if problems:
        raise CheckFailed("problem details differ from the ODS/API's", problems)


@checks.add("wire", "token_info: no token → 400, a token that authenticates nobody → 401")
def _token_info(ctx: Context) -> None:
    url = ctx.options["token_url"].rsplit("/", 1)[0] + "/token_info"
    r = ctx.http.request("POST", url, json_body={})
    expect_status(r, 400)
    unknown = str(uuid.uuid4())
    r = ctx.http.request(
        "POST",
        url,
        json_body={"token": unknown},
        auth=BearerAuth(unknown),
    )
    expect_status(r, 401)


@checks.add("wire", "a comma before the closing brace of a body is read as the ODS/API reads it")
def _trailing_comma(ctx: Context) -> None:
    text = json.dumps(course_body(ctx, scratch_code()))
    r = ctx.http.request(
        "POST",
        resource("courses"),
        data=text[:-1] + ",}",
        headers={"Content-Type": "application/json"},
    )
    delete_if_created(ctx, r, "course posted with a trailing comma")
    expect_status(r, 201)


def _refused(ctx: Context, name: str, body: dict[str, Any], label: str) -> tuple[Any, dict]:
    """POST a document the API must refuse (removed after if it was stored): the response and
    its validationErrors."""
    r = ctx.http.request("POST", resource(name), json_body=body)
    delete_if_created(ctx, r, label)
    problem = expect_problem(r, 400, "bad-request:data-validation-failed")
    errors = problem.get("validationErrors")
    ensure(isinstance(errors, dict), f"{describe(r)}: no validationErrors")
    return r, errors


@checks.add(
    "wire", "a date of 1/1/0001 (.NET's default) is a date not sent: 'BeginDate is required.'"
)
def _default_date(ctx: Context) -> None:
    week = {
        "weekIdentifier": scratch_code("WEEK"),
        "schoolReference": {"schoolId": school_id(ctx)},
        "beginDate": "1/1/0001",
        "endDate": "1/1/0001",
        "totalInstructionalDays": 5,
    }
    r, errors = _refused(ctx, "academicWeeks", week, "academic week of 1/1/0001")
    ensure(
        errors.get("$.beginDate") == ["BeginDate is required."],
        f"{describe(r)}: $.beginDate {errors.get('$.beginDate')!r}",
    )


@checks.add(
    "wire",
    "a resource's own key unifies with its references' (chartOfAccounts.fiscalYear), named at "
    "both places",
)
def _own_key_unified(ctx: Context) -> None:
    account = {
        "accountIdentifier": scratch_code("ACCT"),
        "fiscalYear": 2022,
        "educationOrganizationReference": {"educationOrganizationId": edorg_id(ctx)},
        "functionDimensionReference": {"code": "CONF", "fiscalYear": 2021},
        "accountTypeDescriptor": "uri://ed-fi.org/AccountTypeDescriptor#Expenditure",
    }
    r, errors = _refused(ctx, "chartOfAccounts", account, "chart of accounts")
    said = "All values supplied for 'fiscalYear' must match."
    for path in ("$.fiscalYear", "$.functionDimensionReference.fiscalYear"):
        ensure(
            any(said in e for e in errors.get(path, [])),
            f"{describe(r)}: {path} does not name the conflict ({errors.get(path)!r})",
        )


@checks.add("wire", "a missing required embedded object is named by its type")
def _object_named(ctx: Context) -> None:
    standard = {
        "learningStandardId": scratch_code("LS"),
        "description": "Conformance",
        "namespace": "uri://ed-fi.org/LearningStandard/LearningStandard.xml",
        "academicSubjects": [
            {
                "academicSubjectDescriptor": (
                    "uri://ed-fi.org/AcademicSubjectDescriptor#English Language Arts"
                )
            }
        ],
        "gradeLevels": [
            {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Second grade"}
        ],
    }
    r, errors = _refused(ctx, "learningStandards", standard, "learning standard")
    ensure(
        errors.get("$.contentStandard") == ["LearningStandardContentStandard is required."],
        f"{describe(r)}: $.contentStandard {errors.get('$.contentStandard')!r}",
    )


@checks.add(
    "wire",
    "a collection item naming another school than its record's (a bell schedule's class "
    "periods) → 400 at that item, in the ODS/API's words",
)
def _items_unified(ctx: Context) -> None:
    school = school_id(ctx)
    schedule = {
        "schoolReference": {"schoolId": school},
        "bellScheduleName": scratch_code("BELL"),
        "classPeriods": [
            {"classPeriodReference": {"schoolId": school + 1, "classPeriodName": "1"}}
        ],
    }
    r, errors = _refused(ctx, "bellSchedules", schedule, "bell schedule of two schools")
    found = errors.get("$.classPeriods[0].classPeriodReference.schoolId") or []
    ensure(
        any("All values supplied for 'schoolId' must match." in e for e in found),
        f"{describe(r)}: $.classPeriods[0].classPeriodReference.schoolId {found!r}",
    )


@checks.add(
    "wire",
    "a decimal beyond its column's precision (a staff's yearsOfPriorProfessionalExperience, "
    "DECIMAL(5, 2)) → 400 in the ODS/API's words; at the bound → 201",
)
def _decimal_precision(ctx: Context) -> None:
    staff = {
        "staffUniqueId": scratch_code("STAFF"),
        "firstName": "Conformance",
        "lastSurname": "Staff",
        "yearsOfPriorProfessionalExperience": 1000,
    }
    r, errors = _refused(ctx, "staffs", staff, "staff of 1000 years")
    said = errors.get("$.yearsOfPriorProfessionalExperience")
    expected = ["YearsOfPriorProfessionalExperience must be between -999.99 and 999.99."]
    ensure(said == expected, f"{describe(r)}: $.yearsOfPriorProfessionalExperience {said!r}")
    at_bound = {**staff, "yearsOfPriorProfessionalExperience": 999.99}
    r = ctx.http.request("POST", resource("staffs"), json_body=at_bound)
    delete_if_created(ctx, r, "staff of 999.99 years")
    expect_status(r, 201)
