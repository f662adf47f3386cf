"""Relationship-based authorization across two LEAs; namespace-based descriptor writes; tokens."""

from __future__ import annotations

import pytest

from tests.edfi.conftest import DATA, EdFi, enrollment, school, session_body, student
from tests.edfi.test_resources import problem


@pytest.fixture
def two_leas(edfi, district, auth_headers):
    ids = district()
    edfi.create("students", student("720001"))
    edfi.create("students", student("720002"))
    ids["ssa1"] = edfi.create("studentSchoolAssociations", enrollment("720001", 255901001))
    ids["ssa2"] = edfi.create("studentSchoolAssociations", enrollment("720002", 255902001))
    ids["s1"] = edfi.get("students", query_string={"studentUniqueId": "720001"}).get_json()[0]["id"]
    ids["s2"] = edfi.get("students", query_string={"studentUniqueId": "720002"}).get_json()[0]["id"]
    lea1 = EdFi(edfi.client, auth_headers(edorgs=("255901",), name="lea1"))
    lea2 = EdFi(edfi.client, auth_headers(edorgs=("255902",), name="lea2"))
    return ids, lea1, lea2


def test_collections_show_only_the_clients_organizations(two_leas):
    _, lea1, lea2 = two_leas
    assert sorted(d["schoolId"] for d in lea1.get("schools").get_json()) == [255901001, 255901107]
    assert [d["schoolId"] for d in lea2.get("schools").get_json()] == [255902001]
    assert [d["studentUniqueId"] for d in lea1.get("students").get_json()] == ["720001"]
    assert [d["studentUniqueId"] for d in lea2.get("students").get_json()] == ["720002"]
    r = lea1.get("students", query_string={"totalCount": "true"})
    assert r.headers["Total-Count"] == "1"


def test_direct_access_outside_reach_is_403(two_leas):
    ids, lea1, _ = two_leas
    problem(lea1.get(f"students/{ids['s2']}"), 403, "security:authorization")
    problem(lea1.get(f"schools/{ids[255902001]}"), 403, "security:authorization")
    problem(
        lea1.put("schools", ids[255902001], school(255902001, 255902, "Mine now")),
        403,
        "security:authorization",
    )
    problem(lea1.delete("studentSchoolAssociations", ids["ssa2"]), 403, "security:authorization")
    assert lea1.get(f"students/{ids['s1']}").status_code == 200


def test_writes_into_another_lea_are_403(two_leas):
    _, lea1, _ = two_leas
    problem(lea1.post("schools", school(255902002, 255902)), 403, "security:authorization")
    problem(
        lea1.post("studentSchoolAssociations", enrollment("720001", 255902001)),
        403,
        "security:authorization",
    )


def test_a_new_student_is_readable_once_associated(two_leas):
    _, lea1, _ = two_leas
    new_id = lea1.create("students", student("720003"))
    problem(lea1.get(f"students/{new_id}"), 403, "security:authorization")
    assert "720003" not in [d["studentUniqueId"] for d in lea1.get("students").get_json()]
    lea1.create("studentSchoolAssociations", enrollment("720003", 255901107))
    assert lea1.get(f"students/{new_id}").status_code == 200


def test_deletes_are_filtered_by_reach(two_leas):
    ids, lea1, lea2 = two_leas
    assert lea2.delete("studentSchoolAssociations", ids["ssa2"]).status_code == 204
    assert [d["id"] for d in lea2.get("studentSchoolAssociations/deletes").get_json()] == [
        ids["ssa2"]
    ]
    assert lea1.get("studentSchoolAssociations/deletes").get_json() == []


