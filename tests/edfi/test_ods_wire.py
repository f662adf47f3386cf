"""The Ed-Fi API on the wire as the ODS/API 7.3 answers (issue 15): what its own Postman suite and
clients such as edfi-api-client depend on."""

from __future__ import annotations

import re
import uuid

from tests.edfi.conftest import DATA, enrollment, school, student
from tests.edfi.test_resources import problem

HEX_ID = re.compile(r"[0-9a-f]{32}")


def test_unknown_query_parameters_are_ignored(edfi, district):
    district()
    edfi.create("students", student("604821"))
    r = edfi.get("students", query_string={"correlationId": "abc", "notAProperty": "x"})
    assert r.status_code == 200
    assert [d["studentUniqueId"] for d in r.get_json()] == ["604821"]
    # a known property still filters
    r = edfi.get("students", query_string={"correlationId": "abc", "studentUniqueId": "nobody"})
    assert r.get_json() == []


def test_numbers_sent_as_strings_are_coerced(edfi, district):
    district()
    edfi.create("students", student("604821"))
    body = enrollment("604821", 255901001)
    body["schoolReference"] = {"schoolId": "255901001"}
    r = edfi.post("studentSchoolAssociations", body)
    assert r.status_code == 201, r.get_json()
    [doc] = edfi.get("studentSchoolAssociations").get_json()
    assert doc["schoolReference"]["schoolId"] == 255901001
    # a top-level integer property, and booleans sent as text
    created = edfi.post("schools", {**school(255901999, 255901), "schoolId": "255901999"})
    assert created.status_code == 201, created.get_json()
    # and the reverse: a number where the definition wants text
    assert edfi.post("students", student(604822)).status_code == 201  # type: ignore[arg-type]
    [made] = edfi.get("students", query_string={"studentUniqueId": "604822"}).get_json()
    assert made["studentUniqueId"] == "604822"


def test_a_string_that_is_not_a_number_is_400(edfi, district):
    district()
    body = {**school(255901999, 255901), "schoolId": "twelve"}
    errors = problem(edfi.post("schools", body), 400, "bad-request:data-validation-failed")
    assert "$.schoolId" in errors["validationErrors"]
    assert edfi.get("schools", query_string={"schoolId": 255901999}).get_json() == []


def test_every_non_empty_page_names_the_next_one(edfi, district):
    district()
    for n in range(30):
        edfi.create("students", student(f"7000{n:02d}"))
    # offset paging too (ODS/API 7.3)
    first = edfi.get("students", query_string={"limit": 25})
    assert "Next-Page-Token" in first.headers
    # edfi-api-client: the first request without pageSize, then the tokens until an empty page
    seen, params = [], {}
    for _ in range(10):
        r = edfi.get("students", query_string=params)
        page = r.get_json()
        seen += [d["id"] for d in page]
        if not page:
            assert "Next-Page-Token" not in r.headers
            break
        params = {"pageToken": r.headers["Next-Page-Token"]}
    assert len(seen) == len(set(seen)) == 30


def test_deletes_and_key_changes_honour_total_count(edfi, district):
    district()
    ids = [edfi.create("students", student(f"6048{n:02d}")) for n in range(3)]
    for id_ in ids[:2]:
        assert edfi.delete("students", id_).status_code == 204
    r = edfi.get("students/deletes", query_string={"totalCount": "true", "limit": 1})
    assert r.headers["Total-Count"] == "2"
    assert len(r.get_json()) == 1
    assert "Total-Count" not in edfi.get("students/deletes").headers
    r = edfi.get("students/keyChanges", query_string={"totalCount": "true"})
    assert r.headers["Total-Count"] == "0"


def test_ids_and_links_are_32_hex_characters_and_hyphenated_ids_are_accepted(edfi, district):
    ids = district()
    sid = edfi.create("students", student("604821"))
    assert HEX_ID.fullmatch(sid)
    assert edfi.create("studentSchoolAssociations", enrollment("604821", 255901001))
    [doc] = edfi.get("studentSchoolAssociations").get_json()
    assert HEX_ID.fullmatch(doc["id"])
    assert doc["schoolReference"]["link"]["href"] == f"/ed-fi/schools/{ids[255901001]}"
    assert doc["studentReference"]["link"]["href"] == f"/ed-fi/students/{sid}"
    single = edfi.get(f"studentSchoolAssociations/{doc['id']}").get_json()
    assert single["studentReference"]["link"]["href"] == f"/ed-fi/students/{sid}"
    # hyphenated on input: GET, filter, PUT, DELETE
    hyphenated = str(uuid.UUID(sid))
    got = edfi.get(f"students/{hyphenated}")
    assert got.status_code == 200 and got.get_json()["id"] == sid
    assert [d["id"] for d in edfi.get("students", query_string={"id": hyphenated}).get_json()] == [
        sid
    ]
    body = {**student("604822"), "id": hyphenated}
    body["studentUniqueId"] = "604821"
    assert edfi.put("students", hyphenated, body).status_code == 204
    other = edfi.create("students", student("604823"))
    assert edfi.delete("students", str(uuid.UUID(other))).status_code == 204


