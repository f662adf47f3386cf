"""POST upsert, GET, PUT, DELETE and their error answers, on several resources."""

from __future__ import annotations

from tests.edfi.conftest import DATA, GRADE, enrollment, school, session_body, student


def problem(r, status: int, type_suffix: str) -> dict:
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["type"] == "urn:ed-fi:api:" + type_suffix
    assert body["status"] == status
    return body


def test_post_is_an_upsert_on_the_natural_key(edfi, district):
    district()
    first = edfi.post("students", student("604821"))
    assert first.status_code == 201
    assert first.headers["Location"].startswith("http://localhost/data/v3/ed-fi/students/")
    etag = first.headers["ETag"]
    again = edfi.post("students", student("604821", first="Lisarae"))
    assert again.status_code == 200
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] != etag
    doc = edfi.get("students/" + first.headers["Location"].rsplit("/", 1)[1]).get_json()
    assert doc["firstName"] == "Lisarae"
    assert doc["_etag"] and doc["_lastModifiedDate"].endswith("Z")


def test_get_by_id_with_etag_and_if_none_match(edfi, district):
    ids = district()
    r = edfi.get(f"schools/{ids[255901001]}")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["id"] == ids[255901001]
    assert doc["schoolId"] == 255901001
    assert doc["localEducationAgencyReference"] == {
        "localEducationAgencyId": 255901,
        "link": {
            "rel": "LocalEducationAgency",
            "href": f"/ed-fi/localEducationAgencies/{ids[255901]}",
        },
    }
    assert doc["gradeLevels"] == [{"gradeLevelDescriptor": GRADE + "Ninth grade"}]
    assert r.headers["ETag"] == f'"{doc["_etag"]}"'
    cached = edfi.get(f"schools/{ids[255901001]}", headers={"If-None-Match": r.headers["ETag"]})
    assert cached.status_code == 304


def test_put_replaces_and_changes_the_etag(edfi, district):
    ids = district()
    body = school(255901001, 255901, "Renamed High")
    r = edfi.put("schools", ids[255901001], body)
    assert r.status_code == 204
    doc = edfi.get(f"schools/{ids[255901001]}").get_json()
    assert doc["nameOfInstitution"] == "Renamed High"
    assert r.headers["ETag"] == f'"{doc["_etag"]}"'


def test_put_never_creates(edfi, district):
    district()
    r = edfi.put("schools", "6f1b8a7e-2a0c-4c38-9d0f-000000000000", school(255901999, 255901))
    problem(r, 404, "not-found")


def test_if_match_with_a_stale_etag_is_412(edfi, district):
    ids = district()
    stale = edfi.get(f"schools/{ids[255901107]}").headers["ETag"]
    assert edfi.put("schools", ids[255901107], school(255901107, 255901, "New")).status_code == 204
    problem(
        edfi.put(
            "schools", ids[255901107], school(255901107, 255901, "Newer"), **{"If-Match": stale}
        ),
        412,
        "optimistic-lock-failed",
    )
    problem(
        edfi.delete("schools", ids[255901107], **{"If-Match": stale}), 412, "optimistic-lock-failed"
    )
    fresh = edfi.get(f"schools/{ids[255901107]}").headers["ETag"]
    assert (
        edfi.put(
            "schools", ids[255901107], school(255901107, 255901, "Newest"), **{"If-Match": fresh}
        ).status_code
        == 204
    )


def test_delete_then_gone_and_dependent_items_block_delete(edfi, district):
    ids = district()
    sid = edfi.create("students", student("604822"))
    edfi.create("studentSchoolAssociations", enrollment("604822", 255901001))
    body = problem(edfi.delete("students", sid), 409, "data-conflict:dependent-item-exists")
    assert "StudentSchoolAssociation" in body["detail"]
    problem(edfi.delete("schools", ids[255901001]), 409, "data-conflict:dependent-item-exists")
    lone = edfi.create("students", student("604899"))
    assert edfi.delete("students", lone).status_code == 204
    problem(edfi.get(f"students/{lone}"), 404, "not-found")


def test_post_with_id_is_rejected(edfi, district):
    district()
    body = {**student("604823"), "id": "abc"}
    problem(edfi.post("students", body), 400, "bad-request:data-validation-failed")


def test_validation_errors_are_keyed_by_json_path(edfi, district):
    district()
    body = {
        "studentUniqueId": "x" * 33,
        "firstName": ["Lisa"],  # a number would be read as text, as the ODS/API reads it
        "birthDate": "2010-13-45",
        "unknownThing": 1,  # ignored, as the ODS/API ignores it
    }
    errors = problem(edfi.post("students", body), 400, "bad-request:data-validation-failed")[
        "validationErrors"
    ]
    assert set(errors) == {
        "$.studentUniqueId",
        "$.firstName",
        "$.birthDate",
        "$.lastSurname",
    }
    nested = enrollment("604824", 255901001)
    nested["schoolReference"] = {"schoolId": "not-a-number"}
    errors = problem(
        edfi.post("studentSchoolAssociations", nested), 400, "bad-request:data-validation-failed"
    )["validationErrors"]
    assert "$.schoolReference.schoolId" in errors


