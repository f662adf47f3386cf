"""The OneRoster suite against a correct fake provider and against deliberately broken ones."""

from __future__ import annotations

import pytest
import requests

from tests.conformance.fake_oneroster import KEY, SECRET, FakeOneRoster
from tests.conformance.servers import serve

LOGIN = "credentials are accepted (OAuth 2 token, OAuth 1.0a or bearer)"
REPLAY = "OAuth 1.0a: a replayed nonce → 401"
CORE_SCOPE = "a roster-core.readonly token reads /orgs but gets 403 on /demographics (imsx)"
BAD_LIMITS = "limit 0, negative or non-integer, offset negative → 400 (imsx)"
LINE_ITEM = (
    "PUT /lineItems/{id} with every required field (a title over 100 characters) creates it (201)"
)
DELETES = (
    "DELETE /results, /lineItems, /categories → 204; then 404 by id and absent from the "
    "collection, while a dateLastModified delta read lists the tombstone"
)
MISSING_FIELD = (
    "PUT /lineItems/{id} without a required field → 400 'invaliddata' naming the field (imsx)"
)
SLASH = "a trailing slash (/courses/) reads the same collection"
TERMS = "/terms lists the terms classes name; /terms/{id}/classes takes them"


def _run(run_cli, faults=(), *extra, secret=SECRET):
    with serve(FakeOneRoster(set(faults))) as url:
        return run_cli("oneroster", "--base-url", url, "--key", KEY, "--secret", secret, *extra)


def _failed(checks):
    return {name for name, c in checks.items() if c["status"] == "fail"}


@pytest.fixture(scope="module")
def correct(tmp_path_factory):
    """The suite's results against a correct provider, with OAuth 2 and with OAuth 1.0a."""
    import json

    from conformance import cli

    out = {}
    for mode, extra in (("oauth2", ()), ("oauth1", ("--oauth1",))):
        report = tmp_path_factory.mktemp(mode) / "r.json"
        with serve(FakeOneRoster()) as url:
            code = cli.main(
                [
                    "oneroster",
                    "--base-url",
                    url,
                    "--key",
                    KEY,
                    "--secret",
                    SECRET,
                    *extra,
                    "--json",
                    str(report),
                ]
            )
        checks = {c["name"]: c for c in json.loads(report.read_text())["checks"]}
        out[mode] = (code, checks)
    return out


@pytest.mark.parametrize("mode", ["oauth2", "oauth1"])
def test_a_correct_provider_passes_every_check(correct, mode):
    code, checks = correct[mode]
    assert _failed(checks) == set()
    assert code == 0
    passed = {n for n, c in checks.items() if c["status"] == "pass"}
    # Every one of the 55 paths was exercised and passed (32 collection/by-id + 23 nested).
    assert sum(n.startswith("GET /") for n in passed) == 55
    assert {"gradebook", "filter", "sort", "fields", "paging", "GUIDRefs"} <= {
        checks[n]["area"] for n in passed
    }
    assert checks["scratch records created by the suite are deleted"]["status"] == "pass"


def test_oauth1_checks_run_only_with_oauth1(correct):
    plain, signed = correct["oauth2"][1], correct["oauth1"][1]
    assert plain[REPLAY]["status"] == "skip" and signed[REPLAY]["status"] == "pass"
    assert plain[CORE_SCOPE]["status"] == "pass" and signed[CORE_SCOPE]["status"] == "skip"


def test_a_bearer_token_can_be_given(run_cli):
    with serve(FakeOneRoster()) as url:
        token = requests.post(
            url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(KEY, SECRET),
            timeout=5,
        ).json()["access_token"]
        code, checks = run_cli("oneroster", "--base-url", url, "--token", token)
    assert code == 0, _failed(checks)
    assert checks[LOGIN]["status"] == "pass"


def test_bad_credentials_fail_the_login_check(run_cli):
    code, checks = _run(run_cli, secret="not-it")
    assert code == 1
    assert checks[LOGIN]["status"] == "fail"


