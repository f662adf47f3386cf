"""The CSV import's set-based users' pass writes exactly the Ed-Fi documents the pure translation
(to_edfi, as the record-by-record path calls it) gives for the stored OneRoster records: students
with demographics, races and several orgs, staff with assignments, contacts with agents."""

from __future__ import annotations

import json
from typing import Any

from gateway.edfi.definitions import registry
from gateway.mapping.to_edfi import per_record as reverse
from gateway.mapping.to_edfi import translate as to_edfi
from gateway.mapping.to_edfi.bulk_passes import PEOPLE
from gateway.mapping.to_oneroster.project import Projector
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import T

do_import = csv_suite.do_import
ED = "uri://ed-fi.org/"
SERVER = ("id", "_etag", "_lastModifiedDate", "link")


def _row(sourced_id: str, **values: str) -> dict[str, str]:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": T, **values}


def _org(sid: str, identifier: str, kind: str, parent: str = "") -> dict[str, str]:
    return _row(sid, name=sid, type=kind, identifier=identifier, parentSourcedId=parent)


def _user(sid: str, role: str, orgs: str, **values: str) -> dict[str, str]:
    return _row(sid, enabledUser="true", orgSourcedIds=orgs, role=role, username=sid, **values)


def _class(sid: str, school: str) -> dict[str, str]:
    return _row(
        sid,
        title=sid,
        courseSourcedId="crs-1",
        classCode=sid.upper(),
        classType="scheduled",
        schoolSourcedId=school,
        termSourcedIds="as-t1",
    )


def _enrollment(sid: str, klass: str, school: str, user: str, role: str, begin: str):
    return _row(
        sid,
        classSourcedId=klass,
        schoolSourcedId=school,
        userSourcedId=user,
        role=role,
        beginDate=begin,
    )


def package() -> dict[str, list[dict[str, str]]]:
    return {
        "orgs": [
            _org("org-d1", "255901", "district"),
            _org("org-s1", "255901001", "school", "org-d1"),
            _org("org-s2", "255901002", "school", "org-d1"),
            _org("org-x", "not-edfi", "department", "org-d1"),
        ],
        "academicSessions": [
            _row(
                "as-t1",
                title="Fall 2025",
                type="term",
                startDate="2025-08-15",
                endDate="2025-12-20",
                schoolYear="2026",
            )
        ],
        "courses": [
            _row("crs-1", title="Algebra I", courseCode="ALG1", orgSourcedId="org-s1"),
        ],
        "classes": [_class("cls-1", "org-s1"), _class("cls-2", "org-s2")],
        "users": [
            # several orgs (two schools, the district and one Ed-Fi does not know), every
            # contact detail, a middle name and a login different from the identifier
            _user(
                "u-s1",
                "student",
                "org-s1,org-s2,org-d1,org-x",
                identifier="604822",
                givenName="Lisa",
                middleName="Ann",
                familyName="Woods",
                email="lisa@gb.example",
                phone="555-0100",
                sms="555-0101",
                grades="09,10",
                agentSourcedIds="u-p1",
            ),
            # sms only (a phone that takes texts), no demographics, a login equal to its id
            _row(
                "u-s2",
                enabledUser="true",
                orgSourcedIds="org-s1",
                role="student",
                username="604823",
                identifier="604823",
                givenName="Seán",
                familyName="O'Brien",
                sms="555-0200",
                grades="10",
            ),
            # no identifier: stays OneRoster-only
            _user("u-s3", "student", "org-s1", givenName="No", familyName="Id", grades="09"),
            _user(
                "u-t1",
                "teacher",
                "org-s1,org-s2",
                identifier="207219",
                givenName="Joe",
                familyName="Ramirez",
                phone="555-0300",
                sms="555-0300",
            ),
            _user(
                "u-a1",
                "administrator",
                "org-d1",
                identifier="207220",
                givenName="Ana",
                familyName="Díaz",
            ),
            # agents: a student with an identifier, one without, and a teacher
            _user(
                "u-p1",
                "parent",
                "org-s1",
                identifier="C-1",
                givenName="דוד",
                familyName="כהן",
                email="dc@example.org",
                agentSourcedIds="u-s1,u-s2,u-s3,u-t1",
            ),
            _user(
                "u-g1",
                "guardian",
                "org-s2",
                identifier="C-2",
                givenName="Mia",
                familyName="Park",
                agentSourcedIds="u-s2",
            ),
        ],
        "demographics": [
            _row(
                "u-s1",
                birthDate="2010-03-04",
                sex="female",
                asian="true",
                white="true",
                blackOrAfricanAmerican="false",
                hispanicOrLatinoEthnicity="true",
                countryOfBirthCode="US",
                stateOfBirthAbbreviation="TX",
                cityOfBirth="Austin",
            ),
        ],
        "enrollments": [
            _enrollment("e-1", "cls-1", "org-s1", "u-s1", "student", "2025-08-20"),
            _enrollment("e-2", "cls-2", "org-s2", "u-s1", "student", "2025-09-01"),
            _enrollment("e-3", "cls-1", "org-s1", "u-s2", "student", "2025-08-18"),
            _enrollment("e-4", "cls-1", "org-s1", "u-t1", "teacher", "2025-08-15"),
            _enrollment("e-5", "cls-2", "org-s2", "u-t1", "teacher", "2025-08-16"),
        ],
    }


