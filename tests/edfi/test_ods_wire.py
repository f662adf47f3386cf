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


def test_an_optional_string_sent_empty_is_accepted_as_absent(edfi):
    """As the ODS/API (its suite's "Create Staff with optional string empty"); a required one
    sent empty is still refused."""
    staff = {"staffUniqueId": "S-EMPTY", "firstName": "Barry", "lastSurname": "Tanner"}
    staff_id = edfi.create("staffs", {**staff, "middleName": ""})
    assert "middleName" not in edfi.get(f"staffs/{staff_id}").get_json()
    r = edfi.post("staffs", {**staff, "firstName": ""})
    assert r.status_code == 400
    assert "$.firstName" in r.get_json()["validationErrors"]


def _errors(r) -> dict:
    assert r.status_code == 400, r.get_json()
    body = r.get_json()
    assert body["type"] == "urn:ed-fi:api:bad-request:data-validation-failed"
    return body["validationErrors"]


ADDRESS = {
    "addressTypeDescriptor": "uri://ed-fi.org/AddressTypeDescriptor#Home",
    "city": "Grand Bend",
    "postalCode": "78834",
    "stateAbbreviationDescriptor": "uri://ed-fi.org/StateAbbreviationDescriptor#TX",
    "streetNumberName": "980 Green New Boulevard",
}


def _seoa(**address) -> dict:
    item = {k: v for k, v in {**ADDRESS, **address}.items() if v is not None}
    return {
        "educationOrganizationReference": {"educationOrganizationId": 255901},
        "studentReference": {"studentUniqueId": "604824"},
        "addresses": [item],
    }


def test_validation_messages_word_as_the_ods(edfi):
    """The ODS/API suite's data validation scenarios: property names capitalized, a partial
    reference named with the properties it lacks, no spaces around identifying values, no
    default value for an identifying number."""
    course_offering = {
        "schoolReference": {"schoolId": 255901001},
        "sessionReference": {
            "schoolId": 255901001,
            "schoolYear": 2022,
            "sessionName": "2021-2022 Fall Semester",
        },
        "localCourseCode": "ALG-1",
    }
    assert _errors(edfi.post("courseOfferings", course_offering)) == {
        "$.courseReference": ["CourseReference is required."]
    }
    assert _errors(edfi.post("studentEducationOrganizationAssociations", _seoa(city=None))) == {
        "$.addresses[0].city": ["City is required."]
    }
    section = {
        "sectionIdentifier": "S-1",
        "courseOfferingReference": {"localCourseCode": "ALG-1", "sessionName": "Fall"},
    }
    assert _errors(edfi.post("sections", section))["$.courseOfferingReference"] == [
        "CourseOfferingReference is missing the following properties: SchoolId, SchoolYear"
    ]
    spaced = _seoa(city="Somewhere ")
    assert _errors(edfi.post("studentEducationOrganizationAssociations", spaced)) == {
        "$.addresses[0].city": ["City cannot contain leading or trailing spaces."]
    }
    staff = {"staffUniqueId": " S1", "firstName": "Ann", "lastSurname": "Lee"}
    assert _errors(edfi.post("staffs", staff)) == {
        "$.staffUniqueId": ["StaffUniqueId cannot contain leading or trailing spaces."]
    }
    lea = {
        "localEducationAgencyId": 0,
        "nameOfInstitution": "LEA-100001",
        "localEducationAgencyCategoryDescriptor": (
            "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent"
        ),
        "categories": [
            {
                "educationOrganizationCategoryDescriptor": (
                    "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"
                )
            }
        ],
    }
    assert _errors(edfi.post("localEducationAgencies", lea)) == {
        "$.localEducationAgencyId": ["LocalEducationAgencyId value must be different than 0."]
    }
    # spaces inside a non-identifying value are the client's business
    ok = edfi.post("studentEducationOrganizationAssociations", _seoa(nameOfCounty=" X "))
    assert ok.status_code != 400 or "$.addresses[0].nameOfCounty" not in _errors(ok)


DEPENDED = "The requested action cannot be performed because this item is referenced by an existing"


