"""Ed-Fi writes are readable through OneRoster REST at once: each row of the mapping table."""

from __future__ import annotations

from gateway.mapping.identifiers import sourced_id
from tests.mapping.conftest import LEA_ID, SCHOOL_ID, SECTION

ORG = sourced_id("educationOrganizations", {"educationOrganizationId": SCHOOL_ID})
DISTRICT = sourced_id("educationOrganizations", {"educationOrganizationId": LEA_ID})
STUDENT = sourced_id("students", {"studentUniqueId": "604822"})
TEACHER = sourced_id("staffs", {"staffUniqueId": "207219"})
CONTACT = sourced_id("contacts", {"contactUniqueId": "C-1"})
SESSION = sourced_id("sessions", {k: SECTION[k] for k in ("schoolId", "schoolYear", "sessionName")})
CLASS = sourced_id("sections", SECTION)


def test_orgs(rostered, oneroster):
    district = oneroster(f"/orgs/{DISTRICT}")["org"]
    assert (district["name"], district["type"], district["identifier"]) == (
        "Grand Bend ISD",
        "district",
        "255901",
    )
    school = oneroster(f"/schools/{ORG}")["org"]
    assert (school["type"], school["identifier"]) == ("school", str(SCHOOL_ID))
    assert school["parent"]["sourcedId"] == DISTRICT
    assert [c["sourcedId"] for c in district["children"]] == [ORG]


def test_student_user_and_demographics(rostered, oneroster):
    user = oneroster(f"/students/{STUDENT}")["user"]
    assert user["role"] == "student"
    assert (user["givenName"], user["middleName"], user["familyName"]) == ("Lisa", "Ann", "Woods")
    assert user["identifier"] == "604822"
    assert user["username"] == "lwoods"
    assert user["email"] == "lisa.woods@gbisd.edu"
    assert user["grades"] == ["09"]
    assert [o["sourcedId"] for o in user["orgs"]] == [ORG]
    assert [a["sourcedId"] for a in user["agents"]] == [CONTACT]
    demo = oneroster(f"/demographics/{STUDENT}")["demographics"]
    assert demo["birthDate"] == "2010-09-13" and demo["sex"] == "female"
    assert (
        demo["asian"] == "true"
        and demo["white"] == "true"
        and demo["blackOrAfricanAmerican"] == "false"
    )
    assert demo["demographicRaceTwoOrMoreRaces"] == "true"
    assert demo["hispanicOrLatinoEthnicity"] == "false"
    assert demo["cityOfBirth"] == "Austin"


def test_staff_roles_and_contact(rostered, oneroster):
    teacher = oneroster(f"/teachers/{TEACHER}")["user"]
    assert teacher["role"] == "teacher" and [o["sourcedId"] for o in teacher["orgs"]] == [ORG]
    superintendent = oneroster(f"/users/{sourced_id('staffs', {'staffUniqueId': '207220'})}")[
        "user"
    ]
    assert superintendent["role"] == "administrator"
    assert [o["sourcedId"] for o in superintendent["orgs"]] == [DISTRICT]
    parent = oneroster(f"/users/{CONTACT}")["user"]
    assert (parent["role"], parent["givenName"], parent["familyName"]) == ("parent", "דוד", "כהן")
    assert [a["sourcedId"] for a in parent["agents"]] == [STUDENT]
    assert [o["sourcedId"] for o in parent["orgs"]] == [ORG]


def test_sessions_course_class_enrollments(rostered, oneroster):
    term = oneroster(f"/academicSessions/{SESSION}")["academicSession"]
    assert (term["type"], term["title"], term["schoolYear"]) == (
        "term",  # an Ed-Fi semester is a 1.1 term, so /terms shows the district's terms
        SECTION["sessionName"],
        "2022",
    )
    assert [t["sourcedId"] for t in oneroster("/terms")["academicSessions"]] == [SESSION]
    year = oneroster(f"/academicSessions/{term['parent']['sourcedId']}")["academicSession"]
    assert (year["type"], year["title"], year["startDate"], year["endDate"]) == (
        "schoolYear",
        "2021-2022",
        "2021-08-23",
        "2021-12-17",
    )
    assert [c["sourcedId"] for c in year["children"]] == [SESSION]
    klass = oneroster(f"/classes/{CLASS}")["class"]
    assert (klass["title"], klass["classCode"], klass["classType"]) == (
        "Algebra I, period 1",
        "ALG-1-01",
        "scheduled",
    )
    assert klass["school"]["sourcedId"] == ORG
    assert [t["sourcedId"] for t in klass["terms"]] == [SESSION]
    assert klass["grades"] == ["09"]
    course = oneroster(f"/courses/{klass['course']['sourcedId']}")["course"]
    assert (course["title"], course["courseCode"], course["org"]["sourcedId"]) == (
        "Algebra I",
        "ALG-1",
        DISTRICT,
    )
    enrollments = oneroster(f"/classes/{CLASS}/students")["users"]
    assert [u["sourcedId"] for u in enrollments] == [STUDENT]
    teachers = oneroster(f"/classes/{CLASS}/teachers")["users"]
    assert [u["sourcedId"] for u in teachers] == [TEACHER]
    rows = oneroster("/enrollments")["enrollments"]
    by_role = {e["role"]: e for e in rows}
    assert by_role["teacher"]["primary"] == "true" and by_role["student"]["primary"] == "false"
    assert by_role["student"]["beginDate"] == "2021-08-23"


