"""Mapping fixtures: the Ed-Fi test helpers (descriptors, an API client) and a small rostered
school written through the Ed-Fi API, so every projection runs in the real write path."""

from __future__ import annotations

import pytest

from tests.edfi import conftest as edfi_suite
from tests.edfi.conftest import GRADE, enrollment, lea, school, session_body, student

# fixtures re-used from the Ed-Fi suite (descriptors committed once, an API client's helpers)
descriptors_loaded = edfi_suite.descriptors_loaded
edfi = edfi_suite.edfi

OR = "/ims/oneroster/v1p1"
ED = "uri://ed-fi.org/"
LEA_ID, SCHOOL_ID = 255901, 255901001
SECTION = {
    "localCourseCode": "ALG-1",
    "schoolId": SCHOOL_ID,
    "schoolYear": 2022,
    "sectionIdentifier": "ALG-1-01",
    "sessionName": "2021-2022 Fall Semester",
}


def bodies() -> list[tuple[str, dict]]:
    """One of everything the mapping table names, in load order."""
    return [
        ("localEducationAgencies", lea(LEA_ID, "Grand Bend ISD")),
        ("schools", school(SCHOOL_ID, LEA_ID, "Grand Bend High School")),
        (
            "students",
            {**student("604822", "Lisa", "Woods"), "middleName": "Ann", "birthCity": "Austin"},
        ),
        ("studentSchoolAssociations", enrollment("604822", SCHOOL_ID)),
        (
            "studentEducationOrganizationAssociations",
            {
                "educationOrganizationReference": {"educationOrganizationId": SCHOOL_ID},
                "studentReference": {"studentUniqueId": "604822"},
                "sexDescriptor": ED + "SexDescriptor#Female",
                "hispanicLatinoEthnicity": False,
                "races": [
                    {"raceDescriptor": ED + "RaceDescriptor#Asian"},
                    {"raceDescriptor": ED + "RaceDescriptor#White"},
                ],
                "electronicMails": [
                    {
                        "electronicMailAddress": "lisa.woods@gbisd.edu",
                        "electronicMailTypeDescriptor": ED
                        + "ElectronicMailTypeDescriptor#Organization",
                    }
                ],
                "loginId": "lwoods",
            },
        ),
        ("staffs", {"staffUniqueId": "207219", "firstName": "Joe", "lastSurname": "Ramirez"}),
        (
            "staffEducationOrganizationAssignmentAssociations",
            {
                "staffReference": {"staffUniqueId": "207219"},
                "educationOrganizationReference": {"educationOrganizationId": SCHOOL_ID},
                "staffClassificationDescriptor": ED + "StaffClassificationDescriptor#Teacher",
                "beginDate": "2021-08-01",
            },
        ),
        ("staffs", {"staffUniqueId": "207220", "firstName": "Ana", "lastSurname": "Díaz"}),
        (
            "staffEducationOrganizationAssignmentAssociations",
            {
                "staffReference": {"staffUniqueId": "207220"},
                "educationOrganizationReference": {"educationOrganizationId": LEA_ID},
                "staffClassificationDescriptor": ED
                + "StaffClassificationDescriptor#Superintendent",
                "beginDate": "2021-07-01",
            },
        ),
        ("contacts", {"contactUniqueId": "C-1", "firstName": "דוד", "lastSurname": "כהן"}),
        (
            "studentContactAssociations",
            {
                "contactReference": {"contactUniqueId": "C-1"},
                "studentReference": {"studentUniqueId": "604822"},
                "relationDescriptor": ED + "RelationDescriptor#Father",
            },
        ),
        ("sessions", session_body(SCHOOL_ID)),
        (
            "courses",
            {
                "courseCode": "ALG-1",
                "educationOrganizationReference": {"educationOrganizationId": LEA_ID},
                "courseTitle": "Algebra I",
                "numberOfParts": 1,
                "identificationCodes": [
                    {
                        "courseIdentificationSystemDescriptor": ED
                        + "CourseIdentificationSystemDescriptor#LEA course code",
                        "identificationCode": "ALG-1",
                    }
                ],
                "offeredGradeLevels": [{"gradeLevelDescriptor": GRADE + "Ninth grade"}],
            },
        ),
        (
            "courseOfferings",
            {
                "localCourseCode": "ALG-1",
                "courseReference": {"courseCode": "ALG-1", "educationOrganizationId": LEA_ID},
                "schoolReference": {"schoolId": SCHOOL_ID},
                "sessionReference": {
                    k: SECTION[k] for k in ("schoolId", "schoolYear", "sessionName")
                },
                "localCourseTitle": "Algebra I (Fall)",
            },
        ),
        (
            "sections",
            {
                "sectionIdentifier": "ALG-1-01",
                "courseOfferingReference": {
                    k: v for k, v in SECTION.items() if k != "sectionIdentifier"
                },
                "sectionName": "Algebra I, period 1",
            },
        ),
        (
            "studentSectionAssociations",
            {
                "studentReference": {"studentUniqueId": "604822"},
                "sectionReference": SECTION,
                "beginDate": "2021-08-23",
            },
        ),
        (
            "staffSectionAssociations",
            {
                "staffReference": {"staffUniqueId": "207219"},
                "sectionReference": SECTION,
                "beginDate": "2021-08-23",
                "classroomPositionDescriptor": ED + "ClassroomPositionDescriptor#Teacher of Record",
            },
        ),
        (
            "gradebookEntries",
            {
                "gradebookEntryIdentifier": "HW-1",
                "namespace": "uri://gbisd.edu",
                "sourceSectionIdentifier": "ALG-1-01",
                "sectionReference": SECTION,
                "title": "Homework 1",
                "dateAssigned": "2021-09-01",
                "gradebookEntryTypeDescriptor": ED + "GradebookEntryTypeDescriptor#Homework",
                "maxPoints": 10,
            },
        ),
        (
            "studentGradebookEntries",
            {
                "gradebookEntryReference": {
                    "gradebookEntryIdentifier": "HW-1",
                    "namespace": "uri://gbisd.edu",
                },
                "studentReference": {"studentUniqueId": "604822"},
                "numericGradeEarned": 9,
                "dateFulfilled": "2021-09-05",
            },
        ),
    ]


@pytest.fixture
def rostered(edfi) -> dict[str, str]:
    """Writes bodies() through the Ed-Fi API; resource → id of its last record."""
    ids = {}
    for resource, body in bodies():
        ids[resource] = edfi.create(resource, body)
    return ids


@pytest.fixture
def oneroster(client, auth_headers):
    headers = auth_headers()

    def get(path: str, **kwargs):
        r = client.get(f"{OR}{path}", headers=headers, **kwargs)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    return get
