"""Pure translation: OneRoster 1.1 records → Ed-Fi resource documents (the API's JSON shape).

Only what OneRoster honestly says is filled: a field OneRoster has no value for is left out, never
invented. A record OneRoster cannot place in the Ed-Fi model at all (an org whose identifier is not
an Ed-Fi education organization id, a person without an identifier, a schoolYear session) gives
None. Records use the same form as to_oneroster (GUIDRefs as sourcedIds); `lookup(entity,
sourcedId)` returns a referenced OneRoster record or None.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.mapping import crosswalks as cw

Doc = dict[str, Any]
Lookup = Callable[[str, str], Doc | None]

# OneRoster user roles by the Ed-Fi person they become; enrollment roles with a staff section
# association
STUDENT_ROLES = ("student",)
STAFF_ROLES = ("teacher", "administrator", "aide")
CONTACT_ROLES = ("parent", "guardian", "relative")
SECTION_STAFF_ROLES = ("teacher", "aide")
# the kind of Ed-Fi person a user of each role becomes (other roles never reach Ed-Fi)
PERSON_KINDS = {"student": STUDENT_ROLES, "staff member": STAFF_ROLES, "contact": CONTACT_ROLES}


def person_kind_sql(role: str) -> str:
    """SQL naming the PERSON_KINDS entry of the role in SQL expression `role` (NULL: none)."""
    cases = " ".join(
        f"WHEN {role} IN ({', '.join(repr(r) for r in roles)}) THEN '{kind}'"
        for kind, roles in PERSON_KINDS.items()
    )
    return f"CASE {cases} END"


# the user fields the people translations below read: a caller may leave the others out
PERSON_FIELDS = tuple(
    "role identifier givenName familyName middleName username email phone sms birthDate orgs "
    "grades agents".split()
)


def demographics_fields() -> tuple[str, ...]:
    """The demographics fields `student` and its associations read (race flags: crosswalk's)."""
    races = cw.load("races")
    places = ("birthDate", "sex", "cityOfBirth", "stateOfBirthAbbreviation", "countryOfBirthCode")
    return (*places, *races["fromOneRoster"], races["ethnicity"])


def edorg_id(org: Doc | None) -> int | None:
    """An org is an Ed-Fi education organization when its identifier is an Ed-Fi id."""
    identifier = (org or {}).get("identifier")
    if isinstance(identifier, str) and identifier.isdigit() and len(identifier) <= 9:
        return int(identifier)
    return None


def _unspecified(name: str) -> str | None:
    """The descriptor a contact detail carries when OneRoster does not say its type."""
    return cw.load("reverse")["unspecifiedTypes"][name]


def _required(name: str) -> Any:
    """What Ed-Fi requires and OneRoster never carries (documented in data/reverse.json)."""
    return cw.load("reverse")["requiredByEdFi"][name]


def _optional(doc: Doc) -> Doc:
    """The document without its empty values (None, [] and ""; False and 0 are values)."""
    # a truthy value, nearly all of them, is kept after one test
    return {k: v for k, v in doc.items() if v or (v is not None and v != "" and v != [])}


# --- organizations ------------------------------------------------------------------------------
def education_organization(org: Doc, lookup: Lookup) -> tuple[str, Doc] | None:
    """org `district` → localEducationAgency, `school` → school; (resource, document)."""
    own = edorg_id(org)
    if own is None or org.get("type") not in ("district", "school"):
        return None
    parent = edorg_id(lookup("org", org["parent"])) if org.get("parent") else None
    categories = cw.load("reverse")["educationOrganizationCategories"][org["type"]]
    if org["type"] == "district":
        return "localEducationAgencies", _optional(
            {
                "localEducationAgencyId": own,
                "nameOfInstitution": org["name"],
                "categories": [{"educationOrganizationCategoryDescriptor": categories}],
                "localEducationAgencyCategoryDescriptor": _required(
                    "localEducationAgencyCategoryDescriptor"
                ),
                "parentLocalEducationAgencyReference": (
                    {"localEducationAgencyId": parent} if parent else None
                ),
            }
        )
    return "schools", _optional(
        {
            "schoolId": own,
            "nameOfInstitution": org["name"],
            "educationOrganizationCategories": [
                {"educationOrganizationCategoryDescriptor": categories}
            ],
            "gradeLevels": [{"gradeLevelDescriptor": _required("schoolGradeLevelDescriptor")}],
            "localEducationAgencyReference": (
                {"localEducationAgencyId": parent} if parent else None
            ),
        }
    )


# --- people -------------------------------------------------------------------------------------
def _person(user: Doc, unique_id_field: str) -> Doc | None:
    unique_id = user.get("identifier")
    if not unique_id:
        return None
    return _optional(
        {
            unique_id_field: unique_id,
            "firstName": user.get("givenName"),
            "lastSurname": user.get("familyName"),
            "middleName": user.get("middleName"),
            "loginId": user.get("username") if user.get("username") != unique_id else None,
        }
    )


def _contact_details(user: Doc) -> Doc:
    phones = []
    if user.get("phone"):
        phones.append({"telephoneNumber": user["phone"]})
    if user.get("sms") and user.get("sms") != user.get("phone"):
        phones.append({"telephoneNumber": user["sms"], "textMessageCapabilityIndicator": True})
    elif user.get("sms"):
        phones[0]["textMessageCapabilityIndicator"] = True
    return _optional(
        {
            "electronicMails": [
                {
                    "electronicMailAddress": user["email"],
                    "electronicMailTypeDescriptor": _unspecified("electronicMail"),
                }
            ]
            if user.get("email")
            else None,
            "telephones": [
                {**p, "telephoneNumberTypeDescriptor": _unspecified("telephone")} for p in phones
            ],
        }
    )


def student(user: Doc, demographics: Doc | None) -> Doc | None:
    doc = _person(user, "studentUniqueId")
    if doc is None:
        return None
    demo = demographics or {}
    state = demo.get("stateOfBirthAbbreviation")
    country = demo.get("countryOfBirthCode")
    doc.update(
        _optional(
            {
                "birthDate": demo.get("birthDate") or user.get("birthDate"),
                "birthCity": demo.get("cityOfBirth"),
                "birthStateAbbreviationDescriptor": _state(state) if state else None,
                "birthCountryDescriptor": _country(country) if country else None,
            }
        )
    )
    return doc


def _state(code: str) -> str:
    return f"{cw.load('reverse')['namespaces']['StateAbbreviationDescriptor']}#{code}"


def _country(code: str) -> str:
    return f"{cw.load('reverse')['namespaces']['CountryDescriptor']}#{code}"


def student_education_organization_associations(
    user: Doc, demographics: Doc | None, lookup: Lookup
) -> list[Doc]:
    """One per org of the student: sex, races and contact details travel here in Ed-Fi."""
    if not user.get("identifier"):
        return []
    demo = demographics or {}
    races, hispanic = cw.races_from_flags(demo)
    shared = _optional(
        {
            "sexDescriptor": cw.sex_from_oneroster(demo.get("sex")),
            "races": [{"raceDescriptor": r} for r in races],
            "hispanicLatinoEthnicity": hispanic,
            **_contact_details(user),
        }
    )
    out = []
    for org in user.get("orgs") or []:
        edorg = edorg_id(lookup("org", org))
        if edorg is not None:
            out.append(
                {
                    "educationOrganizationReference": {"educationOrganizationId": edorg},
                    "studentReference": {"studentUniqueId": user["identifier"]},
                    **shared,
                }
            )
    return out


def student_school_associations(
    user: Doc, entry_dates: dict[str, str], lookup: Lookup
) -> list[Doc]:
    """One per school org with a known entry date (`entry_dates`: org sourcedId → the student's
    first enrollment date there); the grade is the student's first OneRoster grade."""
    grade = cw.ceds_to_grade((user.get("grades") or [None])[0])
    out = []
    for org_id in user.get("orgs") or []:
        org = lookup("org", org_id)
        school = edorg_id(org)
        if school is None or (org or {}).get("type") != "school" or not entry_dates.get(org_id):
            continue
        if grade and user.get("identifier"):
            out.append(
                {
                    "studentReference": {"studentUniqueId": user["identifier"]},
                    "schoolReference": {"schoolId": school},
                    "entryDate": entry_dates[org_id],
                    "entryGradeLevelDescriptor": grade,
                }
            )
    return out


def staff(user: Doc) -> Doc | None:
    doc = _person(user, "staffUniqueId")
    if doc is not None:
        doc.update(_contact_details(user))
    return doc


def staff_assignments(user: Doc, begin_dates: dict[str, str], lookup: Lookup) -> list[Doc]:
    """staffEducationOrganizationAssignmentAssociation per org with a known begin date."""
    classification = cw.staff_classification_for(user.get("role"))
    out = []
    for org_id in user.get("orgs") or []:
        edorg = edorg_id(lookup("org", org_id))
        if edorg is None or not begin_dates.get(org_id) or not classification:
            continue
        out.append(
            {
                "staffReference": {"staffUniqueId": user["identifier"]},
                "educationOrganizationReference": {"educationOrganizationId": edorg},
                "staffClassificationDescriptor": classification,
                "beginDate": begin_dates[org_id],
            }
        )
    return out


def contact(user: Doc) -> Doc | None:
    doc = _person(user, "contactUniqueId")
    if doc is not None:
        doc.update(_contact_details(user))
    return doc


def student_contact_associations(user: Doc, lookup: Lookup) -> list[Doc]:
    relation = cw.relation_for(user.get("role"))
    out = []
    for agent_id in user.get("agents") or []:
        agent = lookup("user", agent_id)
        if agent and agent.get("role") == "student" and agent.get("identifier") and relation:
            out.append(
                {
                    "contactReference": {"contactUniqueId": user["identifier"]},
                    "studentReference": {"studentUniqueId": agent["identifier"]},
                    "relationDescriptor": relation,
                }
            )
    return out


# --- sessions, courses, classes -----------------------------------------------------------------
def session(academic_session: Doc, school_id: int) -> Doc | None:
    """An Ed-Fi session belongs to a school: the caller names the school of a class in the term."""
    if academic_session.get("type") == cw.load("terms")["schoolYearType"]:
        return None
    return _optional(
        {
            "sessionName": academic_session["title"],
            "schoolReference": {"schoolId": school_id},
            "schoolYearTypeReference": {"schoolYear": int(academic_session["schoolYear"])},
            "termDescriptor": cw.session_type_to_term(academic_session.get("type")),
            "beginDate": academic_session.get("startDate"),
            "endDate": academic_session.get("endDate"),
            "totalInstructionalDays": _required("sessionTotalInstructionalDays"),
        }
    )


def course(oneroster_course: Doc, lookup: Lookup) -> Doc | None:
    org = lookup("org", oneroster_course.get("org") or "")
    edorg = edorg_id(org)
    code = oneroster_course.get("courseCode")
    if edorg is None or not code:
        return None
    systems = _required("courseIdentificationSystemDescriptor")
    system = systems.get((org or {}).get("type"), systems["district"])
    return _optional(
        {
            "courseCode": code,
            "educationOrganizationReference": {"educationOrganizationId": edorg},
            "courseTitle": oneroster_course.get("title"),
            "identificationCodes": [
                {"courseIdentificationSystemDescriptor": system, "identificationCode": code}
            ],
            "numberOfParts": _required("courseNumberOfParts"),
            "offeredGradeLevels": [
                {"gradeLevelDescriptor": cw.ceds_to_grade(g)}
                for g in oneroster_course.get("grades") or []
                if cw.ceds_to_grade(g)
            ],
        }
    )


def course_offering_and_section(klass: Doc, lookup: Lookup) -> tuple[Doc, Doc] | None:
    """A class is a section of a course offering in its first term at its school."""
    school = edorg_id(lookup("org", klass.get("school") or ""))
    terms = [t for t in (lookup("academicSession", t) for t in klass.get("terms") or []) if t]
    oneroster_course = lookup("course", klass.get("course") or "")
    course_doc = course(oneroster_course, lookup) if oneroster_course else None
    if school is None or not terms or course_doc is None:
        return None
    term = terms[0]
    offering_key = {
        "localCourseCode": course_doc["courseCode"],
        "schoolId": school,
        "schoolYear": int(term["schoolYear"]),
        "sessionName": term["title"],
    }
    offering = _optional(
        {
            "localCourseCode": course_doc["courseCode"],
            "courseReference": {
                "courseCode": course_doc["courseCode"],
                "educationOrganizationId": course_doc["educationOrganizationReference"][
                    "educationOrganizationId"
                ],
            },
            "schoolReference": {"schoolId": school},
            "sessionReference": {
                k: offering_key[k] for k in ("schoolId", "schoolYear", "sessionName")
            },
            "localCourseTitle": oneroster_course.get("title") if oneroster_course else None,
        }
    )
    section = _optional(
        {
            "sectionIdentifier": klass.get("classCode") or klass["sourcedId"],
            "courseOfferingReference": offering_key,
            "sectionName": klass.get("title"),
            "classPeriods": [
                {"classPeriodReference": {"classPeriodName": p, "schoolId": school}}
                for p in klass.get("periods") or []
            ],
            "offeredGradeLevels": [
                {"gradeLevelDescriptor": cw.ceds_to_grade(g)}
                for g in klass.get("grades") or []
                if cw.ceds_to_grade(g)
            ],
        }
    )
    return offering, section


def class_periods(section_doc: Doc) -> list[Doc]:
    """The class periods a section names: Ed-Fi requires each to exist at its school."""
    return [
        {"classPeriodName": r["classPeriodName"], "schoolReference": {"schoolId": r["schoolId"]}}
        for r in (c["classPeriodReference"] for c in section_doc.get("classPeriods") or [])
    ]


def section_reference(section_doc: Doc) -> Doc:
    return {
        "sectionIdentifier": section_doc["sectionIdentifier"],
        **section_doc["courseOfferingReference"],
    }


def section_association(
    enrollment: Doc, section_doc: Doc, user: Doc, term: Doc | None
) -> tuple[str, Doc] | None:
    """enrollment → studentSectionAssociation / staffSectionAssociation; the begin date is the
    enrollment's, else its class's term start (the enrollment spans the term)."""
    begin = enrollment.get("beginDate") or (term or {}).get("startDate")
    if not begin or not user.get("identifier"):
        return None
    common = _optional(
        {
            "sectionReference": section_reference(section_doc),
            "beginDate": begin,
            "endDate": enrollment.get("endDate"),
        }
    )
    if enrollment.get("role") == "student":
        return "studentSectionAssociations", {
            "studentReference": {"studentUniqueId": user["identifier"]},
            **common,
        }
    if enrollment.get("role") in SECTION_STAFF_ROLES:
        return "staffSectionAssociations", {
            "staffReference": {"staffUniqueId": user["identifier"]},
            "classroomPositionDescriptor": cw.classroom_position_for(enrollment.get("primary")),
            **common,
        }
    return None


# --- gradebook ----------------------------------------------------------------------------------
def gradebook_entry(item: Doc, section_doc: Doc | None, namespace: str) -> Doc:
    """lineItem → gradebookEntry; its identifier is the lineItem's sourcedId in `namespace`."""
    return _optional(
        {
            "gradebookEntryIdentifier": item["sourcedId"],
            "namespace": namespace,
            "title": item.get("title"),
            "description": item.get("description"),
            "dateAssigned": item.get("assignDate"),
            "dueDate": item.get("dueDate"),
            "maxPoints": item.get("resultValueMax"),
            "sectionReference": section_reference(section_doc) if section_doc else None,
            "sourceSectionIdentifier": section_doc["sectionIdentifier"] if section_doc else None,
        }
    )


def student_gradebook_entry(res: Doc, entry: Doc, user: Doc) -> Doc | None:
    if not user.get("identifier"):
        return None
    return _optional(
        {
            "gradebookEntryReference": {
                "gradebookEntryIdentifier": entry["gradebookEntryIdentifier"],
                "namespace": entry["namespace"],
            },
            "studentReference": {"studentUniqueId": user["identifier"]},
            "numericGradeEarned": res.get("score"),
            "dateFulfilled": res.get("scoreDate"),
            "diagnosticStatement": res.get("comment"),
        }
    )
