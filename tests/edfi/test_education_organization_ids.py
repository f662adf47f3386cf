"""One educationOrganizationId per education organization, whichever kind (LEA, school) holds it.

Ed-Fi references an education organization by that id alone (educationOrganizationReference), so a
school taking an LEA's id would make every such reference, and its OneRoster org, ambiguous."""

from __future__ import annotations

from sqlalchemy import text

from gateway.edfi.bulk import BulkUpsert
from gateway.edfi.definitions import registry
from tests.edfi.conftest import enrollment, lea, school, student
from tests.edfi.test_resources import problem


def test_a_school_cannot_take_an_leas_id_nor_an_lea_a_schools(edfi, district):
    district()
    body = problem(
        edfi.post("schools", school(255901, None)), 409, "data-conflict:non-unique-identity"
    )
    assert "255901" in body["detail"] and "localEducationAgencies" in body["detail"]
    body = problem(
        edfi.post("localEducationAgencies", lea(255901001)),
        409,
        "data-conflict:non-unique-identity",
    )
    assert "schools" in body["detail"]
    assert edfi.get("schools?schoolId=255901").get_json() == []
    # the organizations that hold the ids are still written as usual
    assert edfi.post("localEducationAgencies", lea(255901, "Renamed ISD")).status_code == 200
    assert edfi.post("schools", school(255901001, 255901, "Renamed")).status_code == 200


def test_bulk_loads_reject_a_taken_id_and_keep_the_rest(edfi, district, db_session):
    district()
    schools = registry().resources["schools"]
    result = BulkUpsert(db_session, registry()).run(
        schools, [school(255902, None), school(255901555, 255901)]
    )
    db_session.commit()
    assert result.created == 1
    assert result.rejected == [
        (
            0,
            "The educationOrganizationId 255902 already identifies an item of "
            "localEducationAgencies; every education organization needs its own.",
        )
    ]
    assert edfi.get("schools?schoolId=255902").get_json() == []
    assert len(edfi.get("schools?schoolId=255901555").get_json()) == 1


def test_an_id_a_oneroster_org_of_another_kind_holds_is_refused(edfi, district, db_session):
    """A district born in a CSV package holds 255977: an Ed-Fi school may not take it, while the
    LEA it is stays writable (a OneRoster district is an Ed-Fi localEducationAgency)."""
    district()
    db_session.execute(
        text(
            "INSERT INTO organizations (sourced_id, name, type, identifier, status,"
            " date_last_modified) VALUES ('csv-born-district', 'CSV ISD', 'district', '255977',"
            " 'active', now())"
        )
    )
    body = problem(
        edfi.post("schools", school(255977, 255901)), 409, "data-conflict:non-unique-identity"
    )
    assert "OneRoster org of type 'district'" in body["detail"]
    assert edfi.get("schools?schoolId=255977").get_json() == []
    assert edfi.post("localEducationAgencies", lea(255977, "CSV ISD")).status_code in (200, 201)


def test_an_education_organization_reference_resolves_to_any_kind(edfi, district):
    """Every kind of education organization DS5 has is served, and an abstract
    educationOrganizationReference resolves to any of them (a course of a state agency), while an
    id no organization holds is still an unresolved reference; no agency may take a school's
    id."""
    district()
    sea = {
        "stateEducationAgencyId": 255950,
        "nameOfInstitution": "Texas Education Agency",
        "categories": [
            {
                "educationOrganizationCategoryDescriptor": "uri://ed-fi.org/"
                "EducationOrganizationCategoryDescriptor#State Education Agency"
            }
        ],
    }
    assert edfi.post("stateEducationAgencies", sea).status_code == 201
    course = {
        "courseCode": "STATE-ALG",
        "educationOrganizationReference": {"educationOrganizationId": 255950},
        "courseTitle": "Algebra I (state)",
        "numberOfParts": 1,
        "identificationCodes": [
            {
                "courseIdentificationSystemDescriptor": "uri://ed-fi.org/"
                "CourseIdentificationSystemDescriptor#State course code",
                "identificationCode": "STATE-ALG",
            }
        ],
    }
    created = edfi.post("courses", course)
    assert created.status_code == 201, created.get_json()
    read = edfi.get(created.headers["Location"].split("/data/v3/ed-fi/", 1)[1]).get_json()
    assert read["educationOrganizationReference"]["link"]["rel"] == "StateEducationAgency"
    missing = {**course, "educationOrganizationReference": {"educationOrganizationId": 255951}}
    problem(edfi.post("courses", missing), 409, "data-conflict:unresolved-reference")
    problem(
        edfi.post("stateEducationAgencies", {**sea, "stateEducationAgencyId": 255901001}),
        409,
        "data-conflict:non-unique-identity",
    )


def test_organization_ids_are_64_bit_as_the_openapi_declares(edfi, district, auth_headers):
    """The ODS/API's own suite posts a school with id 9007199254740991 (JavaScript's largest safe
    integer): it is stored, read by example, enrolled in, and reached by a client limited to it."""
    district()
    big = 9007199254740991
    assert edfi.post("localEducationAgencies", lea(big - 1)).status_code == 201
    made = edfi.post("schools", school(big, big - 1, "School with max edorgId value"))
    assert made.status_code == 201, made.get_json()
    [stored] = edfi.get("schools", query_string={"schoolId": big}).get_json()
    assert stored["localEducationAgencyReference"]["localEducationAgencyId"] == big - 1
    edfi.create("students", {**student("740001")})
    assert edfi.post("studentSchoolAssociations", enrollment("740001", big)).status_code == 201
    mine = edfi.with_headers(auth_headers(edorgs=(str(big),), name="big school"))
    assert [d["schoolId"] for d in mine.get("schools").get_json()] == [big]
    assert [
        d["studentReference"]["studentUniqueId"]
        for d in mine.get("studentSchoolAssociations").get_json()
    ] == ["740001"]
