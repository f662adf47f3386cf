"""The Ed-Fi suite against a correct fake ODS/API and against deliberately broken ones."""

from __future__ import annotations

import pytest

from tests.conformance.fake_edfi import KEY, LEA, OTHER_LEA, SECRET, FakeEdFi
from tests.conformance.servers import serve

UPSERT = "POST with the same natural key → 200, same id, new ETag (upsert)"
STALE = "PUT and DELETE with a stale If-Match → 412 optimistic-lock-failed"
KEY_CHANGE = "PUT changing a course's natural key → 400 key-change-not-supported"
UNRESOLVED = (
    "a reference that does not resolve → 409 unresolved-reference naming the referenced resource"
)
DEPENDENT = "DELETE of a course a course offering references → 409 dependent-item-exists"
CURSOR = (
    "cursor paging: Next-Page-Token to the end (an empty page), the same records as offset paging"
)
TOKENS = (
    "every non-empty page has a Next-Page-Token; following them from a first request without "
    "pageSize reads every record"
)
WIRE = {  # the ODS/API 7.3's behaviour on the wire (issue 15): a fault each check catches
    "unknown_param_400": "unknown query parameters (correlationId, …) are ignored",
    "correlation_ignored": (
        "the correlation-id header, else the correlationId parameter, is the problem's"
    ),
    "hyphenated_id_404": (
        "ids and link hrefs are 32 lowercase hex characters; a hyphenated id reads the same record"
    ),
    "token_only_in_cursor_mode": TOKENS,
    "deletes_no_total": "/deletes?totalCount=true → Total-Count",
    "numeric_strings_400": "numbers sent as JSON strings are accepted as numbers",
    "bad_json_generic": (
        "an empty JSON body → 400 bad-request naming it, a malformed one → 400 "
        "data-validation-failed"
    ),
    "options_200": (
        "OPTIONS and PATCH on a collection → 405 method-not-allowed, as the ODS words it"
    ),
    "generic_wording": "limit, 404 and 401 problems are worded as the ODS/API words them",
    "token_info_lenient": "token_info: no token → 400, a token that authenticates nobody → 401",
    "page_size_alone": (
        "pageSize without pageToken → 400 'PageToken is required when pageSize is specified.'"
    ),
    "cursor_mix_lenient": (
        "a pageToken beside offset or totalCount=true → 400, worded as the ODS/API words it; "
        "beside limit it pages by pageSize"
    ),
    "trailing_comma_400": (
        "a comma before the closing brace of a body is read as the ODS/API reads it"
    ),
    "default_date_invalid": (
        "a date of 1/1/0001 (.NET's default) is a date not sent: 'BeginDate is required.'"
    ),
    "own_key_not_unified": (
        "a resource's own key unifies with its references' (chartOfAccounts.fiscalYear), named "
        "at both places"
    ),
    "object_named_by_property": "a missing required embedded object is named by its type",
    "items_not_unified": (
        "a collection item naming another school than its record's (a bell schedule's class "
        "periods) → 400 at that item, in the ODS/API's words"
    ),
    "staff_employment_ignored": (
        "a staff member is reached through an employment association, as in the ODS/API; with "
        "no employment nor assignment, 403 hinting at both"
    ),
    "any_securable_element": (
        "a record naming the client's school and a staff member it does not reach → 403 (every "
        "securable element must relate, as in the ODS/API); once the staff member is employed "
        "there → 201"
    ),
    "mapping_any_namespace": (
        "a descriptor mapping is authorized by its namespace, not its mappedNamespace: outside "
        "the client's prefixes → 403 namespace-mismatch; inside, mapped to another namespace → "
        "201"
    ),
    "decimal_unbounded": (
        "a decimal beyond its column's precision (a staff's yearsOfPriorProfessionalExperience, "
        "DECIMAL(5, 2)) → 400 in the ODS/API's words; at the bound → 201"
    ),
    "snapshot_ignored": (
        "Use-Snapshot: true → 404 'Snapshot not found.' on reads, 405 "
        "snapshots:method-not-allowed on writes (no snapshot is configured)"
    ),
}
PARTITIONS = "/partitions?number=3 gives page tokens that split the collection"
CLEANUP = "scratch records created by the suite are deleted"
SHAPES = "records of every resource in the dependencies match the DS5 OpenAPI"
EVERY_RESOURCE = (
    "every resource of the Ed-Fi DS5 OpenAPI is served: listed in dependencies, and its "
    "collection answers GET with a JSON array"
)
BASIC = "HTTP Basic credentials + grant_type=client_credentials → bearer token"
TOKEN_ERRORS = (
    "token errors: invalid_client (401), invalid_request, unsupported_grant_type, "
    "invalid_scope (400)"
)


