"""PUT (201 create / 200 replace) and DELETE (204) of lineItems, results and categories."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.oneroster.models import LineItem, Result
from tests.oneroster.factories import BASE


def line_item(**overrides):
    item = {
        "title": "Essay",
        "description": "Persuasive essay",
        "assignDate": "2025-10-01",
        "dueDate": "2025-10-10",
        "class": {"sourcedId": "k1", "type": "class", "href": "x"},
        "category": {"sourcedId": "cat1"},
        "gradingPeriod": {"sourcedId": "gp2"},
        "resultValueMin": 0,
        "resultValueMax": 20,
    }
    item.update(overrides)
    return {"lineItem": item}


def minor(response) -> str:
    return response.get_json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"
    ]


def test_put_creates_then_replaces(roster, client, headers, get):
    created = client.put(BASE + "/lineItems/li9", json=line_item(), headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()["lineItem"]
    assert body["sourcedId"] == "li9" and body["class"]["href"].endswith("/classes/k1")
    assert body["status"] == "active" and body["resultValueMax"] == 20
    # a date-time is accepted for a date field, as some consumers send one
    replaced = client.put(
        BASE + "/lineItems/li9",
        json=line_item(title="Essay v2", description=None, dueDate="2025-10-11T23:59:00Z"),
        headers=headers,
    )
    assert replaced.status_code == 200
    again = get("/lineItems/li9").get_json()["lineItem"]
    assert again["title"] == "Essay v2" and "description" not in again
    assert again["dueDate"] == "2025-10-11"
    assert "li9" in [i["sourcedId"] for i in get("/classes/k1/lineItems").get_json()["lineItems"]]


def test_put_result_and_category(roster, client, headers, db_session):
    result = {
        "result": {
            "lineItem": {"sourcedId": "li1"},
            "student": {"sourcedId": "u-s3"},
            "scoreStatus": "partially graded",
            "score": "12.5",
            "scoreDate": "2025-09-10",
            "comment": "Good start — כל הכבוד",
        }
    }
    assert client.put(BASE + "/results/r9", json=result, headers=headers).status_code == 201
    row = db_session.execute(select(Result).where(Result.sourced_id == "r9")).scalar_one()
    assert row.score == 12.5 and row.origin == "oneroster-rest" and row.comment.endswith("כל הכבוד")
    assert (
        client.put(
            BASE + "/categories/cat1", json={"category": {"title": "HW"}}, headers=headers
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (line_item(**{"class": {"sourcedId": "nope"}}), "unknown class nope"),
        (line_item(category={"sourcedId": "nope"}), "unknown category nope"),
        (line_item(gradingPeriod={"sourcedId": "nope"}), "unknown academicSession nope"),
        (line_item(title=None), "lineItem.title: is required"),
        (line_item(assignDate="10/01/2025"), "assignDate"),
        (line_item(dueDate="2025-10-10garbage"), "dueDate"),
        (line_item(resultValueMin="lots"), "resultValueMin"),
        (line_item(status="gone"), "status: must be one of"),
        (line_item(sourcedId="other"), "differs"),
        ({"lineItem": "not an object"}, "the body must be"),
        ([1, 2], "the body must be"),
    ],
)
def test_put_validation(roster, client, headers, db_session, body, fragment):
    response = client.put(BASE + "/lineItems/li9", json=body, headers=headers)
    assert response.status_code == 400
    assert fragment in response.get_json()["imsx_description"]
    assert minor(response) == "invaliddata"
    assert db_session.execute(select(LineItem).where(LineItem.sourced_id == "li9")).first() is None


@pytest.mark.parametrize("student", ["ghost", "u-t1"])  # a teacher is not a student
def test_put_result_with_unknown_student(roster, client, headers, student):
    result = {
        "result": {
            "lineItem": {"sourcedId": "li1"},
            "student": {"sourcedId": student},
            "scoreStatus": "submitted",
            "score": 1,
            "scoreDate": "2025-09-10",
        }
    }
    response = client.put(BASE + "/results/r9", json=result, headers=headers)
    assert (
        response.status_code == 400
        and f"unknown user {student}" in response.get_json()["imsx_description"]
    )


def test_put_malformed_json(roster, client, headers):
    response = client.put(
        BASE + "/categories/x", data="{nope", content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.get_json()["imsx_codeMajor"] == "failure"


def test_put_outside_reach(roster, client, auth_headers):
    school = auth_headers(edorgs=["s1"])
    # a class of another school cannot be named, and another school's line item cannot be replaced
    assert (
        client.put(
            BASE + "/lineItems/li9",
            json=line_item(**{"class": {"sourcedId": "k4"}}),
            headers=school,
        ).status_code
        == 400
    )
    assert client.put(BASE + "/lineItems/li4", json=line_item(), headers=school).status_code == 403


def test_delete_leaves_a_tombstone(roster, client, headers, get):
    assert client.delete(BASE + "/results/r2", headers=headers).status_code == 204
    get("/results/r2", expect=404)  # gone from plain reads; delta readers see the tombstone
    assert client.delete(BASE + "/results/r2", headers=headers).status_code == 404
    assert client.delete(BASE + "/lineItems/nope", headers=headers).status_code == 404
    delta = get("/results?filter=status%3D'tobedeleted'").get_json()["results"]
    assert [r["sourcedId"] for r in delta] == ["r2"]


def test_delete_outside_reach_is_404(roster, client, auth_headers):
    assert (
        client.delete(BASE + "/lineItems/li4", headers=auth_headers(edorgs=["s1"])).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body",
    [
        line_item(title="nul\x00byte"),
        line_item(resultValueMax="Infinity"),
        line_item(resultValueMin=[1]),
    ],
)
def test_put_rejects_unstorable_values(roster, client, headers, body):
    response = client.put(BASE + "/lineItems/li9", json=body, headers=headers)
    assert response.status_code == 400 and minor(response) == "invaliddata"


def test_put_rejects_unstorable_sourced_id(roster, client, headers):
    response = client.put(
        BASE + "/categories/" + "x" * 300, json={"category": {"title": "T"}}, headers=headers
    )
    assert response.status_code == 400


def test_put_and_delete_signed_with_oauth1(roster, client, make_api_client):
    from tests.oneroster.oauth1_client import Consumer, signed

    consumer = Consumer(*make_api_client(name="gradebook-lms"), signature_method="HMAC-SHA256")
    url = f"http://localhost{BASE}/categories/cat7"
    signed_url, signed_headers, _ = signed(consumer, "PUT", url)
    response = client.put(signed_url, json={"category": {"title": "Labs"}}, headers=signed_headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    signed_url, signed_headers, _ = signed(consumer, "DELETE", url)
    assert client.delete(signed_url, headers=signed_headers).status_code == 204


def test_put_without_json_is_4xx_in_imsx(roster, client, headers):
    response = client.put(
        BASE + "/categories/x",
        data="title=Quiz",
        headers=headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert 400 <= response.status_code < 500
    assert response.get_json()["imsx_codeMajor"] == "failure"


def test_gradebook_writes_are_audited_refused_ones_too(roster, client, headers, audit_rows):
    put = client.put(
        BASE + "/lineItems/li-audit",
        json=line_item(),
        headers={**headers, "X-Correlation-Id": "gb-put-audit"},
    )
    assert put.status_code == 201
    [row] = audit_rows("gb-put-audit")
    assert (row["action"], row["method"], row["status"]) == ("create", "PUT", 201)
    assert row["record_ids"] == ["li-audit"]
    again = client.put(
        BASE + "/lineItems/li-audit",
        json=line_item(title="v2"),
        headers={**headers, "X-Correlation-Id": "gb-replace-audit"},
    )
    assert again.status_code == 200
    assert [r["action"] for r in audit_rows("gb-replace-audit")] == ["update"]
    gone = client.delete(
        BASE + "/lineItems/li-audit", headers={**headers, "X-Correlation-Id": "gb-delete-audit"}
    )
    assert gone.status_code == 204
    assert [(r["action"], r["status"]) for r in audit_rows("gb-delete-audit")] == [("delete", 204)]
    # refused: a reference to a class that does not exist (400), rolled back, still audited
    bad = client.put(
        BASE + "/lineItems/li-bad",
        json=line_item(**{"class": {"sourcedId": "no-such-class"}}),
        headers={**headers, "X-Correlation-Id": "gb-bad-audit"},
    )
    assert bad.status_code == 400
    assert [(r["method"], r["status"]) for r in audit_rows("gb-bad-audit")] == [("PUT", 400)]


def test_a_limited_client_changes_only_the_shared_records_no_other_organization_uses(
    roster, client, auth_headers, get
):
    """Issue 14, finding 5: categories are shared; one district may not rename or remove what
    another district's lineItems use (cat1: lineItems of d1 and d2; cat2: of d1 only)."""
    scopes = [
        "https://purl.imsglobal.org/spec/or/v1p1/scope/gradebook.createput",
        "https://purl.imsglobal.org/spec/or/v1p1/scope/gradebook.delete",
    ]
    d1, d2 = (
        auth_headers(edorgs=("d1",), scopes=scopes),
        auth_headers(edorgs=("d2",), scopes=scopes),
    )
    body = {"category": {"title": "Renamed"}}
    for headers, sid in ((d2, "cat1"), (d2, "cat2"), (d1, "cat1")):
        r = client.put(f"{BASE}/categories/{sid}", json=body, headers=headers)
        assert r.status_code == 403, (sid, r.get_json())
        assert minor(r) == "forbidden"
        r = client.delete(f"{BASE}/categories/{sid}", headers=headers)
        assert r.status_code == 403, (sid, r.get_json())
    assert get("/categories/cat1").get_json()["category"]["title"] == "Homework"
    assert get("/categories/cat2").get_json()["category"]["status"] == "active"
    # a new shared record, and one only its own organizations use, are the client's to write
    assert client.put(f"{BASE}/categories/cat9", json=body, headers=d2).status_code == 201
    assert client.put(f"{BASE}/categories/cat9", json=body, headers=d2).status_code == 200
    assert client.put(f"{BASE}/categories/cat2", json=body, headers=d1).status_code == 200
    assert client.delete(f"{BASE}/categories/cat9", headers=d2).status_code == 204
    # a client that reaches every organization writes any of them
    everywhere = auth_headers(scopes=scopes)
    assert client.put(f"{BASE}/categories/cat1", json=body, headers=everywhere).status_code == 200