def test_local_bugs_fail_exactly_their_checks(run_cli):
    """Independent bugs together: each fails the checks of its behaviour and nothing else."""
    faults = {
        "sort_ignored",
        "fields_ignored",
        "bad_limit_ok",
        "put_always_200",
        "contains_case_sensitive",
        "nested_no_404",
        "link_overlap",
    }
    code, checks = _run(run_cli, faults)
    assert code == 1
    assert _failed(checks) == {
        "sort=startDate&orderBy=asc is ascending and stable",
        "sort=startDate&orderBy=desc is descending and stable",
        "orderBy=acs (the spec's typo) is accepted as asc",
        "unknown sort field → 200 with an invalid_sort_field warning",
        "fields=sourcedId,name returns exactly those fields",
        "unknown fields entry → 200 with an invalid_selection_field warning",
        BAD_LIMITS,
        "PUT /categories/{id} creates (201), a second PUT replaces (200)",
        "filter ~ is a case-insensitive contains (orgs name)",
        "unknown sourcedIds and parents → 404 'unknownobject' (imsx)",
        'following Link rel="next" reads the whole collection once, X-Total-Count agrees',
        'Link URLs keep filter/sort/orderBy/limit; rel="last" is the last page',
    }
    # A failure carries the request and response that show it (credentials masked).
    failure = checks[BAD_LIMITS]
    assert failure["problems"] and "expected 400" in failure["problems"][0]
    culprit = [x for x in failure["exchanges"] if x["status"] == 200]
    assert culprit and "limit=0" in culprit[0]["url"]
    assert culprit[0]["request_headers"]["Authorization"] == "…"
    assert '"orgs"' in culprit[0]["response_body"]


def test_missing_total_count_fails_collections_and_paging(run_cli):
    _, checks = _run(run_cli, {"no_total_count", "lineitem_put_200", "demographics_sex_code"})
    failed = _failed(checks)
    assert {
        LINE_ITEM,
        "GET /demographics/{id}: single envelope and schema",
        "GET /users: envelope, entity schema, X-Total-Count",
        "GET /classes/{id}/students: records of that parent only",
        "no limit → the default page of 100",
    } <= failed
    assert "fields=sourcedId,name returns exactly those fields" not in failed


def test_wrong_shapes_fail_schema_and_reference_checks(run_cli):
    _, checks = _run(
        run_cli, {"relative_href", "single_envelope", "nested_leak", "unserved_resources"}
    )
    failed = _failed(checks)
    assert {
        "GET /resources: envelope, entity schema, X-Total-Count",
        "GET /resources/{id}: single envelope and schema",
        "unknown sourcedIds and parents → 404 'unknownobject' (imsx)",
        "GUIDRef hrefs in /enrollments are absolute and resolve",
        "GET /enrollments: envelope, entity schema, X-Total-Count",
        "GET /users/{id}: single envelope and schema",
        "GET /schools/{id}/classes: records of that parent only",
        "GET /terms/{id}/classes: records of that parent only",
    } <= failed
    problems = checks["GET /enrollments: envelope, entity schema, X-Total-Count"]["problems"]
    assert any("$.enrollments[0].user.href" in p for p in problems)


def test_broken_authentication_fails_its_checks(run_cli):
    faults = {
        "anonymous_ok",
        "any_token_ok",
        "core_scope_ignored",
        "post_allowed",
        "result_not_listed",
        "delete_forbidden",
    }
    _, checks = _run(run_cli, faults)
    assert _failed(checks) == {
        "no credentials → 401 (imsx)",
        "an unknown bearer token → 401 (imsx)",
        CORE_SCOPE,
        "a write verb on a read-only collection → 405 (imsx)",
        "PUT /results/{id} for a student of the class creates it (201) and it is listed under "
        "its class and line item",
        # Scratch gradebook records the provider will not delete are reported, not ignored.
        "scratch records created by the suite are deleted",
    }