def _run(run_cli, faults=(), *extra):
    fake = FakeEdFi(set(faults))
    with serve(fake) as url:
        code, checks = run_cli(
            "edfi",
            "--base-url",
            url,
            "--key",
            KEY,
            "--secret",
            SECRET,
            "--edorg",
            str(LEA),
            "--other-edorg",
            str(OTHER_LEA),
            *extra,
        )
    return code, checks, fake


def _failed(checks):
    return {name for name, c in checks.items() if c["status"] == "fail"}


def test_a_correct_deployment_passes_and_is_left_as_found(run_cli):
    fresh = FakeEdFi()
    before = {name: set(recs) for name, recs in fresh.store.items()}
    code, checks, fake = _run(run_cli)
    assert _failed(checks) == set()
    assert code == 0
    assert {c["status"] for c in checks.values()} == {"pass"}
    assert len(checks) >= 40
    # Scratch records were made inside LEA 255901 and removed: only the seed data remains.
    assert {name: len(recs) for name, recs in fake.store.items()} == {
        name: len(ids) for name, ids in before.items()
    }
    assert fake.deletes["courses"] and all(
        str(d["keyValues"]["educationOrganizationId"]) == str(LEA) for d in fake.deletes["courses"]
    )


def test_without_other_edorg_the_cross_organization_checks_skip(run_cli):
    with serve(FakeEdFi()) as url:
        code, checks = run_cli(
            "edfi", "--base-url", url, "--key", KEY, "--secret", SECRET, "--edorg", str(LEA)
        )
    assert code == 0
    skipped = {n for n, c in checks.items() if c["status"] == "skip"}
    assert skipped == {
        "writing a course in another organization → 403 security:authorization",
        "records of another organization are absent from collections",
    }
    assert all("--other-edorg" in checks[n]["reason"] for n in skipped)
    assert all(checks[n]["optional"] for n in skipped)  # an option not given: not required


def test_checks_the_data_cannot_exercise_make_the_run_incomplete(run_cli):
    """One student cannot be paged: that check cannot run, so the run is incomplete (exit 3),
    not conformant."""
    code, checks, _fake = _run(run_cli, {"one_student"})
    assert {n for n, c in checks.items() if c["status"] == "fail"} == set()
    not_run = {n for n, c in checks.items() if c["status"] == "skip" and not c["optional"]}
    assert not_run and all("too few to page" in checks[n]["reason"] for n in not_run)
    assert code == 3


HEALTH = "GET /health without a token → 200 with the text Healthy, as the ODS/API"


def test_local_bugs_fail_exactly_their_checks(run_cli):
    faults = {
        "no_etag_check",
        "limit_unbounded",
        "reference_400",
        "no_deletes",
        "discovery_version_text",
        "descriptor_any_namespace",
        "no_token_json",
        "cursor_overlap",
        "read_other_org",
    }
    code, checks, _ = _run(run_cli, faults)
    assert code == 1
    assert _failed(checks) == {
        STALE,
        UNRESOLVED,
        CURSOR,
        PARTITIONS,
        "limit > 500 → 400 parameter-validation-failed",
        "/courses/deletes lists the deleted course with its key values",
        "GET / without a token: discovery document per the Discovery API",
        "writing a descriptor outside the client's namespace → 403 "
        "security:authorization:namespace:access-denied:namespace-mismatch",
        "credentials in a JSON body → bearer token",
        "records of another organization are absent from collections",
        # the same bugs seen by the wire checks: a limit above 500, no tombstones, overlap
        WIRE["generic_wording"],
        WIRE["deletes_no_total"],
        TOKENS,
    }
    # The descriptor the broken server accepted was cleaned up again.
    assert checks[CLEANUP]["status"] == "pass"
    # Each failure explains itself: the problem details received and the exchange.
    failure = checks[UNRESOLVED]
    assert "→ 400, expected 409" in failure["reason"]
    assert "urn:ed-fi:api:bad-request" in failure["reason"]
    assert any(x["method"] == "POST" and x["status"] == 400 for x in failure["exchanges"])