def test_gradebook(rostered, oneroster):
    items = oneroster("/lineItems")["lineItems"]
    assert [(i["title"], i["class"]["sourcedId"], i["resultValueMax"]) for i in items] == [
        ("Homework 1", CLASS, 10)
    ]
    category = oneroster(f"/categories/{items[0]['category']['sourcedId']}")["category"]
    assert category["title"] == "Homework"
    results = oneroster("/results")["results"]
    assert [(r["student"]["sourcedId"], r["score"], r["scoreStatus"]) for r in results] == [
        (STUDENT, 9, "fully graded")
    ]


def test_a_gradebook_entry_without_a_section_stays_edfi_only(rostered, edfi, oneroster):
    """OneRoster 1.1 requires a lineItem's class; Ed-Fi makes the entry's section optional: such
    an entry (and its students' entries) is written to Ed-Fi, and projects to no lineItem nor
    result (it was a 409 when the projection wrote a lineItem without a class)."""
    key = {"gradebookEntryIdentifier": "HW-9", "namespace": "uri://gbisd.edu"}
    entry = {**key, "title": "Free", "dateAssigned": "2021-09-01", "sourceSectionIdentifier": "X"}
    edfi.create("gradebookEntries", entry)
    edfi.create(
        "studentGradebookEntries",
        {
            "gradebookEntryReference": {
                k: entry[k] for k in ("gradebookEntryIdentifier", "namespace")
            },
            "studentReference": {"studentUniqueId": "604822"},
            "numericGradeEarned": 5,
        },
    )
    assert [i["title"] for i in oneroster("/lineItems")["lineItems"]] == ["Homework 1"]
    assert [r["score"] for r in oneroster("/results")["results"]] == [9]


def test_required_gradebook_fields_are_filled_when_edfi_leaves_them_out():
    """OneRoster requires lineItem.category, lineItem.resultValueMin and result.scoreDate; Ed-Fi
    makes gradebookEntryType and dateFulfilled optional (the Grand Bend sample has neither)."""
    from gateway.mapping.to_oneroster import translate as tor

    section = {
        "sectionIdentifier": "S1",
        "localCourseCode": "ALG-1",
        "schoolId": 255901001,
        "schoolYear": 2022,
        "sessionName": "Fall",
    }
    entry = {
        "gradebookEntryIdentifier": "G1",
        "namespace": "uri://ed-fi.org/GradebookEntry",
        "title": "Quiz",
        "sectionReference": section,
    }
    item = tor.line_item(entry)
    uncategorized = tor.category(None)
    assert item["category"] == uncategorized["sourcedId"]
    assert uncategorized["title"] == "Uncategorized"
    assert item["resultValueMin"] == 0.0
    typed = tor.category("uri://ed-fi.org/GradebookEntryTypeDescriptor#Quiz")
    assert typed["title"] == "Quiz" and typed["sourcedId"] != uncategorized["sourcedId"]

    graded = {
        "gradebookEntryReference": {
            "gradebookEntryIdentifier": "G1",
            "namespace": entry["namespace"],
        },
        "studentReference": {"studentUniqueId": "604822"},
        "numericGradeEarned": 74,
        "_lastModifiedDate": "2026-11-02T10:11:12.345Z",
    }
    assert tor.result(graded)["scoreDate"] == "2026-11-02"
    assert tor.result({**graded, "dateFulfilled": "2026-10-30"})["scoreDate"] == "2026-10-30"