def test_unknown_descriptor_value_is_400(edfi, district):
    district()
    edfi.create("students", student("604825"))
    body = enrollment("604825", 255901001)
    body["entryGradeLevelDescriptor"] = GRADE + "Thirteenth grade"
    errors = problem(
        edfi.post("studentSchoolAssociations", body), 400, "bad-request:data-validation-failed"
    )["validationErrors"]
    assert errors == {
        "$.entryGradeLevelDescriptor": [
            f"GradeLevelDescriptor value '{GRADE}Thirteenth grade' does not exist."
        ]
    }


def test_unresolved_reference_names_the_reference_and_its_keys(edfi, district):
    district()
    r = edfi.post("studentSchoolAssociations", enrollment("999999", 255901001))
    body = problem(r, 409, "data-conflict:unresolved-reference")
    # the ODS/API's detail; the keys are in the validation error of the reference
    assert body["detail"] == "The referenced 'Student' item does not exist."
    assert body["validationErrors"] == {
        "$.studentReference": [
            "The referenced 'Student' item does not exist (studentUniqueId=999999)."
        ]
    }
    # nothing was written
    assert (
        edfi.get("studentSchoolAssociations", query_string={"studentUniqueId": "999999"}).get_json()
        == []
    )


def test_key_change_only_where_the_standard_allows_it(edfi, district):
    ids = district()
    sid = edfi.create("students", student("604826"))
    problem(
        edfi.put("students", sid, student("604827")),
        400,
        "bad-request:data-validation-failed:key-change-not-supported",
    )
    ssa = edfi.create("studentSchoolAssociations", enrollment("604826", 255901001))
    assert (
        edfi.put(
            "studentSchoolAssociations", ssa, enrollment("604826", 255901001, "2021-09-01")
        ).status_code
        == 204
    )
    assert edfi.get(f"studentSchoolAssociations/{ssa}").get_json()["entryDate"] == "2021-09-01"
    assert ids


def test_key_change_onto_an_existing_key_is_a_conflict(edfi, district):
    district()
    edfi.create("students", student("604828"))
    first = edfi.create("studentSchoolAssociations", enrollment("604828", 255901001, "2021-08-23"))
    edfi.create("studentSchoolAssociations", enrollment("604828", 255901001, "2022-01-05"))
    r = edfi.put("studentSchoolAssociations", first, enrollment("604828", 255901001, "2022-01-05"))
    problem(r, 409, "data-conflict:non-unique-identity")
    assert edfi.get(f"studentSchoolAssociations/{first}").get_json()["entryDate"] == "2021-08-23"


def test_session_key_change_cascades_to_course_offerings(edfi, district):
    district()
    sess = edfi.create("sessions", session_body(255901001))
    edfi.create(
        "courses",
        {
            "courseCode": "ALG-1",
            "educationOrganizationReference": {"educationOrganizationId": 255901001},
            "courseTitle": "Algebra I",
            "numberOfParts": 1,
            "identificationCodes": [
                {
                    "courseIdentificationSystemDescriptor": "uri://ed-fi.org/"
                    "CourseIdentificationSystemDescriptor#LEA course code",
                    "identificationCode": "ALG-1",
                }
            ],
        },
    )
    offering = edfi.create(
        "courseOfferings",
        {
            "localCourseCode": "ALG-1",
            "courseReference": {"courseCode": "ALG-1", "educationOrganizationId": 255901001},
            "schoolReference": {"schoolId": 255901001},
            "sessionReference": {
                "schoolId": 255901001,
                "schoolYear": 2022,
                "sessionName": "2021-2022 Fall Semester",
            },
        },
    )
    assert edfi.put("sessions", sess, session_body(255901001, "Fall 2021")).status_code == 204
    doc = edfi.get(f"courseOfferings/{offering}").get_json()
    assert doc["sessionReference"]["sessionName"] == "Fall 2021"
    changes = edfi.get("courseOfferings/keyChanges").get_json()
    assert [c["newKeyValues"]["sessionName"] for c in changes if c["id"] == offering] == [
        "Fall 2021"
    ]