@pytest.mark.parametrize(
    "fault, expected",
    [
        ("post_always_201", {UPSERT}),
        ("resource_unserved", {EVERY_RESOURCE}),
        ("key_change_allowed", {KEY_CHANGE}),
        ("delete_referenced", {DEPENDENT}),
        ("no_total_count", {"limit=0&totalCount=TRUE → an empty page and Total-Count"}),
        ("bad_birth_date", {SHAPES}),
        ("no_basic", {BASIC, "the token URL with a trailing slash works too", TOKEN_ERRORS}),
        ("post_new_200", {"POST a new course → 201 with Location and ETag"}),
        (
            "health_json",
            {"GET /health without a token → 200 with the text Healthy, as the ODS/API"},
        ),
        (
            "versions_missing no_form_credentials query_ignored",
            {
                "client_id/client_secret in a form body → bearer token",
                "GET /changeQueries/v1/availableChangeVersions",
                "query by a scalar and a flattened reference key finds the record",
            },
        ),
    ],
)
def test_each_broken_behaviour_fails_its_check(run_cli, fault, expected):
    code, checks, _ = _run(run_cli, set(fault.split()))
    assert code == 1
    assert expected <= _failed(checks)


def test_broken_endpoints_and_authentication_fail_their_checks(run_cli):
    faults = {
        "token_errors_wrong",
        "no_token_info",
        "metadata_missing",
        "deps_wrong_order",
        "anonymous_ok",
        "any_token_ok",
        "versions_frozen",
        "case_sensitive_routes",
        "no_if_none_match",
        "write_other_org_ok",
        "course_no_link",
        "descriptor_no_short",
    }
    code, checks, _ = _run(run_cli, faults)
    assert code == 1
    assert _failed(checks) == {
        TOKEN_ERRORS,
        "POST /oauth/token_info describes the token's client",
        "GET /metadata/data/v3/resources/swagger.json is an OpenAPI document",
        "GET /metadata/data/v3/descriptors/swagger.json is an OpenAPI document",
        "GET /metadata/data/v3/dependencies: load order, schools and students before their "
        "associations",
        "no token → 401 security:authentication",
        "an unknown token → 401 security:authentication",
        "writes raise newestChangeVersion; minChangeVersion/maxChangeVersion select the course",
        "routes match case-insensitively (/data/v3/ed-fi/COURSES)",
        "GET with If-None-Match of the current ETag → 304",
        "GET by id → 200 with ETag, id, _etag, _lastModifiedDate, reference links; matches the "
        "DS5 course schema",
        "records of every descriptor in the dependencies match the DS5 OpenAPI",
        "writing a course in another organization → 403 security:authorization",
        # The course it wrongly accepted in the other organization cannot be deleted again.
        CLEANUP,
        # anonymous and any-token access and no token_info, seen by the wire checks too
        WIRE["generic_wording"],
        WIRE["token_info_lenient"],
    }
    assert any("course written outside the organization" in p for p in checks[CLEANUP]["problems"])


def test_broken_writes_and_paging_fail_their_checks(run_cli):
    faults = {
        "put_200",
        "body_id_ok",
        "no_validation",
        "descriptor_unchecked",
        "no_415",
        "delete_200",
        "no_key_changes",
        "default_limit_25",
        "offset_ignored",
    }
    code, checks, fake = _run(run_cli, faults)
    assert code == 1
    assert _failed(checks) == {
        "PUT full replacement → 204; the change is stored",
        "POST with an id in the body → 400",
        "missing required field, too long value → 400 data-validation-failed with "
        "validationErrors by JSON path",
        "unknown descriptor value → 400 with validationErrors on its path",
        "GET of an unknown id → 404 not-found; a body that is not JSON → 415",
        DEPENDENT,
        "DELETE → 204, then GET → 404",
        "a session's key change (PUT, allowed) is listed by /sessions/keyChanges with old and "
        "new key values",
        "no limit → the default page of 500 (the ODS/API's DefaultPageSizeLimit)",
        "offset/limit to the end: Total-Count agrees, no duplicates or gaps",
    }
    assert (
        checks["/courses/deletes lists the deleted course with its key values"]["status"] == "skip"
    )
    # What the broken server accepted was removed again.
    assert checks[CLEANUP]["status"] == "pass"
    assert len(fake.store["courses"]) == 0


@pytest.mark.parametrize("fault", sorted(WIRE))
def test_each_ods_wire_deviation_fails_its_check(run_cli, fault):
    code, checks, _ = _run(run_cli, {fault})
    assert code == 1
    # a cursor walk starts from the first page's Next-Page-Token: without it there is no walk
    also = {CURSOR} if fault == "token_only_in_cursor_mode" else set()
    assert _failed(checks) == {WIRE[fault]} | also