def test_the_correlation_id_sent_is_the_problems(edfi):
    r = edfi.client.post(
        f"{DATA}/studentSchoolAssociations?correlationId=abcd-in-querystring",
        json={},
        headers=edfi.headers,
    )
    assert problem(r, 400, "bad-request:data-validation-failed")["correlationId"] == (
        "abcd-in-querystring"
    )
    r = edfi.client.post(
        f"{DATA}/studentSchoolAssociations?correlationId=abcd-in-querystring",
        json={},
        headers={**edfi.headers, "correlation-id": "abcd-in-header"},
    )
    assert r.get_json()["correlationId"] == "abcd-in-header"
    generated = edfi.post("studentSchoolAssociations", {}).get_json()["correlationId"]
    assert generated and generated != "abcd-in-header"


def test_empty_and_malformed_bodies_are_refused_in_ods_words(edfi, district):
    district()
    json_type = {**edfi.headers, "Content-Type": "application/json"}
    for raw in ("", "   "):
        r = edfi.client.post(f"{DATA}/students", data=raw, headers=json_type)
        body = problem(r, 400, "bad-request")
        assert body["detail"] == "The request could not be processed. See 'errors' for details."
        assert body["errors"] == ["A non-empty request body is required."]
    for raw in ("{not json", '{"studentUniqueId": '):
        r = edfi.client.post(f"{DATA}/students", data=raw, headers=json_type)
        body = problem(r, 400, "bad-request:data-validation-failed")
        assert body["detail"] == "Data validation failed. See 'validationErrors' for details."
        assert body["validationErrors"]["$"]
    sid = edfi.create("students", student("604821"))
    r = edfi.client.put(f"{DATA}/students/{sid}", data="", headers=json_type)
    errors = problem(r, 400, "bad-request:data-validation-failed")["validationErrors"]
    assert errors == {"$": ["A non-empty request body is required."]}
    # a malformed id in the route: its own validation error, with or without a body
    r = edfi.client.put(f"{DATA}/students/2", data="", headers=json_type)
    errors = problem(r, 400, "bad-request:data-validation-failed")["validationErrors"]
    assert errors == {
        "$": ["A non-empty request body is required."],
        "$.id": ["The value '2' is not valid."],
    }
    errors = problem(
        edfi.put("students", "2", student("604821")), 400, "bad-request:data-validation-failed"
    )
    assert errors["validationErrors"] == {"$.id": ["The value '2' is not valid."]}
    # and an id filter that is no id
    errors = problem(
        edfi.get("students", query_string={"id": "invalid"}),
        400,
        "bad-request:data-validation-failed",
    )
    assert errors["validationErrors"] == {"$.id": ["The value 'invalid' is not valid for Id."]}


def test_put_answers_with_the_location_and_validation_in_ods_words(edfi, district):
    district()
    sid = edfi.create("students", student("604821"))
    r = edfi.put("students", sid, student("604821", first="Other"))
    assert r.status_code == 204
    assert r.headers["Location"] == f"http://localhost{DATA}/students/{sid}"
    body = {**student("604821"), "lastSurname": "", "birthCountryDescriptor": "00"}
    errors = problem(edfi.put("students", sid, body), 400, "bad-request:data-validation-failed")
    assert errors["validationErrors"] == {
        "$.lastSurname": ["LastSurname is required and should not be left empty."],
        "$.birthCountryDescriptor": [
            "CountryDescriptor value '00' is not a valid value for use as a descriptor (a '#' is "
            "expected to delineate the namespace and code value portions)."
        ],
    }


def test_openapi_integer_ranges_are_enforced_on_coerced_strings_too(edfi, district):
    district()
    body = {**school(255901999, 255901), "schoolId": str(2**63)}
    errors = problem(edfi.post("schools", body), 400, "bad-request:data-validation-failed")
    assert "$.schoolId" in errors["validationErrors"]


def test_options_and_head_on_a_collection_are_405(edfi):
    for method in ("OPTIONS", "HEAD", "PATCH"):
        r = edfi.client.open(f"{DATA}/courses", method=method, headers=edfi.headers)
        assert r.status_code == 405, method
        if method != "HEAD":
            body = problem(r, 405, "method-not-allowed")
            assert body["detail"] == "The request construction was invalid."
            assert body["errors"] == [
                f"The endpoint of the request does not support the '{method}' method."
            ]


