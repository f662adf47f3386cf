"""Ed-Fi in → OneRoster out → OneRoster in → Ed-Fi out keeps every field both standards share
(pure translation functions, no database), and the reverse direction invents nothing."""

from __future__ import annotations

from gateway.mapping.to_edfi import translate as to_edfi
from gateway.mapping.to_oneroster import translate as to_oneroster
from tests.mapping.conftest import ED, LEA_ID, SCHOOL_ID, SECTION, bodies


def docs() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for resource, body in bodies():
        out.setdefault(resource, []).append(body)
    return out


def oneroster_side():
    d = docs()
    orgs = [to_oneroster.org_from_local_education_agency(d["localEducationAgencies"][0])]
    orgs.append(to_oneroster.org_from_school(d["schools"][0]))
    student = d["students"][0]
    user = to_oneroster.student_user(
        student,
        d["studentSchoolAssociations"],
        d["studentEducationOrganizationAssociations"],
        d["studentContactAssociations"],
    )
    demographics = to_oneroster.demographics(student, d["studentEducationOrganizationAssociations"])
    staff = [
        to_oneroster.staff_user(
            s,
            [
                a
                for a in d["staffEducationOrganizationAssignmentAssociations"]
                if a["staffReference"]["staffUniqueId"] == s["staffUniqueId"]
            ],
            [
                a
                for a in d["staffSectionAssociations"]
                if a["staffReference"]["staffUniqueId"] == s["staffUniqueId"]
            ],
        )
        for s in d["staffs"]
    ]
    orgs_of = {student["studentUniqueId"]: user["orgs"]}
    contact = to_oneroster.contact_user(d["contacts"][0], d["studentContactAssociations"], orgs_of)
    term = to_oneroster.academic_session(d["sessions"][0])
    course = to_oneroster.course(d["courses"][0])
    klass = to_oneroster.class_(d["sections"][0], d["courseOfferings"][0], d["courses"][0])
    enrollments = [
        to_oneroster.student_enrollment(d["studentSectionAssociations"][0]),
        to_oneroster.staff_enrollment(d["staffSectionAssociations"][0]),
    ]
    line_item = to_oneroster.line_item(d["gradebookEntries"][0])
    result = to_oneroster.result(d["studentGradebookEntries"][0])
    records = {
        "org": orgs,
        "user": [user, *staff, contact],
        "demographics": [demographics],
        "academicSession": [term],
        "course": [course],
        "class": [klass],
        "enrollment": enrollments,
        "lineItem": [line_item],
        "result": [result],
    }
    index = {(e, r["sourcedId"]): r for e, rs in records.items() for r in rs}
    return records, lambda entity, sid: index.get((entity, sid))


def test_organizations_round_trip():
    records, lookup = oneroster_side()
    lea, school = records["org"]
    assert to_edfi.education_organization(lea, lookup) == (
        "localEducationAgencies",
        {
            "localEducationAgencyId": LEA_ID,
            "nameOfInstitution": "Grand Bend ISD",
            "categories": [
                {
                    "educationOrganizationCategoryDescriptor": ED
                    + "EducationOrganizationCategoryDescriptor#Local Education Agency"
                }
            ],
            # Ed-Fi requires it, OneRoster does not say it: the documented "not known" value
            "localEducationAgencyCategoryDescriptor": ED
            + "LocalEducationAgencyCategoryDescriptor#Other local education agency",
        },
    )
    resource, doc = to_edfi.education_organization(school, lookup)
    assert resource == "schools"
    assert (doc["schoolId"], doc["nameOfInstitution"]) == (SCHOOL_ID, "Grand Bend High School")
    assert doc["localEducationAgencyReference"] == {"localEducationAgencyId": LEA_ID}
    # OneRoster orgs do not say which grades a school serves; Ed-Fi requires them
    assert doc["gradeLevels"] == [
        {"gradeLevelDescriptor": ED + "GradeLevelDescriptor#No grade level"}
    ]
    assert to_edfi.education_organization({**school, "identifier": "GB-HS"}, lookup) is None


def test_student_round_trip():
    records, lookup = oneroster_side()
    user, demographics = records["user"][0], records["demographics"][0]
    d = docs()
    student = to_edfi.student(user, demographics)
    original = d["students"][0]
    for f in (
        "studentUniqueId",
        "firstName",
        "middleName",
        "lastSurname",
        "birthDate",
        "birthCity",
    ):
        assert student[f] == original[f]
    assert student["loginId"] == "lwoods"
    (seoa,) = to_edfi.student_education_organization_associations(user, demographics, lookup)
    source = d["studentEducationOrganizationAssociations"][0]
    assert seoa["educationOrganizationReference"] == source["educationOrganizationReference"]
    assert seoa["sexDescriptor"] == source["sexDescriptor"]
    assert sorted(r["raceDescriptor"] for r in seoa["races"]) == sorted(
        r["raceDescriptor"] for r in source["races"]
    )
    assert seoa["hispanicLatinoEthnicity"] is False
    assert [m["electronicMailAddress"] for m in seoa["electronicMails"]] == ["lisa.woods@gbisd.edu"]
    org = user["orgs"][0]
    (ssa,) = to_edfi.student_school_associations(user, {org: "2021-08-23"}, lookup)
    original_ssa = d["studentSchoolAssociations"][0]
    for f in ("studentReference", "schoolReference", "entryDate", "entryGradeLevelDescriptor"):
        assert ssa[f] == original_ssa[f]
    assert to_edfi.student_school_associations(user, {}, lookup) == []  # no date: not invented


