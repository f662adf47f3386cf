"""Pure translation: Ed-Fi resource documents (the API's JSON shape) → OneRoster 1.1 records.

A OneRoster record here is the entity's JSON with GUIDRefs reduced to sourcedIds (`"parent":
"org-…"`, `"orgs": ["org-…"]`), the form the enrollment tables store. `ref(resource, key)` names the
sourcedId of an Ed-Fi record by its natural key; the default is the deterministic hash, the
projection service passes one backed by the link table. Nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gateway.mapping import crosswalks as cw
from gateway.mapping.identifiers import sourced_id

Doc = dict[str, Any]
Ref = Callable[[str, dict[str, Any]], str]

SECTION_KEY = ("sectionIdentifier", "localCourseCode", "schoolId", "schoolYear", "sessionName")


def org_ref(ref: Ref, education_organization_id: Any) -> str:
    return ref(
        "educationOrganizations", {"educationOrganizationId": int(education_organization_id)}
    )


def _first(items: Iterable[Doc], field: str, prefer: Callable[[Doc], bool] | None = None) -> Any:
    items = [i for i in items if i.get(field)]
    if prefer:
        items.sort(key=lambda i: not prefer(i))
    return items[0][field] if items else None


def _email(docs: Iterable[Doc]) -> str | None:
    mails = [m for d in docs for m in d.get("electronicMails") or []]
    return _first(
        mails, "electronicMailAddress", lambda m: bool(m.get("primaryEmailAddressIndicator"))
    )


def _phone(docs: Iterable[Doc], sms: bool = False) -> str | None:
    phones = [t for d in docs for t in d.get("telephones") or []]
    if sms:
        phones = [t for t in phones if t.get("textMessageCapabilityIndicator")]
    phones.sort(key=lambda t: t.get("orderOfPriority") or 99)
    return _first(phones, "telephoneNumber")


def _key(doc: Doc, reference: str, fields: Iterable[str]) -> dict[str, Any]:
    source = doc.get(reference) or {}
    return {f: source.get(f) for f in fields}


# --- organizations ------------------------------------------------------------------------------
def org_from_local_education_agency(lea: Doc, ref: Ref = sourced_id) -> Doc:
    parent = (lea.get("parentLocalEducationAgencyReference") or {}).get("localEducationAgencyId")
    return {
        "sourcedId": org_ref(ref, lea["localEducationAgencyId"]),
        "name": lea["nameOfInstitution"],
        "type": "district",
        "identifier": str(lea["localEducationAgencyId"]),
        "parent": org_ref(ref, parent) if parent is not None else None,
    }


def org_from_school(school: Doc, ref: Ref = sourced_id) -> Doc:
    lea = (school.get("localEducationAgencyReference") or {}).get("localEducationAgencyId")
    return {
        "sourcedId": org_ref(ref, school["schoolId"]),
        "name": school["nameOfInstitution"],
        "type": "school",
        "identifier": str(school["schoolId"]),
        "parent": org_ref(ref, lea) if lea is not None else None,
    }


# --- people -------------------------------------------------------------------------------------
def _person(doc: Doc, unique_id_field: str, resource: str, role: str, ref: Ref) -> Doc:
    unique_id = doc[unique_id_field]
    return {
        "sourcedId": ref(resource, {unique_id_field: unique_id}),
        "username": doc.get("loginId") or unique_id,
        "userIds": [{"type": unique_id_field, "identifier": unique_id}],
        "enabledUser": True,
        "givenName": doc["firstName"],
        "familyName": doc["lastSurname"],
        "middleName": doc.get("middleName"),
        "role": role,
        "identifier": unique_id,
        "email": _email([doc]),
        "sms": _phone([doc], sms=True),
        "phone": _phone([doc]),
    }


def student_user(
    student: Doc,
    school_associations: list[Doc],
    edorg_associations: list[Doc],
    contact_associations: list[Doc],
    ref: Ref = sourced_id,
) -> Doc:
    """User `student`: orgs from its school associations (current ones first), grades from the
    latest entry grade level, contact details from its education-organization associations, agents
    from the contacts OneRoster has a role for."""
    user = _person(student, "studentUniqueId", "students", "student", ref)
    latest = sorted(school_associations, key=lambda a: a.get("entryDate") or "", reverse=True)
    schools = [a["schoolReference"]["schoolId"] for a in latest]
    orgs = list(dict.fromkeys(org_ref(ref, s) for s in schools))
    grades = cw.grades_to_ceds([a.get("entryGradeLevelDescriptor") for a in latest[:1]])
    login = _first(edorg_associations, "loginId")
    agents = [
        ref("contacts", {"contactUniqueId": a["contactReference"]["contactUniqueId"]})
        for a in contact_associations
        if cw.contact_role([a.get("relationDescriptor")])
    ]
    user.update(
        username=login or user["username"],
        email=_email(edorg_associations) or user["email"],
        sms=_phone(edorg_associations, sms=True) or user["sms"],
        phone=_phone(edorg_associations) or user["phone"],
        orgs=orgs,
        grades=grades,
        agents=sorted(set(agents)),
        birthDate=student.get("birthDate"),
    )
    return user


def demographics(student: Doc, edorg_associations: list[Doc], ref: Ref = sourced_id) -> Doc:
    """Demographics share the student's sourcedId. Sex and race come from the education-
    organization association (the one naming most), birth facts from the student."""
    seoas = sorted(edorg_associations, key=lambda a: len(a.get("races") or []), reverse=True)
    races = [r["raceDescriptor"] for r in (seoas[0].get("races") or [])] if seoas else []
    hispanic = _first(seoas, "hispanicLatinoEthnicity") if seoas else None
    if hispanic is None and any(a.get("hispanicLatinoEthnicity") is False for a in seoas):
        hispanic = False
    sex = cw.sex_to_oneroster(_first(seoas, "sexDescriptor") or student.get("birthSexDescriptor"))
    return {
        "sourcedId": ref("students", {"studentUniqueId": student["studentUniqueId"]}),
        "birthDate": student.get("birthDate"),
        "sex": sex,
        **cw.race_flags(races, hispanic),
        "countryOfBirthCode": cw.code_value(student.get("birthCountryDescriptor")),
        "stateOfBirthAbbreviation": cw.code_value(student.get("birthStateAbbreviationDescriptor")),
        "cityOfBirth": student.get("birthCity"),
        "publicSchoolResidenceStatus": None,
    }


def staff_user(
    staff: Doc,
    assignments: list[Doc],
    section_associations: list[Doc],
    ref: Ref = sourced_id,
    school_associations: list[Doc] | None = None,
) -> Doc | None:
    """User `teacher` / `administrator` / `aide`; None when no OneRoster role fits. Its orgs:
    where it is assigned, the schools it is associated with and the schools it teaches in."""
    role = cw.staff_role(
        [a.get("staffClassificationDescriptor") for a in assignments],
        teaches=bool(section_associations),
    )
    if role is None:
        return None
    user = _person(staff, "staffUniqueId", "staffs", role, ref)
    edorgs = [a["educationOrganizationReference"]["educationOrganizationId"] for a in assignments]
    edorgs += [a["schoolReference"]["schoolId"] for a in school_associations or []]
    edorgs += [s["sectionReference"]["schoolId"] for s in section_associations]
    user.update(orgs=list(dict.fromkeys(org_ref(ref, e) for e in edorgs)), grades=[], agents=[])
    return user


def contact_user(
    contact: Doc,
    contact_associations: list[Doc],
    student_orgs: dict[str, list[str]],
    ref: Ref = sourced_id,
) -> Doc | None:
    """User `parent` / `guardian` / `relative` with its students as agents and their schools as
    orgs; None when no association gives a OneRoster role."""
    related = [a for a in contact_associations if cw.contact_role([a.get("relationDescriptor")])]
    role = cw.contact_role([a.get("relationDescriptor") for a in related])
    if role is None:
        return None
    user = _person(contact, "contactUniqueId", "contacts", role, ref)
    students = [a["studentReference"]["studentUniqueId"] for a in related]
    orgs = [o for s in students for o in student_orgs.get(s, [])]
    user.update(
        orgs=list(dict.fromkeys(orgs)),
        grades=[],
        agents=sorted({ref("students", {"studentUniqueId": s}) for s in students}),
    )
    return user


# --- sessions and classes -----------------------------------------------------------------------
def school_year_title(school_year: int) -> str:
    return f"{school_year - 1}-{school_year}"


def academic_session(session: Doc, ref: Ref = sourced_id) -> Doc:
    key = _session_key(session)
    year = key["schoolYear"]
    return {
        "sourcedId": ref("sessions", key),
        "title": session["sessionName"],
        "type": cw.term_to_session_type(session.get("termDescriptor")) or "term",
        "startDate": session.get("beginDate"),
        "endDate": session.get("endDate"),
        "parent": ref("schoolYears", {"schoolYear": year}),
        "schoolYear": str(year),
    }


GRADING_PERIOD_KEY = ("gradingPeriodDescriptor", "gradingPeriodName", "schoolId", "schoolYear")


def grading_period_key(period: Doc) -> dict[str, Any]:
    """A grading period's natural key, from the document or from a gradingPeriodReference."""
    flat = {**period, **(period.get("schoolReference") or {})}
    flat.update(period.get("schoolYearTypeReference") or {})
    return {f: flat.get(f) for f in GRADING_PERIOD_KEY}