def test_problem_details_word_as_the_ods(edfi, district, client):
    district()
    r = edfi.get("courses", query_string={"limit": 501})
    body = problem(r, 400, "bad-request:parameter-validation-failed")
    assert body["detail"] == "The request construction was invalid."
    assert body["errors"] == ["Limit must be a value between 0 and 500."]
    missing = uuid.uuid4().hex
    assert problem(edfi.get(f"students/{missing}"), 404, "not-found")["detail"] == (
        "The specified item could not be found."
    )
    assert problem(edfi.put("students", missing, student("1")), 404, "not-found")["detail"] == (
        "Resource to update was not found."
    )
    assert problem(edfi.delete("students", missing), 404, "not-found")["detail"] == (
        "Resource to delete was not found."
    )
    assert problem(edfi.get("student"), 404, "not-found")["detail"] == (
        "The specified data could not be found."
    )
    sid = edfi.create("students", student("604821"))
    posted = problem(edfi.post(f"students/{sid}", student("604821")), 405, "method-not-allowed")
    assert posted["errors"][0].startswith("Resource items can only be updated using PUT.")
    for method in ("PUT", "DELETE"):
        r = edfi.client.open(f"{DATA}/students/", method=method, json={}, headers=edfi.headers)
        assert problem(r, 405, "method-not-allowed")["errors"][0].startswith(
            "Resource collections cannot be"
        )
    cases = {
        None: "Authorization header is missing.",
        "Basic abc": "Unknown Authorization header scheme.",
        "Bearer ": "Missing Authorization header bearer token value.",
        "Bearer 0301D299-E1A0-4219-A396-22253B134727": "Invalid token",
    }
    for header, reason in cases.items():
        r = client.get(f"{DATA}/courses", headers={"Authorization": header} if header else {})
        body = problem(r, 401, "security:authentication")
        assert body["detail"] == "The caller could not be authenticated."
        assert reason in body["errors"]


def test_token_info_as_the_ods(client, edfi):
    token = edfi.headers["Authorization"].split(" ", 1)[1]
    r = client.post("/oauth/token_info", json={}, headers=edfi.headers)
    assert r.status_code == 400
    assert r.get_json()["type"] == "urn:ed-fi:api:bad-request"
    assert r.get_json()["detail"] == "An invalid token was provided"
    other = "0301D299-E1A0-4219-A396-22253B134727"
    r = client.post(
        "/oauth/token_info", json={"token": other}, headers={"Authorization": f"Bearer {other}"}
    )
    assert r.status_code == 401 and not r.get_data()
    r = client.post("/oauth/token_info", json={"token": other}, headers=edfi.headers)
    assert r.status_code == 400
    assert r.get_json()["detail"] == "The authentication token and the token to inspect must match."
    r = client.post("/oauth/token_info", json={"token": token}, headers=edfi.headers)
    assert r.status_code == 200 and r.get_json()["active"] is True


def test_deletes_limit_and_offset_are_checked_together_in_ods_words(edfi):
    for tail in ("students/deletes", "students/keyChanges"):
        body = problem(
            edfi.get(tail, query_string={"limit": -1, "offset": -1}),
            400,
            "bad-request:parameter-validation-failed",
        )
        assert body["detail"] == "Parameters supplied to the request were invalid."
        assert body["errors"] == [
            "Limit must be omitted or set to a value between 1 and 500.",
            "Offset must be greater than or equal to 0.",
        ]


def test_property_names_are_read_in_any_letter_case(edfi, district):
    district()
    body = {
        "StudentUniqueId": "604830",
        "FIRSTNAME": "Lisa",
        "lastSurname": "Woods",
        "birthDate": "2010-09-13",
    }
    assert edfi.post("students", body).status_code == 201
    [doc] = edfi.get("students", query_string={"studentUniqueId": "604830"}).get_json()
    assert doc["firstName"] == "Lisa"
    enrolment = enrollment("604830", 255901001)
    enrolment["SchoolReference"] = {"SchoolId": "255901001"}
    del enrolment["schoolReference"]
    assert edfi.post("studentSchoolAssociations", enrolment).status_code == 201


def test_properties_the_resource_does_not_have_are_ignored(edfi, district):
    """As the ODS/API: its own suite posts a school with an academicSubjectDescriptor and expects
    201. What the resource does not define is neither stored nor echoed, at any depth."""
    district()
    body = {
        **school(255901777, 255901),
        "academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics",
        "gradeLevels": [
            {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "x": 1}
        ],
    }
    created = edfi.post("schools", body)
    assert created.status_code == 201, created.get_json()
    [stored] = edfi.get("schools", query_string={"schoolId": 255901777}).get_json()
    assert "academicSubjectDescriptor" not in stored
    assert stored["gradeLevels"] == [
        {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
    ]
