"""The OneRoster 1.1 JSON binding as consumers read it (issue 17, points 1 and 8): booleans as
the strings "true"/"false", optional fields omitted (never null), the binding's imsx codeMinor
values, no length limits the binding does not set, every 400 naming its field, trailing slashes,
and gradebook deletions seen only by delta readers."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.oneroster.factories import BASE
from tests.oneroster.test_gradebook import line_item


def minors(response) -> dict[str, str]:
    fields = response.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"]
    return {f["imsx_codeMinorFieldName"]: f["imsx_codeMinorFieldValue"] for f in fields}


def test_booleans_are_the_strings_true_and_false(roster, get):
    users = get("/users").get_json()["users"]
    assert {u["enabledUser"] for u in users} == {"true"}
    enrollments = get("/enrollments").get_json()["enrollments"]
    assert {e["primary"] for e in enrollments} == {"true", "false"}
    demographics = get("/demographics").get_json()["demographics"]
    flags = [v for d in demographics for k, v in d.items() if k in ("white", "asian")]
    assert flags and set(flags) <= {"true", "false"}
    one = get("/enrollments/" + enrollments[0]["sourcedId"]).get_json()["enrollment"]
    assert one["primary"] in ("true", "false")


def test_boolean_filters_accept_both_forms(roster, get):
    for value in ("true", "TRUE", "1"):
        found = get("/enrollments?filter=" + quote(f"primary='{value}'")).get_json()
        assert {e["primary"] for e in found["enrollments"]} == {"true"}


def test_gradebook_writes_come_back_without_null_members(roster, client, headers, get):
    assert client.put(BASE + "/lineItems/li9", json=line_item(), headers=headers).status_code == 201
    for body in (
        get("/lineItems/li9").get_json()["lineItem"],
        *get("/lineItems").get_json()["lineItems"],
    ):
        assert None not in body.values(), body
    assert "metadata" not in get("/lineItems/li9").get_json()["lineItem"]
    with_metadata = line_item(metadata={"color": "red"})
    client.put(BASE + "/lineItems/li9", json=with_metadata, headers=headers)
    assert get("/lineItems/li9").get_json()["lineItem"]["metadata"] == {"color": "red"}


def test_a_long_line_item_title_is_accepted(roster, client, headers, get):
    title = "Unit 3 — " + "long assignment title " * 30  # far over 100 and 255 characters
    response = client.put(BASE + "/lineItems/li9", json=line_item(title=title), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert get("/lineItems/li9").get_json()["lineItem"]["title"] == title


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (line_item(title=None), "lineItem.title"),
        (line_item(gradingPeriod=None), "lineItem.gradingPeriod"),
        (line_item(resultValueMax=None), "lineItem.resultValueMax"),
        (line_item(assignDate="10/01/2025"), "lineItem.assignDate"),
        (line_item(category={"sourcedId": "nope"}), "lineItem.category"),
    ],
)
def test_every_400_names_the_field_in_the_imsx_envelope(roster, client, headers, body, field):
    response = client.put(BASE + "/lineItems/li9", json=body, headers=headers)
    assert response.status_code == 400
    payload = response.get_json()
    assert set(payload) == {"imsx_codeMajor", "imsx_severity", "imsx_description", "imsx_CodeMinor"}
    assert field in payload["imsx_description"]
    assert minors(response) == {"TargetEndSystem": "invaliddata", field: "invaliddata"}


@pytest.mark.parametrize(
    ("query", "field", "minor"),
    [
        ("limit=zero", "limit", "invaliddata"),
        ("offset=-1", "offset", "invaliddata"),
        ("filter=" + quote("nosuch='x'"), "filter", "invalid_filter_field"),
        ("fields=,", "fields", "invalid_blank_selection_field"),
    ],
)
def test_query_errors_name_the_parameter(roster, get, query, field, minor):
    response = get("/users?" + query, expect=400)
    assert minors(response) == {"TargetEndSystem": minor, field: minor}


def test_unknown_object_is_the_binding_value(roster, get):
    assert minors(get("/users/nobody", expect=404)) == {"TargetEndSystem": "unknownobject"}


@pytest.mark.parametrize("path", ["/courses/", "/courses/c1/", "/classes/k1/students/", "/terms/"])
def test_trailing_slashes_are_tolerated(roster, get, path):
    assert get(path).status_code == 200


def test_terms_nested_paths_accept_any_session_a_class_names(roster, client, headers, get):
    # k3 names two terms; make one of them a semester, as Ed-Fi-born sessions were
    from sqlalchemy import update

    from gateway.oneroster.models import AcademicSession

    roster.execute(
        update(AcademicSession).where(AcademicSession.sourced_id == "t2").values(type="semester")
    )
    roster.commit()
    classes = get("/terms/t2/classes").get_json()["classes"]
    assert {c["sourcedId"] for c in classes} == {"k2", "k3"}
    assert get("/terms/t2/gradingPeriods").get_json()["academicSessions"] == [
        s for s in get("/gradingPeriods").get_json()["academicSessions"] if s["sourcedId"] == "gp3"
    ]
    assert get("/terms/nosuch/classes", expect=404).status_code == 404


@pytest.mark.parametrize(("path", "key", "single"), [
    ("results/r2", "results", "result"),
    ("lineItems/li4", "lineItems", "lineItem"),
    ("categories/cat2", "categories", "category"),
])  # fmt: skip
def test_a_gradebook_delete_is_seen_by_delta_readers_only(
    roster, client, headers, get, path, key, single
):
    before = get(f"/{key}").get_json()[key]
    assert client.delete(f"{BASE}/{path}", headers=headers).status_code == 204
    sourced_id = path.split("/")[1]
    plain = get(f"/{key}")
    assert sourced_id not in [r["sourcedId"] for r in plain.get_json()[key]]
    assert plain.headers["X-Total-Count"] == str(len(before) - 1)
    get(f"/{path}", expect=404)
    delta = get(f"/{key}?filter=" + quote("dateLastModified>'2026-01-01T00:00:00Z'")).get_json()
    tombstone = [r for r in delta[key] if r["sourcedId"] == sourced_id]
    assert [r["status"] for r in tombstone] == ["tobedeleted"]
    deleted = get(f"/{key}?filter=" + quote("status='tobedeleted'")).get_json()[key]
    assert [r["sourcedId"] for r in deleted] == [sourced_id]
    # a PUT of the same sourcedId brings it back
    if single == "category":
        assert (
            client.put(
                f"{BASE}/{path}", json={"category": {"title": "Again"}}, headers=headers
            ).status_code
            == 200
        )
        assert get(f"/{path}").get_json()["category"]["status"] == "active"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{nope", "application/json"), ("title=Quiz", "application/x-www-form-urlencoded")],
)
def test_a_body_that_is_not_json_is_a_400_naming_the_entity(
    roster, client, headers, data, content_type
):
    response = client.put(
        BASE + "/categories/x", data=data, content_type=content_type, headers=headers
    )
    assert response.status_code == 400
    assert minors(response) == {"TargetEndSystem": "invaliddata", "category": "invaliddata"}