def containing_session(period: Doc, sessions: list[Doc]) -> Doc | None:
    """The session of the grading period's school and year that lists it among its grading
    periods, else the shortest whose dates contain it; None when none does."""
    key = grading_period_key(period)
    mine = [
        s
        for s in sessions
        if s["schoolReference"]["schoolId"] == key["schoolId"]
        and int(s["schoolYearTypeReference"]["schoolYear"]) == int(key["schoolYear"])
    ]
    for s in mine:
        listed = [g.get("gradingPeriodReference") or {} for g in s.get("gradingPeriods") or []]
        if any(grading_period_key(g) == key for g in listed):
            return s
    around = [
        s
        for s in mine
        if s.get("beginDate")
        and s.get("endDate")
        and s["beginDate"] <= period["beginDate"]
        and period["endDate"] <= s["endDate"]
    ]
    return min(around, key=lambda s: (s["endDate"], s["sessionName"]), default=None)


def grading_period(period: Doc, sessions: list[Doc], ref: Ref = sourced_id) -> Doc:
    """academicSession `gradingPeriod` under the session that contains it (its school year's
    session when none does)."""
    key = grading_period_key(period)
    year = int(key["schoolYear"])
    parent = containing_session(period, sessions)
    return {
        "sourcedId": ref("gradingPeriods", key),
        "title": period["gradingPeriodName"],
        "type": "gradingPeriod",
        "startDate": period.get("beginDate"),
        "endDate": period.get("endDate"),
        "parent": (
            ref("sessions", _session_key(parent))
            if parent
            else ref("schoolYears", {"schoolYear": year})
        ),
        "schoolYear": str(year),
    }