def test_descriptor_writes_are_namespace_based(edfi, descriptors_loaded, auth_headers):
    mine = EdFi(
        edfi.client, auth_headers(edorgs=("255901",), namespace="uri://grandbend.edu", name="ns")
    )
    body = {
        "namespace": "uri://grandbend.edu/GradeLevelDescriptor",
        "codeValue": "Grade 13",
        "shortDescription": "Grade 13",
    }
    assert mine.post("gradeLevelDescriptors", body).status_code == 201
    other = {**body, "namespace": "uri://ed-fi.org/GradeLevelDescriptor"}
    problem(mine.post("gradeLevelDescriptors", other), 403, NAMESPACE_MISMATCH)
    # A district-wide client without a namespace prefix reads descriptors but cannot write them.
    no_prefix = EdFi(edfi.client, auth_headers(name="no-namespace"))
    assert no_prefix.get("gradeLevelDescriptors").status_code == 200
    problem(no_prefix.post("gradeLevelDescriptors", other), 403, NAMESPACE_MISMATCH)


def test_tokens_and_scopes(edfi, district, auth_headers):
    district()
    problem(edfi.client.get(f"{DATA}/schools"), 401, "security:authentication")
    problem(
        edfi.client.get(f"{DATA}/schools", headers={"Authorization": "Bearer nope"}),
        401,
        "security:authentication",
    )
    reader = EdFi(edfi.client, auth_headers(scopes=["edfi.read"], name="reader"))
    assert reader.get("schools").status_code == 200
    problem(reader.post("students", student("720009")), 403, "security:authorization")


def test_staff_reach_their_employers_as_in_the_ods(two_leas):
    """As the ODS/API relates staff to organizations: through employment or assignment
    associations. The refusal hints at both, as the ODS words it; a section association alone
    does not relate them (the ODS's relationships do not include it)."""
    _, lea1, lea2 = two_leas
    staff_id = lea1.create(
        "staffs", {"staffUniqueId": "S7", "firstName": "Al", "lastSurname": "Ko"}
    )
    refused = problem(lea1.get(f"staffs/{staff_id}"), 403, "security:authorization")
    assert refused["detail"] == (
        "Access to the requested data could not be authorized. Hint: You may need to create "
        "corresponding 'StaffEducationOrganizationEmploymentAssociation' or "
        "'StaffEducationOrganizationAssignmentAssociation' items."
    )
    lea1.create(
        "staffEducationOrganizationEmploymentAssociations",
        {
            "staffReference": {"staffUniqueId": "S7"},
            "educationOrganizationReference": {"educationOrganizationId": 255901},
            "employmentStatusDescriptor": (
                "uri://ed-fi.org/EmploymentStatusDescriptor#Tenured or permanent"
            ),
            "hireDate": "2020-08-01",
        },
    )
    assert lea1.get(f"staffs/{staff_id}").status_code == 200
    assert [d["staffUniqueId"] for d in lea1.get("staffs").get_json()] == ["S7"]
    problem(lea2.get(f"staffs/{staff_id}"), 403, "security:authorization")
    assert lea2.get("staffs").get_json() == []
    # what is keyed by the staff member follows: a leave of an employed staff member
    leave = {
        "staffReference": {"staffUniqueId": "S7"},
        "staffLeaveEventCategoryDescriptor": (
            "uri://ed-fi.org/StaffLeaveEventCategoryDescriptor#Annual leave"
        ),
        "beginDate": "2021-10-01",
    }
    assert lea1.post("staffLeaves", leave).status_code == 201
    assert lea2.post("staffLeaves", leave).status_code == 403


