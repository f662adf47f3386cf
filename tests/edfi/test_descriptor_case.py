"""Descriptor values are matched case-insensitively, as the Ed-Fi ODS/API matches them, and stored
as the descriptor's own spelling: what a client reads back, and what key comparisons see."""

from __future__ import annotations

from tests.edfi.conftest import GRADE, LEA_CATEGORY, lea, school
from tests.edfi.test_resources import problem

TEACHER = "uri://ed-fi.org/StaffClassificationDescriptor#Teacher"


def test_descriptor_values_in_another_case_are_accepted_and_stored_canonical(edfi):
    body = lea(255901)
    body["localEducationAgencyCategoryDescriptor"] = LEA_CATEGORY.lower()
    edfi.create("localEducationAgencies", body)
    sent = school(255901001, 255901)
    sent["gradeLevels"] = [{"gradeLevelDescriptor": (GRADE + "Ninth grade").upper()}]
    school_id = edfi.create("schools", sent)
    stored = edfi.get(f"schools/{school_id}").get_json()
    assert stored["gradeLevels"] == [{"gradeLevelDescriptor": GRADE + "Ninth grade"}]
    read = edfi.get("localEducationAgencies", query_string={"localEducationAgencyId": 255901})
    assert read.get_json()[0]["localEducationAgencyCategoryDescriptor"] == LEA_CATEGORY


def test_a_value_of_no_descriptor_in_any_case_is_still_refused(edfi):
    body = lea(255901)
    body["localEducationAgencyCategoryDescriptor"] = LEA_CATEGORY + "x"
    problem(edfi.post("localEducationAgencies", body), 400, "bad-request:data-validation-failed")


def test_a_key_descriptor_in_another_case_is_the_same_key(edfi, district):
    district()
    edfi.create("staffs", {"staffUniqueId": "S1", "firstName": "Ann", "lastSurname": "Lee"})
    assignment = {
        "staffReference": {"staffUniqueId": "S1"},
        "educationOrganizationReference": {"educationOrganizationId": 255901107},
        "staffClassificationDescriptor": TEACHER,
        "beginDate": "2021-08-01",
        "positionTitle": "Teacher",
    }
    row_id = edfi.create("staffEducationOrganizationAssignmentAssociations", assignment)
    changed = {**assignment, "staffClassificationDescriptor": TEACHER.lower()}
    changed["positionTitle"] = "Teacher ABCD"
    r = edfi.put("staffEducationOrganizationAssignmentAssociations", row_id, changed)
    assert r.status_code == 204, r.get_json()
    stored = edfi.get(f"staffEducationOrganizationAssignmentAssociations/{row_id}").get_json()
    assert stored["staffClassificationDescriptor"] == TEACHER
    assert stored["positionTitle"] == "Teacher ABCD"
    # no key change was recorded
    changes = edfi.get("staffEducationOrganizationAssignmentAssociations/keyChanges").get_json()
    assert changes == []