def _session_key(session: Doc) -> dict[str, Any]:
    return {
        "schoolId": session["schoolReference"]["schoolId"],
        "schoolYear": int(session["schoolYearTypeReference"]["schoolYear"]),
        "sessionName": session["sessionName"],
    }


def school_year_session(school_year: int, sessions: list[Doc], ref: Ref = sourced_id) -> Doc:
    """The derived `schoolYear` session spanning every Ed-Fi session of that school year."""
    begins = [s["beginDate"] for s in sessions if s.get("beginDate")]
    ends = [s["endDate"] for s in sessions if s.get("endDate")]
    return {
        "sourcedId": ref("schoolYears", {"schoolYear": int(school_year)}),
        "title": school_year_title(int(school_year)),
        "type": cw.load("terms")["schoolYearType"],
        "startDate": min(begins) if begins else None,
        "endDate": max(ends) if ends else None,
        "parent": None,
        "schoolYear": str(school_year),
    }


def list_entry(value: str | None) -> str | None:
    """A value as an entry of a OneRoster list field. The CSV binding writes a list as one
    comma-separated value, so an entry with a comma would come back as several: the comma goes
    ('Physical, Health, and Safety Education' → 'Physical Health and Safety Education')."""
    if not value:
        return None
    return " ".join(value.replace(",", " ").split()) or None


