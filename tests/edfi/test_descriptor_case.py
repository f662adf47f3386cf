"""Descriptor values are matched case-insensitively, as the Ed-Fi ODS/API matches them, and stored
as the descriptor's own spelling: what a client reads back, and what key comparisons see."""

from __future__ import annotations

import pytest

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


def test_descriptor_files_spelled_with_acronyms_are_loaded(edfi):
    """The interchange spells `IDEAPartDescriptor` and `CTEProgramServiceDescriptor`, the API
    `ideaPartDescriptors` and `cteProgramServiceDescriptors`: both are the same descriptors, and
    their values (IDEA Part C for special education eligibility) can be used."""
    parts = edfi.get("ideaPartDescriptors").get_json()
    assert sorted(d["codeValue"] for d in parts) == ["IDEA Part B", "IDEA Part C"]
    assert {d["namespace"] for d in parts} == {"uri://ed-fi.org/IDEAPartDescriptor"}
    assert edfi.get("cteProgramServiceDescriptors").get_json() != []


@pytest.mark.as_owner
def test_a_start_loads_the_descriptors_the_deployment_has_no_value_of(app, db_session):
    """An upgrade that reads descriptors an earlier release skipped loads their values at the
    next start; descriptors that have values are left as the operator keeps them."""
    from sqlalchemy import text

    from gateway.edfi.descriptors import seed_reference_data
    from gateway.paths import DESCRIPTORS_DIR

    with app.app_context():
        db_session.execute(
            text(
                "DELETE FROM descriptors WHERE descriptor_name = 'IdeaPartDescriptor' "
                "OR (descriptor_name = 'SexDescriptor' AND code_value = 'Female')"
            )
        )
        assert seed_reference_data(db_session, DESCRIPTORS_DIR) == ["loaded 2 descriptor values"]
        names = db_session.execute(
            text(
                "SELECT descriptor_name, code_value FROM descriptors "
                "WHERE descriptor_name IN ('IdeaPartDescriptor', 'SexDescriptor') ORDER BY 1, 2"
            )
        ).all()
    assert ("IdeaPartDescriptor", "IDEA Part C") in names
    assert ("SexDescriptor", "Female") not in names
    assert ("SexDescriptor", "Male") in names