def _delete_used_descriptor(edfi, resource: str, code_value: str) -> dict:
    """DELETE the descriptor value a record's collection item uses: 409 dependent-item-exists,
    its problem details."""
    descriptor = edfi.get(resource, query_string={"codeValue": code_value}).get_json()[0]
    return problem(
        edfi.delete(resource, descriptor["id"]), 409, "data-conflict:dependent-item-exists"
    )


def test_dependent_items_are_named_as_the_ods(edfi, district):
    ids = district()
    edfi.create("students", student("720001"))
    edfi.create("studentSchoolAssociations", enrollment("720001", 255901001))
    student_id = edfi.get("students", query_string={"studentUniqueId": "720001"}).get_json()[0]
    body = problem(
        edfi.delete("students", student_id["id"]), 409, "data-conflict:dependent-item-exists"
    )
    assert body["detail"] == f"{DEPENDED} 'StudentSchoolAssociation' item."
    # a descriptor used inside a collection item of a course
    system = "uri://ed-fi.org/CourseIdentificationSystemDescriptor#LEA course code"
    edfi.create(
        "courses",
        {
            "courseCode": "ALG-1",
            "courseTitle": "Algebra I",
            "numberOfParts": 1,
            "educationOrganizationReference": {"educationOrganizationId": 255901},
            "identificationCodes": [
                {"identificationCode": "ALG-1", "courseIdentificationSystemDescriptor": system}
            ],
        },
    )
    body = _delete_used_descriptor(edfi, "courseIdentificationSystemDescriptors", "LEA course code")
    assert body["detail"] == (
        f"{DEPENDED} 'CourseIdentificationCode' item contained within an 'Course' resource item."
    )
    assert ids


def test_a_dependent_inherited_collection_item_is_named_by_its_base_as_the_ods(edfi, district):
    """A collection every education organization inherits (educationOrganizationCategories,
    `categories` on an LEA) is the base entity's: the ODS names the base item and lists every
    resource type carrying it (the suite's EducationOrganizationCategoryDescriptor case)."""
    district()
    body = _delete_used_descriptor(edfi, "educationOrganizationCategoryDescriptors", "School")
    assert body["detail"] == (
        f"{DEPENDED} 'EducationOrganizationCategory' item contained within a resource item of one "
        "of the following types: CommunityOrganization, CommunityProvider, "
        "EducationOrganizationNetwork, EducationServiceCenter, LocalEducationAgency, "
        "OrganizationDepartment, PostSecondaryInstitution, School, StateEducationAgency."
    )


def test_a_number_with_a_fraction_where_an_integer_is_expected_is_worded_as_the_ods(edfi):
    body = school(1, 255901)
    body["schoolId"] = 225.756
    assert _errors(edfi.post("schools", body))["$.schoolId"] == [
        "Input string '225.756' is not a valid integer."
    ]
    body["schoolId"] = "twelve"
    assert _errors(edfi.post("schools", body))["$.schoolId"] == [
        "Input string 'twelve' is not a valid integer."
    ]


def test_more_refusals_word_as_the_ods(edfi, district):
    """The ODS/API ResponseTests: an id in a POST body, a malformed id on DELETE, conflicting
    values of a key two references share, and the hint of a relationship refusal."""
    district()
    body = {**student("720031"), "id": "0123456789abcdef0123456789abcdef"}
    refused = problem(edfi.post("students", body), 400, "bad-request:data-validation-failed")
    assert refused["detail"] == "The request data was constructed incorrectly."
    assert refused["errors"] == [
        "Resource identifiers cannot be assigned by the client. The 'id' property should not be "
        "included in the request body."
    ]
    refused = problem(
        edfi.client.delete(f"{DATA}/students/6e1-926d71634a549a3", headers=edfi.headers),
        400,
        "bad-request:data-validation-failed",
    )
    assert refused["validationErrors"] == {
        "$.id": ["The value '6e1-926d71634a549a3' is not valid."]
    }
    grade = {
        "gradingPeriodReference": {
            "gradingPeriodDescriptor": "uri://ed-fi.org/GradingPeriodDescriptor#First Six Weeks",
            "periodSequence": 1,
            "schoolId": 777,
            "schoolYear": 2011,
            "gradingPeriodName": "Exam 1",
        },
        "studentSectionAssociationReference": {
            "beginDate": "2010-08-23",
            "localCourseCode": "ALG-1",
            "schoolId": 888,
            "schoolYear": 2011,
            "sectionIdentifier": "S-1",
            "sessionName": "Fall",
            "studentUniqueId": "604822",
        },
        "gradeTypeDescriptor": "uri://ed-fi.org/GradeTypeDescriptor#Grading Period",
    }
    conflict = (
        "All values supplied for 'schoolId' must match. Review all references and align the "
        "following conflicting values: '777', '888'"
    )
    assert _errors(edfi.post("grades", grade)) == {
        "$.gradingPeriodReference.schoolId": [conflict],
        "$.studentSectionAssociationReference.schoolId": [conflict],
    }