def test_staff_sections_and_contacts_follow_their_relationships(two_leas):
    ids, lea1, lea2 = two_leas
    staff = {"staffUniqueId": "S1", "firstName": "Ann", "lastSurname": "Lee"}
    staff_id = lea1.create("staffs", staff)
    problem(lea1.get(f"staffs/{staff_id}"), 403, "security:authorization")
    lea1.create(
        "staffEducationOrganizationAssignmentAssociations",
        {
            "staffReference": {"staffUniqueId": "S1"},
            "educationOrganizationReference": {"educationOrganizationId": 255901107},
            "staffClassificationDescriptor": "uri://ed-fi.org/StaffClassificationDescriptor#Teacher",
            "beginDate": "2021-08-01",
        },
    )
    assert lea1.get(f"staffs/{staff_id}").status_code == 200
    problem(lea2.get(f"staffs/{staff_id}"), 403, "security:authorization")
    contact_id = lea1.create(
        "contacts", {"contactUniqueId": "C1", "firstName": "Mo", "lastSurname": "Ng"}
    )
    lea1.create(
        "studentContactAssociations",
        {
            "studentReference": {"studentUniqueId": "720001"},
            "contactReference": {"contactUniqueId": "C1"},
        },
    )
    assert lea1.get(f"contacts/{contact_id}").status_code == 200
    problem(lea2.get(f"contacts/{contact_id}"), 403, "security:authorization")
    assert lea2.get("contacts").get_json() == []
    # a contact association for another LEA's student is out of reach
    problem(
        lea1.post(
            "studentContactAssociations",
            {
                "studentReference": {"studentUniqueId": "720002"},
                "contactReference": {"contactUniqueId": "C1"},
            },
        ),
        403,
        "security:authorization",
    )
    lea2.create("sessions", session_body(255902001))
    assert lea1.get("sessions").get_json() == []
    assert len(lea2.get("sessions").get_json()) == 1


# --- refusals in the ODS/API 7.3's words (its AuthorizationTests collection) ---------------------

NAMESPACE_MISMATCH = "security:authorization:namespace:access-denied:namespace-mismatch"


def test_a_relationship_refusal_names_the_value_and_hints_at_the_missing_associations(two_leas):
    ids, lea1, _ = two_leas
    body = problem(lea1.get(f"students/{ids['s2']}"), 403, "security:authorization")
    assert body["detail"] == (
        "Access to the requested data could not be authorized. Hint: You may need to create a "
        "corresponding 'StudentSchoolAssociation' item."
    )
    assert body["errors"] == [
        "No relationships have been established between the caller's education organization id "
        "claim (255901) and the resource item's 'StudentUniqueId' value."
    ]
    # created (people need no relationship to be created) but not yet related to the client
    contact_id = lea1.create(
        "contacts", {"contactUniqueId": "C9", "firstName": "Mo", "lastSurname": "Ng"}
    )
    changed = {"contactUniqueId": "C9", "firstName": "Mo", "lastSurname": "Ng2"}
    body = problem(lea1.put("contacts", contact_id, changed), 403, "security:authorization")
    assert body["detail"] == (
        "Access to the requested data could not be authorized. Hint: You may need to create "
        "corresponding 'StudentSchoolAssociation' and 'StudentContactAssociation' items."
    )
    assert body["errors"] == [
        "No relationships have been established between the caller's education organization id "
        "claim (255901) and the resource item's 'ContactUniqueId' value."
    ]
    moved = session_body(255902001)
    body = problem(lea1.post("sessions", moved), 403, "security:authorization")
    assert body["detail"] == "Access to the requested data could not be authorized."
    assert body["errors"] == [
        "No relationships have been established between the caller's education organization id "
        "claim (255901) and the resource item's 'SchoolId' value."
    ]


def test_a_namespace_refusal_is_typed_and_worded_as_the_ods(edfi, descriptors_loaded, auth_headers):
    mine = EdFi(
        edfi.client, auth_headers(edorgs=("255901",), namespace="uri://grandbend.edu", name="ns")
    )
    body = {
        "namespace": "uri://ed-fi.org/GradeLevelDescriptor",
        "codeValue": "Not Stored Yet",
        "shortDescription": "Not Stored Yet",
    }
    refused = problem(mine.post("gradeLevelDescriptors", body), 403, NAMESPACE_MISMATCH)
    assert refused["detail"] == (
        "Access to the requested data could not be authorized. The proposed 'Namespace' value of "
        "the data does not start with any of the caller's associated namespace prefixes "
        "('uri://grandbend.edu')."
    )
    assert "errors" not in refused
    stored = edfi.get("gradeLevelDescriptors", query_string={"limit": 1}).get_json()[0]
    refused = problem(mine.delete("gradeLevelDescriptors", stored["id"]), 403, NAMESPACE_MISMATCH)
    assert refused["detail"] == (
        "Access to the requested data could not be authorized. The existing 'Namespace' value of "
        "the data does not start with any of the caller's associated namespace prefixes "
        "('uri://grandbend.edu')."
    )