def _expected(session: Any) -> dict[str, list[dict[str, Any]]]:
    """The pure translation of the stored records: first enrollment dates per school, as the
    package gives them."""
    first_days = {
        "u-s1": {"org-s1": "2025-08-20", "org-s2": "2025-09-01"},
        "u-s2": {"org-s1": "2025-08-18"},
        "u-t1": {"org-s1": "2025-08-15", "org-s2": "2025-08-16"},
    }

    def lookup(entity: str, sourced_id: str) -> dict[str, Any] | None:
        return reverse.load(session, entity, sourced_id)

    out: dict[str, list[dict[str, Any]]] = {r: [] for r in PEOPLE}
    for sid in ("u-s1", "u-s2", "u-s3", "u-t1", "u-a1", "u-p1", "u-g1"):
        user = reverse.load(session, "user", sid)
        assert user is not None
        dates = first_days.get(sid, {})
        if user["role"] == "student":
            demographics = reverse.load(session, "demographics", sid)
            doc = to_edfi.student(user, demographics)
            if doc is None or "birthDate" not in doc:  # OneRoster-only until it has one
                continue
            out["students"].append(doc)
            out["studentEducationOrganizationAssociations"] += (
                to_edfi.student_education_organization_associations(user, demographics, lookup)
            )
            out["studentSchoolAssociations"] += to_edfi.student_school_associations(
                user, dates, lookup
            )
        elif user["role"] in to_edfi.STAFF_ROLES:
            out["staffs"].append(to_edfi.staff(user))
            out["staffEducationOrganizationAssignmentAssociations"] += to_edfi.staff_assignments(
                user, dates, lookup
            )
        else:
            out["contacts"].append(to_edfi.contact(user))
            out["studentContactAssociations"] += to_edfi.student_contact_associations(user, lookup)
    placed = {d["studentUniqueId"] for d in out["students"]}
    out["studentContactAssociations"] = [
        a
        for a in out["studentContactAssociations"]
        if a["studentReference"]["studentUniqueId"] in placed
    ]
    return out


def _comparable(resource: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents without server fields, empty collections (stored documents leave them out, as
    to_edfi does) and properties the Ed-Fi resource has no place for (a student's loginId)."""
    held = {p["name"] for p in registry().resources[resource].properties}

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if k not in SERVER}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    cleaned = [
        {k: v for k, v in plain(d).items() if v not in ([], None) and k in held} for d in docs
    ]
    return sorted(cleaned, key=lambda d: json.dumps(d, sort_keys=True))


def test_the_users_pass_writes_what_the_pure_translation_gives(tmp_path, do_import, db_session):
    report = do_import(write_package(tmp_path, package()))
    assert report.status == "applied", report.as_dict()
    expected = _expected(db_session)
    edfi = Projector(db_session)
    for resource in PEOPLE:
        got, want = edfi.fetch(resource), expected[resource]
        assert _comparable(resource, got) == _comparable(resource, want), resource

    # the translation itself, for the richest records: nothing above can pass by both sides
    # losing the same field
    (seoa_s2, seoa_s1, seoa_d1) = sorted(
        edfi.fetch("studentEducationOrganizationAssociations", studentUniqueId=["604822"]),
        key=lambda d: -d["educationOrganizationReference"]["educationOrganizationId"],
    )
    assert seoa_d1["educationOrganizationReference"]["educationOrganizationId"] == 255901
    assert sorted(r["raceDescriptor"] for r in seoa_s1["races"]) == [
        ED + "RaceDescriptor#Asian",
        ED + "RaceDescriptor#White",
    ]
    assert seoa_s1["hispanicLatinoEthnicity"] is True
    assert seoa_s1["sexDescriptor"] == ED + "SexDescriptor#Female"
    assert [t["telephoneNumber"] for t in seoa_s2["telephones"]] == ["555-0100", "555-0101"]
    assert seoa_s2["telephones"][1]["textMessageCapabilityIndicator"] is True
    (student,) = edfi.fetch("students", studentUniqueId=["604822"])
    assert (student["birthDate"], student["birthCity"], student["middleName"]) == (
        "2010-03-04",
        "Austin",
        "Ann",
    )
    assert student["birthStateAbbreviationDescriptor"].endswith("#TX")
    # no birth date (Ed-Fi requires one): OneRoster-only, nothing invented
    assert edfi.fetch("students", studentUniqueId=["604823"]) == []
    entries = {
        (a["studentReference"]["studentUniqueId"], a["schoolReference"]["schoolId"]): a
        for a in edfi.fetch("studentSchoolAssociations")
    }
    assert sorted((k, v["entryDate"]) for k, v in entries.items()) == [
        (("604822", 255901001), "2025-08-20"),
        (("604822", 255901002), "2025-09-01"),
    ]
    assignments = edfi.fetch("staffEducationOrganizationAssignmentAssociations")
    assert sorted(
        (
            a["staffReference"]["staffUniqueId"],
            a["educationOrganizationReference"]["educationOrganizationId"],
            a["beginDate"],
        )
        for a in assignments
    ) == [("207219", 255901001, "2025-08-15"), ("207219", 255901002, "2025-08-16")]
    associations = edfi.fetch("studentContactAssociations")
    assert sorted(
        (a["contactReference"]["contactUniqueId"], a["studentReference"]["studentUniqueId"])
        for a in associations
    ) == [("C-1", "604822")]
    assert [s["studentUniqueId"] for s in edfi.fetch("students", studentUniqueId=["u-s3"])] == []