def test_broken_oauth1_fails_its_checks(run_cli):
    # A provider that signs spaces as '+' rejects every request with a space in its query:
    # the spaces check, the ~ filter ('bEND hIG'), the AND/OR joins and the malformed filters.
    _, checks = _run(run_cli, {"oauth1_plus_spaces"}, "--oauth1")
    assert _failed(checks) == {
        "OAuth 1.0a: query parameters with spaces are signed as %20",
        "filter ~ is a case-insensitive contains (orgs name)",
        "filter with AND",
        "filter with OR",
        "unknown field or malformed filter → 400 invalid_filter_field (imsx)",
    }
    faults = {"oauth1_replay", "oauth1_stale_ok", "oauth1_sha256_only", "oauth1_any_signature"}
    _, checks = _run(run_cli, faults, "--oauth1")
    assert _failed(checks) == {
        REPLAY,
        "OAuth 1.0a: a timestamp a day old → 401",
        "OAuth 1.0a: HMAC-SHA256 and HMAC-SHA1 signatures are accepted",
        "OAuth 1.0a: a wrong signature → 401",
    }


def test_ignored_filters_typed_views_and_gradebook_checks(run_cli):
    faults = {"filter_ignored", "typed_view_leak", "bad_ref_accepted", "delete_noop"}
    _, checks = _run(run_cli, faults)
    filters = {n for n, c in checks.items() if c["area"] == "filter"}
    assert len(filters) == 13
    assert _failed(checks) == filters | {
        "GET /students: envelope, entity schema, X-Total-Count",
        "GET /students/{id}: single envelope and schema",
        "PUT /lineItems/{id} naming an unknown class → 4xx (imsx), nothing stored",
        DELETES,
    }


def test_an_empty_provider_is_incomplete_and_says_what_it_could_not_exercise(tmp_path, capsys):
    """Nothing fails against a provider holding no records, but most checks cannot run: the
    verdict is "incomplete" (exit status 3), never conformant, and the summary lists them."""
    import json

    from conformance import cli

    report = tmp_path / "empty.json"
    with serve(FakeOneRoster({"empty"})) as url:
        args = ["oneroster", "--base-url", url, "--key", KEY, "--secret", SECRET]
        code = cli.main([*args, "--json", str(report)])
    data = json.loads(report.read_text(encoding="utf-8"))
    checks = {c["name"]: c for c in data["checks"]}
    assert _failed(checks) == set()
    assert code == 3 and data["verdict"] == "incomplete" and data["ok"] is False
    skipped = {n for n, c in checks.items() if c["status"] == "skip" and not c["optional"]}
    assert {"GET /users/{id}: single envelope and schema", LINE_ITEM} <= skipped
    assert len(data["notExercised"]) == len(skipped)
    out = capsys.readouterr().out
    assert "INCOMPLETE" in out and f"not exercised ({len(skipped)} required checks" in out
    assert "GET /users/{id}: single envelope and schema" in out


def test_options_not_given_do_not_make_a_run_incomplete(correct):
    code, checks = correct["oauth2"]
    assert code == 0 and checks[REPLAY]["status"] == "skip" and checks[REPLAY]["optional"]


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (
            {"json_booleans"},
            {
                "GET /users: envelope, entity schema, X-Total-Count",
                "GET /enrollments: envelope, entity schema, X-Total-Count",
            },
        ),
        ({"null_members"}, {"GET /users: envelope, entity schema, X-Total-Count"}),
        ({"tombstone_visible"}, {DELETES}),
        ({"delete_purges"}, {DELETES}),
        ({"trailing_slash_404"}, {SLASH}),
        ({"required_ignored"}, {MISSING_FIELD}),
        ({"semester_terms", "terms_parent_typed"}, {TERMS}),
    ],
    ids=lambda v: "+".join(sorted(v)) if isinstance(v, set) and len(v) < 3 else None,
)
def test_the_1_1_binding_points_are_checked(run_cli, faults, expected):
    code, checks = _run(run_cli, faults)
    assert expected <= _failed(checks), _failed(checks)
    assert code == 1