def test_a_client_of_no_organization_is_refused_naming_none(two_leas, auth_headers, edfi):
    ids, _, _ = two_leas
    nobody = EdFi(edfi.client, auth_headers(name="nobody", all_organizations=False))
    body = problem(nobody.get(f"students/{ids['s1']}"), 403, "security:authorization")
    assert body["errors"] == [
        "No relationships have been established between the caller's education organization id "
        "claims (none) and the resource item's 'StudentUniqueId' value."
    ]


def _discipline_action(identifier: str, student_id: str, responsibility_school: int) -> dict:
    return {
        "disciplineActionIdentifier": identifier,
        "disciplineDate": "2022-02-09",
        "studentReference": {"studentUniqueId": student_id},
        "responsibilitySchoolReference": {"schoolId": responsibility_school},
        "disciplines": [
            {"disciplineDescriptor": "uri://ed-fi.org/DisciplineDescriptor#In School Suspension"}
        ],
        "disciplineActionLength": 987.65,
    }


def test_a_record_naming_a_student_and_a_school_needs_both_related(edfi, two_leas):
    """As the ODS/API's RelationshipsWithEdOrgsAndPeople: every securable element must relate to
    the client. Both students attend a school of each LEA, so the student no longer decides: a
    discipline action is its responsibility school's (the ODS suite's DisciplineAction case)."""
    ids, lea1, lea2 = two_leas
    edfi.create("studentSchoolAssociations", enrollment("720001", 255902001))
    edfi.create("studentSchoolAssociations", enrollment("720002", 255901001))
    ours = edfi.create("disciplineActions", _discipline_action("A-1", "720001", 255901001))
    theirs = edfi.create("disciplineActions", _discipline_action("A-2", "720001", 255902001))
    assert [d["id"] for d in lea1.get("disciplineActions").get_json()] == [ours]
    assert [d["id"] for d in lea2.get("disciplineActions").get_json()] == [theirs]
    problem(lea1.get(f"disciplineActions/{theirs}"), 403, "security:authorization")
    # neither may it update the other's (upsert by key) nor hand its own to the other school
    changed = _discipline_action("A-2", "720001", 255902001) | {"disciplineActionLength": 1.0}
    refused = problem(lea1.post("disciplineActions", changed), 403, "security:authorization")
    assert refused["detail"].endswith(
        "Hint: You may need to create a corresponding 'StudentSchoolAssociation' item."
    )
    assert refused["errors"] == [
        "No relationships have been established between the caller's education organization id "
        "claim (255901) and one or more of the following properties of the resource item: "
        "'ResponsibilitySchoolId', 'StudentUniqueId'."
    ]
    moved = _discipline_action("A-1", "720001", 255902001)
    problem(lea1.post("disciplineActions", moved), 403, "security:authorization")
    # deleted, each is listed to the LEA responsible for it only (the ODS suite's deletes case)
    assert edfi.delete("disciplineActions", ours).status_code == 204
    assert edfi.delete("disciplineActions", theirs).status_code == 204
    assert [d["id"] for d in lea1.get("disciplineActions/deletes").get_json()] == [ours]
    assert [d["id"] for d in lea2.get("disciplineActions/deletes").get_json()] == [theirs]
    edfi.create("disciplineActions", _discipline_action("A-1", "720001", 255901001))
    # a student the LEA does not reach, at its own school: refused too
    edfi.create("students", student("720009"))
    edfi.create("studentSchoolAssociations", enrollment("720009", 255902001))
    problem(
        lea1.post("disciplineActions", _discipline_action("A-3", "720009", 255901001)),
        403,
        "security:authorization",
    )
    # a school association relates its student: the school alone decides there
    assert lea1.post("studentSchoolAssociations", enrollment("720009", 255901107)).status_code in (
        200,
        201,
    )
    assert lea1.post(
        "disciplineActions", _discipline_action("A-3", "720009", 255901001)
    ).status_code in (200, 201)