def _subjects(course: Doc | None) -> list[str]:
    codes = [
        list_entry(cw.code_value(s.get("academicSubjectDescriptor")))
        for s in (course or {}).get("academicSubjects") or []
    ]
    return [c for c in codes if c]


def course(course_doc: Doc, ref: Ref = sourced_id) -> Doc:
    edorg = course_doc["educationOrganizationReference"]["educationOrganizationId"]
    grades = [g.get("gradeLevelDescriptor") for g in course_doc.get("offeredGradeLevels") or []]
    return {
        "sourcedId": ref(
            "courses", {"courseCode": course_doc["courseCode"], "educationOrganizationId": edorg}
        ),
        "title": course_doc["courseTitle"],
        "schoolYear": None,
        "courseCode": course_doc["courseCode"],
        "grades": cw.grades_to_ceds(grades),
        "subjects": _subjects(course_doc),
        "org": org_ref(ref, edorg),
        "subjectCodes": [],
    }


SESSION_KEY = ("schoolId", "schoolYear", "sessionName")  # a section's session, in its key


def section_key(doc: Doc) -> dict[str, Any]:
    """The section natural key of a section document or of a document holding a sectionReference."""
    if "sectionReference" in doc:
        return _key(doc, "sectionReference", SECTION_KEY)
    offering = doc["courseOfferingReference"]
    return {
        "sectionIdentifier": doc["sectionIdentifier"],
        **{f: offering[f] for f in SECTION_KEY[1:]},
    }


def class_(
    section: Doc, offering: Doc | None, course_doc: Doc | None, ref: Ref = sourced_id
) -> Doc:
    """Class from a section, its course offering and the offering's course."""
    key = section_key(section)
    offering = offering or {}
    grade_docs = (
        section.get("offeredGradeLevels")
        or offering.get("offeredGradeLevels")
        or (course_doc or {}).get("offeredGradeLevels")
        or []
    )
    course_ref = offering.get("courseReference")
    periods = [
        (p.get("classPeriodReference") or {}).get("classPeriodName")
        for p in section.get("classPeriods") or []
    ]
    session_key = {f: key[f] for f in SESSION_KEY}
    return {
        "sourcedId": ref("sections", key),
        "title": section.get("sectionName")
        or offering.get("localCourseTitle")
        or (course_doc or {}).get("courseTitle")
        or key["sectionIdentifier"],
        "classCode": key["sectionIdentifier"],
        "classType": "scheduled",
        "location": (section.get("locationReference") or {}).get("classroomIdentificationCode"),
        "grades": cw.grades_to_ceds([g.get("gradeLevelDescriptor") for g in grade_docs]),
        "subjects": _subjects(course_doc),
        "course": ref(
            "courses",
            {
                "courseCode": course_ref["courseCode"],
                "educationOrganizationId": course_ref["educationOrganizationId"],
            },
        )
        if course_ref
        else None,
        "school": org_ref(ref, key["schoolId"]),
        "terms": [ref("sessions", session_key)],
        "subjectCodes": [],
        "periods": [e for e in map(list_entry, periods) if e],
    }