def test_staff_and_contact_round_trip():
    records, lookup = oneroster_side()
    _, teacher, superintendent, parent = records["user"]
    d = docs()
    assert to_edfi.staff(teacher) == {
        k: d["staffs"][0][k] for k in ("staffUniqueId", "firstName", "lastSurname")
    }
    (assignment,) = to_edfi.staff_assignments(
        superintendent, {superintendent["orgs"][0]: "2021-07-01"}, lookup
    )
    assert assignment["educationOrganizationReference"] == {"educationOrganizationId": LEA_ID}
    assert assignment["staffClassificationDescriptor"].endswith("#School Administrator")
    assert to_edfi.contact(parent) == {
        k: d["contacts"][0][k] for k in ("contactUniqueId", "firstName", "lastSurname")
    }
    (sca,) = to_edfi.student_contact_associations(parent, lookup)
    original = d["studentContactAssociations"][0]
    assert (sca["contactReference"], sca["studentReference"]) == (
        original["contactReference"],
        original["studentReference"],
    )
    assert (
        sca["relationDescriptor"] == ED + "RelationDescriptor#Parent"
    )  # OneRoster only says parent
    assert to_edfi.student({**teacher, "identifier": None}, None) is None


def test_session_course_class_enrollment_round_trip():
    records, lookup = oneroster_side()
    d = docs()
    term = records["academicSession"][0]
    session = to_edfi.session(term, SCHOOL_ID)
    original = d["sessions"][0]
    for f in ("sessionName", "schoolReference", "schoolYearTypeReference", "beginDate", "endDate"):
        assert session[f] == original[f]
    # An Ed-Fi semester is a 1.1 `term` (so /terms lists it); `term` says no more than that, so a
    # session born in OneRoster comes back as the generic Ed-Fi term.
    assert term["type"] == "term"
    assert session["termDescriptor"] == ED + "TermDescriptor#Other"
    assert session["totalInstructionalDays"] == 0  # OneRoster has no calendar: not known
    assert to_edfi.session({**term, "type": "schoolYear"}, SCHOOL_ID) is None
    course = to_edfi.course(records["course"][0], lookup)
    assert (course["courseCode"], course["courseTitle"]) == ("ALG-1", "Algebra I")
    assert course["offeredGradeLevels"] == d["courses"][0]["offeredGradeLevels"]
    # what Ed-Fi requires of a course and OneRoster does not carry: its code as the LEA's, 1 part
    assert course["identificationCodes"] == [
        {
            "courseIdentificationSystemDescriptor": ED
            + "CourseIdentificationSystemDescriptor#LEA course code",
            "identificationCode": "ALG-1",
        }
    ]
    assert course["numberOfParts"] == 1
    offering, section = to_edfi.course_offering_and_section(records["class"][0], lookup)
    assert offering["courseReference"] == d["courseOfferings"][0]["courseReference"]
    assert offering["sessionReference"] == d["courseOfferings"][0]["sessionReference"]
    assert to_edfi.section_reference(section) == SECTION
    assert section["sectionName"] == "Algebra I, period 1"
    assert "classPeriods" not in section  # the class names no periods
    with_periods = {**records["class"][0], "periods": ["1", "2"]}
    _, section = to_edfi.course_offering_and_section(with_periods, lookup)
    assert section["classPeriods"] == [
        {"classPeriodReference": {"classPeriodName": p, "schoolId": SCHOOL_ID}} for p in "12"
    ]
    assert to_oneroster.class_(section, None, None)["periods"] == ["1", "2"]
    users = {u["sourcedId"]: u for u in records["user"]}
    student_enr, staff_enr = records["enrollment"]
    resource, ssa = to_edfi.section_association(
        student_enr, section, users[student_enr["user"]], term
    )
    assert resource == "studentSectionAssociations"
    assert ssa == d["studentSectionAssociations"][0]
    resource, staff_ssa = to_edfi.section_association(
        staff_enr, section, users[staff_enr["user"]], term
    )
    assert resource == "staffSectionAssociations" and staff_ssa == d["staffSectionAssociations"][0]


def test_gradebook_round_trip():
    records, lookup = oneroster_side()
    d = docs()
    _, section = to_edfi.course_offering_and_section(records["class"][0], lookup)
    entry = to_edfi.gradebook_entry(records["lineItem"][0], section, "uri://gbisd.edu")
    original = d["gradebookEntries"][0]
    for f in (
        "title",
        "dateAssigned",
        "maxPoints",
        "sectionReference",
        "sourceSectionIdentifier",
        "namespace",
    ):
        assert entry[f] == original[f]
    users = {u["sourcedId"]: u for u in records["user"]}
    result = records["result"][0]
    back = to_edfi.student_gradebook_entry(result, entry, users[result["student"]])
    source = d["studentGradebookEntries"][0]
    assert back["studentReference"] == source["studentReference"]
    assert (back["numericGradeEarned"], back["dateFulfilled"]) == (9, "2021-09-05")