def test_unsupported_media_type_and_bad_json(edfi, district):
    district()
    r = edfi.client.post(
        f"{DATA}/students",
        data="studentUniqueId=1",
        headers={**edfi.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    problem(r, 415, "unsupported-media-type")
    r = edfi.client.post(
        f"{DATA}/students",
        data="{not json",
        headers={**edfi.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.get_json()["type"].startswith("urn:ed-fi:api:bad-request")


def test_routes_match_case_insensitively_and_unknown_resources_404(edfi, district):
    district()
    assert edfi.client.get("/DATA/V3/ED-FI/SCHOOLS", headers=edfi.headers).status_code == 200
    assert len(edfi.get("SCHOOLS").get_json()) == 3
    problem(edfi.get("notAResources"), 404, "not-found")


def test_unicode_names_round_trip(edfi, district):
    district()
    sid = edfi.create("students", student("604830", first="דוד", last="O'Brien-כהן"))
    doc = edfi.get(f"students/{sid}").get_json()
    assert (doc["firstName"], doc["lastSurname"]) == ("דוד", "O'Brien-כהן")


def test_descriptor_resources_are_served(edfi, descriptors_loaded):
    r = edfi.get("gradeLevelDescriptors", query_string={"codeValue": "Ninth grade"})
    assert r.status_code == 200
    [doc] = r.get_json()
    assert doc["namespace"] == "uri://ed-fi.org/GradeLevelDescriptor"
    assert isinstance(doc["gradeLevelDescriptorId"], int)
    assert edfi.get(f"gradeLevelDescriptors/{doc['id']}").get_json()["codeValue"] == "Ninth grade"


def test_values_the_database_cannot_hold_are_400_not_500(edfi, district):
    district()
    # education organization ids are int64 (the DS5 OpenAPI's format): one past is refused
    body = school(2**63, 255901)
    problem(edfi.post("schools", body), 400, "bad-request:data-validation-failed")
    problem(edfi.post("students", student("nul\x00id")), 400, "bad-request:data-validation-failed")
    assert edfi.get("schools", query_string={"schoolId": 2**40}).get_json() == []
    problem(
        edfi.get("schools", query_string={"schoolId": 2**70}),
        400,
        "bad-request:parameter-validation-failed",
    )
    problem(
        edfi.get("students", query_string={"firstName": "a\x00"}),
        400,
        "bad-request:parameter-validation-failed",
    )
    assert len(edfi.get("schools").get_json()) == 3


def test_non_object_bodies_are_rejected(edfi, district):
    district()
    problem(edfi.post("students", [student("1")]), 400, "bad-request:data-validation-failed")
    problem(edfi.post("students", "text"), 400, "bad-request:data-validation-failed")
    problem(
        edfi.post(
            "studentSchoolAssociations", {**enrollment("1", 255901001), "schoolReference": 7}
        ),
        400,
        "bad-request:data-validation-failed",
    )
    problem(
        edfi.post("schools", {**school(255901555, 255901), "gradeLevels": {"x": 1}}),
        400,
        "bad-request:data-validation-failed",
    )
    problem(
        edfi.post("schools", {**school(255901555, 255901), "gradeLevels": [5]}),
        400,
        "bad-request:data-validation-failed",
    )


def test_wrong_verb_for_the_path_is_405(edfi, district):
    ids = district()
    problem(
        edfi.client.post(
            f"{DATA}/schools/{ids[255901001]}", json=school(1, None), headers=edfi.headers
        ),
        405,
        "method-not-allowed",
    )
    problem(
        edfi.client.put(f"{DATA}/schools", json=school(1, None), headers=edfi.headers),
        405,
        "method-not-allowed",
    )
    problem(edfi.client.delete(f"{DATA}/schools", headers=edfi.headers), 405, "method-not-allowed")
    problem(
        edfi.client.delete(f"{DATA}/schools/deletes", headers=edfi.headers),
        405,
        "method-not-allowed",
    )


def test_requests_are_audited_with_record_ids(edfi, district, audit_rows):
    ids = district()
    edfi.get(f"schools/{ids[255901001]}", headers={"X-Correlation-Id": "edfi-audit-test"})
    [row] = audit_rows("edfi-audit-test")
    assert row["action"] == "read"
    assert row["record_ids"] == [ids[255901001]]


def test_a_deleted_descriptor_value_is_refused_at_once(edfi, district):
    district()
    edfi.create("students", student("750001"))
    code = {
        "namespace": "uri://ed-fi.org/GradeLevelDescriptor",
        "codeValue": "Grade X",
        "shortDescription": "X",
    }
    descriptor_id = edfi.create("gradeLevelDescriptors", code)
    body = enrollment("750001", 255901001)
    body["entryGradeLevelDescriptor"] = "uri://ed-fi.org/GradeLevelDescriptor#Grade X"
    assert (
        edfi.post("studentSchoolAssociations", body).status_code == 201
    )  # now remembered as known
    ssa = edfi.get(
        "studentSchoolAssociations", query_string={"studentUniqueId": "750001"}
    ).get_json()[0]
    assert edfi.delete("studentSchoolAssociations", ssa["id"]).status_code == 204
    assert edfi.delete("gradeLevelDescriptors", descriptor_id).status_code == 204
    problem(edfi.post("studentSchoolAssociations", body), 400, "bad-request:data-validation-failed")
