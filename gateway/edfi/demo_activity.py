"""The demo's synthesized activity: attendance, program participation and assessment results.

The Grand Bend sample download has none of these, while the Ed-Fi ODS/API's populated template
does (and the ODS/API's own test suite reads them there). `synthesized_activity` derives them from
the demo's enrollments as `sample/synthesized-activity.json` describes: deterministic, the n-th
student in studentUniqueId order, labelled synthesized in the README.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gateway.edfi.interchange import Record

ACTIVITY = Path(__file__).resolve().parent / "sample" / "synthesized-activity.json"


def synthesized_activity(enrollments: list[Record]) -> list[Record]:
    """Records synthesized from the demo's school and section enrollments (`Record`s of
    studentSchoolAssociations and studentSectionAssociations, in the order they were made)."""
    plan = json.loads(ACTIVITY.read_text(encoding="utf-8"))
    schools: dict[str, dict[str, Any]] = {}
    first_section: dict[str, dict[str, Any]] = {}
    for record in enrollments:
        student = record.body["studentReference"]["studentUniqueId"]
        if record.resource == "studentSchoolAssociations":
            schools.setdefault(student, record.body)
        elif record.resource == "studentSectionAssociations":
            first_section.setdefault(student, record.body)
    students = sorted(schools)
    return (
        _attendance(plan["attendance"], students, first_section)
        + _programs(plan["programs"], students, schools)
        + _assessment(plan["assessment"], students, schools)
    )


def _later(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def _student(unique_id: str) -> dict[str, str]:
    return {"studentUniqueId": unique_id}


def _attendance(
    plan: dict[str, Any], students: list[str], first_section: dict[str, dict[str, Any]]
) -> list[Record]:
    categories, offsets = plan["categories"], plan["daysAfterBegin"]
    records = []
    for n, unique_id in enumerate(students):
        enrolled = first_section.get(unique_id)
        if enrolled is None:
            continue
        records.append(
            Record(
                "studentSectionAttendanceEvents",
                {
                    "studentReference": _student(unique_id),
                    "sectionReference": dict(enrolled["sectionReference"]),
                    "attendanceEventCategoryDescriptor": categories[n % len(categories)],
                    "eventDate": _later(enrolled["beginDate"], offsets[n % len(offsets)]),
                },
                f"synthesized attendance event of student {unique_id}",
            )
        )
    return records


def _programs(
    plans: list[dict[str, Any]], students: list[str], schools: dict[str, dict[str, Any]]
) -> list[Record]:
    records = []
    for plan in plans:
        chosen = students[plan["offset"] :: plan["every"]]
        exited = plan["exited"]
        for k, unique_id in enumerate(chosen):
            enrolled = schools[unique_id]
            body = {
                "studentReference": _student(unique_id),
                "educationOrganizationReference": {
                    "educationOrganizationId": enrolled["schoolReference"]["schoolId"]
                },
                "programReference": dict(plan["programReference"]),
                "beginDate": enrolled["entryDate"],
                **plan["fields"],
            }
            if exited is not None and k % exited["every"] == 0:
                body.update(exited["fields"])
            records.append(
                Record(
                    plan["resource"],
                    body,
                    f"synthesized {plan['programReference']['programName']} participation "
                    f"of student {unique_id}",
                )
            )
    return records


def _assessment(
    plan: dict[str, Any], students: list[str], schools: dict[str, dict[str, Any]]
) -> list[Record]:
    document = copy.deepcopy(plan["document"])
    key = {
        "assessmentIdentifier": document["assessmentIdentifier"],
        "namespace": document["namespace"],
    }
    source = f"synthesized assessment {key['assessmentIdentifier']}"
    codes = [str(i) for i in range(1, plan["items"] + 1)]
    records = [Record("assessments", document, source)]
    records += [
        Record(
            "assessmentItems",
            {
                "assessmentReference": dict(key),
                "identificationCode": code,
                "assessmentItemCategoryDescriptor": plan["itemCategory"],
                "maxRawScore": 1,
            },
            f"{source}, item {code}",
        )
        for code in codes
    ]
    objective = plan["objective"]
    records.append(
        Record(
            "objectiveAssessments",
            {
                "assessmentReference": dict(key),
                **objective,
                "maxRawScore": len(codes),
                "assessmentItems": [
                    {"assessmentItemReference": {**key, "identificationCode": code}}
                    for code in codes
                ],
            },
            f"{source}, objective {objective['identificationCode']}",
        )
    )
    for n, unique_id in enumerate(students[:: plan["every"]]):
        correct = n % (len(codes) + 1)
        enrolled = schools[unique_id]
        score = {
            "assessmentReportingMethodDescriptor": plan["reportingMethod"],
            "resultDatatypeTypeDescriptor": plan["resultDatatype"],
            "result": str(correct),
        }
        records.append(
            Record(
                "studentAssessments",
                {
                    "studentAssessmentIdentifier": f"{key['assessmentIdentifier']}-{unique_id}",
                    "assessmentReference": dict(key),
                    "studentReference": _student(unique_id),
                    "administrationDate": _later(enrolled["entryDate"], plan["daysAfterEntry"])
                    + "T09:00:00Z",
                    "reportedSchoolReference": {
                        "schoolId": enrolled["schoolReference"]["schoolId"]
                    },
                    "whenAssessedGradeLevelDescriptor": enrolled["entryGradeLevelDescriptor"],
                    "scoreResults": [score],
                    "items": [
                        {
                            "assessmentItemReference": {**key, "identificationCode": code},
                            "assessmentItemResultDescriptor": (
                                plan["correct"] if i < correct else plan["incorrect"]
                            ),
                        }
                        for i, code in enumerate(codes)
                    ],
                    "studentObjectiveAssessments": [
                        {
                            "objectiveAssessmentReference": {
                                **key,
                                "identificationCode": objective["identificationCode"],
                            },
                            "scoreResults": [score],
                        }
                    ],
                },
                f"{source}, result of student {unique_id}",
            )
        )
    return records