# --- enrollments and gradebook ------------------------------------------------------------------
def _enrollment(assoc: Doc, resource: str, person: str, person_resource: str, ref: Ref) -> Doc:
    section = section_key(assoc)
    reference = "studentReference" if person_resource == "students" else "staffReference"
    person_key = {person: assoc[reference][person]}
    key = {**section, **person_key, "beginDate": assoc["beginDate"]}
    return {
        "sourcedId": ref(resource, key),
        "user": ref(person_resource, person_key),
        "class": ref("sections", section),
        "school": org_ref(ref, section["schoolId"]),
        "beginDate": assoc.get("beginDate"),
        "endDate": assoc.get("endDate"),
    }


def student_enrollment(assoc: Doc, ref: Ref = sourced_id) -> Doc:
    out = _enrollment(assoc, "studentSectionAssociations", "studentUniqueId", "students", ref)
    out.update(role="student", primary=False)
    return out


def staff_enrollment(assoc: Doc, ref: Ref = sourced_id) -> Doc:
    out = _enrollment(assoc, "staffSectionAssociations", "staffUniqueId", "staffs", ref)
    position = cw.classroom_position(assoc.get("classroomPositionDescriptor")) or {
        "role": "teacher",
        "primary": False,
    }
    out.update(role=position["role"], primary=position["primary"])
    return out


# OneRoster requires a lineItem's category; Ed-Fi's gradebookEntryType is optional. Entries without
# a type share this one category, named for what it is rather than guessed from the entry.
UNCATEGORIZED_TITLE = "Uncategorized"


def category(type_uri: str | None, ref: Ref = sourced_id) -> Doc:
    return {
        "sourcedId": ref("gradebookEntryTypes", {"gradebookEntryTypeDescriptor": type_uri or ""}),
        "title": cw.code_value(type_uri) or UNCATEGORIZED_TITLE,
    }


def line_item(entry: Doc, ref: Ref = sourced_id) -> Doc:
    key = {
        "gradebookEntryIdentifier": entry["gradebookEntryIdentifier"],
        "namespace": entry["namespace"],
    }
    entry_type = entry.get("gradebookEntryTypeDescriptor")
    section = section_key(entry) if entry.get("sectionReference") else None
    # OneRoster requires what Ed-Fi may leave out: the values of data/gradebook.json
    required = cw.load("gradebook")
    max_points = entry.get("maxPoints")
    return {
        "sourcedId": ref("gradebookEntries", key),
        "title": entry["title"],
        "description": entry.get("description"),
        "assignDate": entry.get("dateAssigned"),
        "dueDate": entry.get("dueDate") or entry.get("dateAssigned"),
        "class": ref("sections", section) if section else None,
        "category": category(entry_type, ref)["sourcedId"],
        "gradingPeriod": ref("sessions", {f: section[f] for f in SESSION_KEY}) if section else None,
        "resultValueMin": float(required["resultValueMin"]),
        "resultValueMax": float(
            max_points if max_points is not None else required["resultValueMaxWithoutMaxPoints"]
        ),
    }


def result(student_entry: Doc, ref: Ref = sourced_id) -> Doc:
    entry = student_entry["gradebookEntryReference"]
    entry_key = {
        "gradebookEntryIdentifier": entry["gradebookEntryIdentifier"],
        "namespace": entry["namespace"],
    }
    student = {"studentUniqueId": student_entry["studentReference"]["studentUniqueId"]}
    score = student_entry.get("numericGradeEarned")
    if score is None:
        score = student_entry.get("pointsEarned")
    return {
        "sourcedId": ref("studentGradebookEntries", {**entry_key, **student}),
        "lineItem": ref("gradebookEntries", entry_key),
        "student": ref("students", student),
        "scoreStatus": "fully graded" if score is not None else "not submitted",
        "score": score,
        # Required by OneRoster: when Ed-Fi has no dateFulfilled, the date the score was recorded.
        "scoreDate": student_entry.get("dateFulfilled")
        or (student_entry.get("_lastModifiedDate") or "")[:10]
        or None,
        "comment": student_entry.get("diagnosticStatement"),
    }
