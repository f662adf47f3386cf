"""A small district as OneRoster CSV rows (one dict per row), for building test packages."""

from __future__ import annotations

import copy

from gateway.oneroster.csv.catalogue import catalogue

HEADERS = {f.name: f.header for f in catalogue().files}
T = "2026-01-15T10:01:02.123Z"


def _row(sourced_id: str, **values: str) -> dict[str, str]:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": T, **values}


BASE = {
    "orgs": [
        _row("org-d1", name="Grand Bend ISD", type="district", identifier="255901"),
        _row(
            "org-s1",
            name="Grand Bend High School",
            type="school",
            identifier="255901001",
            parentSourcedId="org-d1",
        ),
    ],
    "academicSessions": [
        _row(
            "as-y2026",
            title="2025-2026",
            type="schoolYear",
            startDate="2025-08-15",
            endDate="2026-06-01",
            schoolYear="2026",
        ),
        _row(
            "as-t1",
            title="Fall 2025",
            type="term",
            startDate="2025-08-15",
            endDate="2025-12-20",
            parentSourcedId="as-y2026",
            schoolYear="2026",
        ),
    ],
    "categories": [_row("cat-1", title="Homework")],
    "resources": [
        _row(
            "res-1",
            vendorResourceId="v-42",
            title="Algebra text",
            roles="student,teacher",
            importance="primary",
        )
    ],
    "courses": [
        _row(
            "crs-1",
            schoolYearSourcedId="as-y2026",
            title="Algebra I",
            courseCode="ALG1",
            grades="09,10",
            orgSourcedId="org-s1",
            subjects="Mathematics",
        ),
    ],
    "classes": [
        _row(
            "cls-1",
            title="Algebra I - P1",
            grades="09",
            courseSourcedId="crs-1",
            classCode="ALG1-1",
            classType="scheduled",
            location="Room 12",
            schoolSourcedId="org-s1",
            termSourcedIds="as-t1",
            periods="1,2",
        ),
    ],
    "users": [
        _row(
            "u-t1",
            enabledUser="true",
            orgSourcedIds="org-s1",
            role="teacher",
            username="jsmith",
            userIds="{LDAP:jsmith}",
            givenName="Jane",
            familyName="Smith",
            email="jsmith@gb.example",
        ),
        _row(
            "u-s1",
            enabledUser="TRUE",
            orgSourcedIds="org-s1",
            role="student",
            username="dcohen",
            userIds="{LDAP:dcohen},{SIS:604822}",
            givenName="דוד",
            familyName="כהן",
            identifier="604822",
            agentSourcedIds="u-p1",
            grades="09",
        ),
        _row(
            "u-s2",
            enabledUser="1",
            orgSourcedIds="org-s1",
            role="student",
            username="sobrien",
            givenName="Seán",
            familyName="O'Brien",
            middleName="בן-ציון",
            grades="10",
        ),
        _row(
            "u-p1",
            enabledUser="0",
            orgSourcedIds="org-s1",
            role="parent",
            username="mcohen",
            givenName="דוד",
            familyName="Cohen",
            agentSourcedIds="u-s1",
        ),
    ],
    "demographics": [
        _row(
            "u-s1",
            birthDate="2010-03-04",
            sex="male",
            white="false",
            asian="FALSE",
            hispanicOrLatinoEthnicity="0",
            cityOfBirth="חיפה",
        ),
    ],
    "enrollments": [
        _row(
            "enr-1",
            classSourcedId="cls-1",
            schoolSourcedId="org-s1",
            userSourcedId="u-t1",
            role="teacher",
            primary="true",
            beginDate="2025-08-15",
            endDate="2025-12-20",
        ),
        _row(
            "enr-2",
            classSourcedId="cls-1",
            schoolSourcedId="org-s1",
            userSourcedId="u-s1",
            role="student",
            primary="false",
        ),
        _row(
            "enr-3",
            classSourcedId="cls-1",
            schoolSourcedId="org-s1",
            userSourcedId="u-s2",
            role="student",
        ),
    ],
    "lineItems": [
        _row(
            "li-1",
            title="Quiz 1",
            description="Linear equations",
            assignDate="2025-09-01",
            dueDate="2025-09-08",
            classSourcedId="cls-1",
            categorySourcedId="cat-1",
            gradingPeriodSourcedId="as-t1",
            resultValueMin="0",
            resultValueMax="100",
        ),
    ],
    "results": [
        _row(
            "res-r1",
            lineItemSourcedId="li-1",
            studentSourcedId="u-s1",
            scoreStatus="fully graded",
            score="93.5",
            scoreDate="2025-09-09",
            comment="טוב מאוד",
        ),
    ],
    "classResources": [
        _row("cr-1", title="Text", classSourcedId="cls-1", resourceSourcedId="res-1")
    ],
    "courseResources": [
        _row("cor-1", title="Text", courseSourcedId="crs-1", resourceSourcedId="res-1")
    ],
}


def district() -> dict[str, list[dict[str, str]]]:
    """A fresh deep copy of the base district, to modify freely."""
    return copy.deepcopy(BASE)