def test_a_student_the_client_is_responsible_for_relates_where_the_claim_set_says(
    edfi, two_leas, auth_headers
):
    """SIS Vendor reads special education eligibility RelationshipsWithEdOrgsAndPeople or
    RelationshipsWithStudentsOnlyThroughResponsibility (the ODS's metadata, 2150): a student
    enrolled elsewhere relates through a responsibility association."""
    _, _, _ = two_leas
    vendor = EdFi(
        edfi.client, auth_headers(edorgs=("255901",), name="vendor", claim_set="SIS Vendor")
    )
    for school_id in (255901001, 255902001):
        edfi.create(
            "programs",
            {
                "educationOrganizationReference": {"educationOrganizationId": school_id},
                "programName": "Bilingual",
                "programTypeDescriptor": "uri://ed-fi.org/ProgramTypeDescriptor#Bilingual",
            },
        )

    def eligibility(student_id: str, edorg: int) -> dict:
        return {
            "consentToEvaluationReceivedDate": "2023-07-08",
            "educationOrganizationReference": {"educationOrganizationId": edorg},
            "programReference": {
                "educationOrganizationId": edorg,
                "programName": "Bilingual",
                "programTypeDescriptor": "uri://ed-fi.org/ProgramTypeDescriptor#Bilingual",
            },
            "studentReference": {"studentUniqueId": student_id},
            "ideaPartDescriptor": "uri://ed-fi.org/IDEAPartDescriptor#IDEA Part C",
        }

    resource = "studentSpecialEducationProgramEligibilityAssociations"
    own = edfi.create(resource, eligibility("720001", 255901001))
    # at the LEA's school, of a student enrolled only in the other LEA: not related
    other = edfi.create(resource, eligibility("720002", 255901001))
    # recorded by the other LEA's school, of its student
    elsewhere = edfi.create(resource, eligibility("720002", 255902001))
    assert vendor.get(f"{resource}/{own}").status_code == 200
    problem(vendor.get(f"{resource}/{other}"), 403, "security:authorization")
    assert [d["id"] for d in vendor.get(resource).get_json()] == [own]
    # once the LEA's school is responsible for the student, the student relates the record
    edfi.create(
        "studentEducationOrganizationResponsibilityAssociations",
        {
            "educationOrganizationReference": {"educationOrganizationId": 255901001},
            "studentReference": {"studentUniqueId": "720002"},
            "beginDate": "2021-08-23",
            "responsibilityDescriptor": "uri://ed-fi.org/ResponsibilityDescriptor#Residency",
        },
    )
    assert vendor.get(f"{resource}/{other}").status_code == 200
    # the student alone relates it (StudentsOnly): even a record of an organization outside the
    # client's reach, in the application and in the database (rls_0006)
    assert vendor.get(f"{resource}/{elsewhere}").status_code == 200
    assert {d["id"] for d in vendor.get(resource).get_json()} == {own, other, elsewhere}
    # a claim set without that strategy still needs the enrollment (and the organization)
    plain = EdFi(edfi.client, auth_headers(edorgs=("255901",), name="plain"))
    refused = problem(plain.get(f"{resource}/{other}"), 403, "security:authorization")
    # it names both elements and hints at the association that would relate the student
    assert refused["detail"].endswith(
        "Hint: You may need to create a corresponding 'StudentSchoolAssociation' item."
    )
    assert "'EducationOrganizationId', 'StudentUniqueId'" in refused["errors"][0]
    problem(plain.get(f"{resource}/{elsewhere}"), 403, "security:authorization")