def test_a_relationship_refusal_hint_is_prefixed_as_the_ods(edfi, district, auth_headers):
    from tests.edfi.conftest import EdFi

    district()
    sid = edfi.create("students", student("720032"))
    lea1 = EdFi(edfi.client, auth_headers(edorgs=("255901",), name="lea1"))
    refused = problem(lea1.get(f"students/{sid}"), 403, "security:authorization")
    assert refused["detail"] == (
        "Access to the requested data could not be authorized. Hint: You may need to create a "
        "corresponding 'StudentSchoolAssociation' item."
    )


def test_lengths_key_changes_and_page_tokens_word_as_the_ods(edfi, district):
    ids = district()
    too_long = _seoa(city="C" * 31)
    assert _errors(edfi.post("studentEducationOrganizationAssociations", too_long)) == {
        "$.addresses[0].city": ["City must be between 2 and 30 characters in length."]
    }
    staff = {"staffUniqueId": "S" * 33, "firstName": "Ann", "lastSurname": "Lee"}
    assert _errors(edfi.post("staffs", staff)) == {
        "$.staffUniqueId": ["StaffUniqueId must be at most 32 characters in length."]
    }
    sid = edfi.create("students", student("720041"))
    refused = problem(
        edfi.put("students", sid, student("720042")),
        400,
        "bad-request:data-validation-failed:key-change-not-supported",
    )
    assert refused["detail"] == (
        "Identifying values for the Student data cannot be changed. Delete and recreate the item "
        "instead."
    )
    refused = problem(
        edfi.get("schools", query_string={"pageToken": "DefinitelyNotValid", "pageSize": 2}),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert refused["detail"] == "The request construction was invalid."
    assert refused["errors"] == ["The page token provided was invalid."]
    assert ids


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


def test_duplicate_collection_items_are_refused_as_the_ods_words_it(edfi, district):
    """Two items with the same identifying values are one item given twice (the ODS/API's suite:
    "Create School with duplicates"), at any depth; the same values in another letter case too."""
    district()
    body = {
        **school(255901778, 255901),
        "gradeLevels": [
            {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"},
            {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade"},
            {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#NINTH GRADE"},
        ],
    }
    errors = problem(edfi.post("schools", body), 400, "bad-request:data-validation-failed")[
        "validationErrors"
    ]
    assert errors == {
        "$.gradeLevels": [
            "The 3rd item of the SchoolGradeLevels has the same identifying values as another "
            "item earlier in the list."
        ]
    }
    edfi.create("students", student("720001"))
    period = {"beginDate": "2020-02-20", "endDate": "2020-03-20"}
    association = {
        "educationOrganizationReference": {"educationOrganizationId": 255901},
        "studentReference": {"studentUniqueId": "720001"},
        "addresses": [
            {
                "addressTypeDescriptor": "uri://ed-fi.org/AddressTypeDescriptor#Home",
                "city": "Grand Bend",
                "postalCode": "78834",
                "stateAbbreviationDescriptor": "uri://ed-fi.org/StateAbbreviationDescriptor#TX",
                "streetNumberName": "980 Green New Boulevard",
                "periods": [period, period],
            }
        ],
    }
    errors = problem(
        edfi.post("studentEducationOrganizationAssociations", association),
        400,
        "bad-request:data-validation-failed",
    )["validationErrors"]
    assert errors["$.addresses[0].periods"] == [
        "The 2nd item of the StudentEducationOrganizationAssociationAddressPeriods has the same "
        "identifying values as another item earlier in the list."
    ]
    association["addresses"][0]["periods"] = [period, {**period, "beginDate": "2020-04-01"}]
    assert edfi.post("studentEducationOrganizationAssociations", association).status_code == 201


def test_an_empty_date_is_a_value_the_ods_cannot_convert(edfi, district):
    """The ODS/API's suite (academicWeeks "BeginDate is required validation"): a date sent as ""
    is 'The supplied value is invalid.', required or not; an empty required text keeps its own
    words."""
    district()
    week = {
        "weekIdentifier": "Week 01",
        "schoolReference": {"schoolId": 255901001},
        "beginDate": "",
        "endDate": "2021-08-27",
        "totalInstructionalDays": "",
    }
    errors = problem(edfi.post("academicWeeks", week), 400, "bad-request:data-validation-failed")
    assert errors["validationErrors"] == {
        "$.beginDate": ["The supplied value is invalid."],
        "$.totalInstructionalDays": ["The supplied value is invalid."],
    }


def test_a_collection_of_many_copies_answers_one_message(edfi, district):
    """A hostile body of 2,000 copies of one item gets one problem for the collection, not 1,999
    (the answer must not grow with the attack)."""
    district()
    body = {
        **school(255901779, 255901),
        "gradeLevels": [
            {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
        ]
        * 2000,
    }
    errors = problem(edfi.post("schools", body), 400, "bad-request:data-validation-failed")[
        "validationErrors"
    ]
    assert errors == {
        "$.gradeLevels": [
            "The 2nd item of the SchoolGradeLevels has the same identifying values as another "
            "item earlier in the list."
        ]
    }


def test_a_snapshot_is_not_configured_and_read_only(edfi, district):
    """`Use-Snapshot: true` asks for a snapshot of the ODS; this gateway keeps none, and says so
    as the ODS/API 7.3 does when none is configured; writes to a snapshot are refused."""
    district()
    created = edfi.create("students", student("604821"))
    snap = {"headers": {"Use-Snapshot": "true"}}
    for path in ("students", f"students/{created}", "students/deletes", "students/keyChanges"):
        body = problem(edfi.get(path, **snap), 404, "not-found")
        assert body["title"] == "Not Found"
        assert body["detail"] == "Snapshot not found."
        assert body["errors"] == ["The snapshot connection for the ODS has not been configured."]
    for r in (
        edfi.post("students", student("604822"), **{"Use-Snapshot": "True"}),
        edfi.put("students", created, student("604821"), **{"Use-Snapshot": "true"}),
        edfi.delete("students", created, **{"Use-Snapshot": "true"}),
    ):
        body = problem(r, 405, "snapshots:method-not-allowed")
        assert body["title"] == "Method Not Allowed with Snapshots"
        assert body["detail"] == (
            "An attempt was made to modify data in a Snapshot, but this data is read-only."
        )
    # nothing was written, and without the header (or with false) all is as before
    assert edfi.get("students", headers={"Use-Snapshot": "false"}).status_code == 200
    assert [d["studentUniqueId"] for d in edfi.get("students").get_json()] == ["604821"]


def test_the_dotnet_default_date_is_a_date_not_sent(edfi, district):
    """ "1/1/0001" (.NET's default date, which ODS clients send for "no date") is taken as not
    sent, as the ODS/API takes it: required dates are then "required"."""
    district()
    week = {
        "weekIdentifier": "WEEK-1",
        "schoolReference": {"schoolId": 255901001},
        "beginDate": "1/1/0001",
        "endDate": "0001-01-01",
        "totalInstructionalDays": 5,
    }
    errors = problem(edfi.post("academicWeeks", week), 400, "bad-request:data-validation-failed")
    assert errors["validationErrors"]["$.beginDate"] == ["BeginDate is required."]
    assert errors["validationErrors"]["$.endDate"] == ["EndDate is required."]
    # any other date in that form is still not a date
    week.update(beginDate="8/23/2021", endDate="2021-08-27")
    errors = problem(edfi.post("academicWeeks", week), 400, "bad-request:data-validation-failed")
    assert list(errors["validationErrors"]) == ["$.beginDate"]


def test_a_resources_own_key_property_unifies_with_its_references(edfi, district):
    """chartOfAccounts has its own fiscalYear and references that carry one: all must agree, and
    the conflict is named at every place, as the ODS/API names it (values out of range too)."""
    district()
    account = {
        "accountIdentifier": "Test 4",
        "fiscalYear": 2022,
        "educationOrganizationReference": {"educationOrganizationId": 255901},
        "functionDimensionReference": {"code": "Test 2019", "fiscalYear": 2019},
        "accountTypeDescriptor": "uri://ed-fi.org/AccountTypeDescriptor#Expenditure",
    }
    said = (
        "All values supplied for 'fiscalYear' must match. Review all references and align the "
        "following conflicting values: '2022', '2019'"
    )
    r = edfi.post("chartOfAccounts", account)
    errors = problem(r, 400, "bad-request:data-validation-failed")
    assert said in errors["validationErrors"]["$.fiscalYear"]
    assert said in errors["validationErrors"]["$.functionDimensionReference.fiscalYear"]
    # each place's value is listed, as the ODS/API lists them
    account["balanceSheetDimensionReference"] = {"code": "Test 2019", "fiscalYear": 2019}
    errors = problem(
        edfi.post("chartOfAccounts", account), 400, "bad-request:data-validation-failed"
    )
    assert any(
        "conflicting values: '2022', '2019', '2019'" in e
        for e in errors["validationErrors"]["$.fiscalYear"]
    )
    del account["balanceSheetDimensionReference"]
    # agreeing values are one key
    account["functionDimensionReference"] = {"code": "Test 2022", "fiscalYear": 2022}
    r = edfi.post("chartOfAccounts", account)
    assert r.status_code != 400, r.get_json()


def test_a_missing_required_object_is_named_by_its_type(edfi):
    """The ODS/API names a required embedded object by its type."""
    body = {
        "learningStandardId": "REQUIRED-TEST",
        "description": "Print awareness.",
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
    r = edfi.post("learningStandards", body)
    errors = problem(r, 400, "bad-request:data-validation-failed")
    assert errors["validationErrors"] == {
        "$.contentStandard": ["LearningStandardContentStandard is required."]
    }


def test_trailing_commas_are_read_as_the_ods_reads_them(edfi, district):
    """The ODS/API's JSON reader accepts a comma before a closing brace or bracket (its own suite
    sends one); a comma inside a string stays text, and other malformed JSON is still refused."""
    district()
    text = (
        '{"studentUniqueId": "604899", "birthDate": "2010-09-13", "firstName": "A, B",'
        ' "lastSurname": "Woods ,}", "otherNames": [],}'
    )
    r = edfi.client.post(
        f"{DATA}/students", data=text, headers={**edfi.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.get_json()
    [made] = edfi.get("students", query_string={"studentUniqueId": "604899"}).get_json()
    assert (made["firstName"], made["lastSurname"]) == ("A, B", "Woods ,}")
    for bad in ('{"studentUniqueId": "604898",,}', '{"studentUniqueId": "604898" "x": 1}', "[,]"):
        r = edfi.client.post(
            f"{DATA}/students",
            data=bad,
            headers={**edfi.headers, "Content-Type": "application/json"},
        )
        problem(r, 400, "bad-request:data-validation-failed")


def test_a_collection_items_school_unifies_with_its_parents(edfi, district):
    """A bell schedule's class periods belong to its school: a class period reference naming
    another school is refused at each item, as the ODS/API refuses it, before authorization."""
    district()
    schedule = {
        "schoolReference": {"schoolId": 777},
        "bellScheduleName": "Normal Schedule",
        "classPeriods": [
            {"classPeriodReference": {"schoolId": 888, "classPeriodName": "01"}},
            {"classPeriodReference": {"schoolId": 777, "classPeriodName": "02"}},
            {"classPeriodReference": {"schoolId": 999, "classPeriodName": "03"}},
        ],
    }
    errors = _errors(edfi.post("bellSchedules", schedule))
    said = (
        "All values supplied for 'schoolId' must match. Review all references (including those "
        "higher up in the resource's data) and align the following conflicting values: "
    )
    assert errors["$.classPeriods[0].classPeriodReference.schoolId"] == [said + "'777', '888'"]
    assert errors["$.classPeriods[2].classPeriodReference.schoolId"] == [said + "'777', '999'"]
    assert "$.classPeriods[1].classPeriodReference.schoolId" not in errors
