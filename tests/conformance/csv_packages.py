"""Small OneRoster v1.1 CSV packages for the CSV suite's tests, valid unless a test breaks them."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

DLM = "2026-01-15T10:01:02.123Z"
COLUMNS = {
    "academicSessions": "sourcedId,status,dateLastModified,title,type,startDate,endDate,"
    "parentSourcedId,schoolYear",
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "courses": "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
    "orgSourcedId,subjects,subjectCodes",
    "classes": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
    "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    "users": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,"
    "givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
    "password",
    "enrollments": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
    "userSourcedId,role,primary,beginDate,endDate",
    "demographics": "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,"
    "asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
    "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
    "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
    "lineItems": "sourcedId,status,dateLastModified,title,description,assignDate,dueDate,"
    "classSourcedId,categorySourcedId,gradingPeriodSourcedId,resultValueMin,"
    "resultValueMax",
    "results": "sourcedId,status,dateLastModified,lineItemSourcedId,studentSourcedId,scoreStatus,"
    "score,scoreDate,comment",
    "categories": "sourcedId,status,dateLastModified,title",
    "resources": "sourcedId,status,dateLastModified,vendorResourceId,title,roles,importance,"
    "vendorId,applicationId",
    "classResources": "sourcedId,status,dateLastModified,title,classSourcedId,resourceSourcedId",
    "courseResources": "sourcedId,status,dateLastModified,title,courseSourcedId,resourceSourcedId",
}


def valid_rows() -> dict[str, list[dict[str, str]]]:
    return {
        "academicSessions": [
            {
                "sourcedId": "y2026",
                "title": "2025-2026",
                "type": "schoolYear",
                "startDate": "2025-08-01",
                "endDate": "2026-06-30",
                "schoolYear": "2026",
            },
            {
                "sourcedId": "t1",
                "title": "Fall",
                "type": "term",
                "startDate": "2025-08-20",
                "endDate": "2025-12-20",
                "parentSourcedId": "y2026",
                "schoolYear": "2026",
            },
            {
                "sourcedId": "gp1",
                "title": "GP 1",
                "type": "gradingPeriod",
                "startDate": "2025-08-20",
                "endDate": "2025-10-20",
                "parentSourcedId": "t1",
                "schoolYear": "2026",
            },
        ],
        "orgs": [
            {
                "sourcedId": "d1",
                "name": "Grand Bend ISD",
                "type": "district",
                "identifier": "255901",
            },
            {
                "sourcedId": "s1",
                "name": 'Grand Bend High, "North"',
                "type": "school",
                "identifier": "255901001",
                "parentSourcedId": "d1",
            },
        ],
        "courses": [
            {
                "sourcedId": "c1",
                "schoolYearSourcedId": "y2026",
                "title": "Algebra I",
                "courseCode": "ALG1",
                "grades": "09,10",
                "orgSourcedId": "s1",
                "subjects": "Mathematics",
            }
        ],
        "classes": [
            {
                "sourcedId": "k1",
                "title": "Algebra I - P1",
                "grades": "09",
                "courseSourcedId": "c1",
                "classCode": "ALG1-1",
                "classType": "scheduled",
                "schoolSourcedId": "s1",
                "termSourcedIds": "t1",
                "periods": "1",
            }
        ],
        "users": [
            {
                "sourcedId": "u1",
                "enabledUser": "true",
                "orgSourcedIds": "s1",
                "role": "teacher",
                "username": "jdoe",
                "userIds": "{LDAP:jdoe}",
                "givenName": "Jane",
                "familyName": "O'Brien",
            },
            {
                "sourcedId": "u2",
                "enabledUser": "true",
                "orgSourcedIds": "s1,d1",
                "role": "student",
                "username": "dcohen",
                "givenName": "דוד",
                "familyName": "כהן",
                "grades": "09",
                "agentSourcedIds": "u3",
            },
            {
                "sourcedId": "u3",
                "enabledUser": "false",
                "orgSourcedIds": "s1",
                "role": "parent",
                "username": "pcohen",
                "givenName": "בן-ציון",
                "familyName": "Cohen",
            },
        ],
        "enrollments": [
            {
                "sourcedId": "e1",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "u1",
                "role": "teacher",
                "primary": "true",
            },
            {
                "sourcedId": "e2",
                "classSourcedId": "k1",
                "schoolSourcedId": "s1",
                "userSourcedId": "u2",
                "role": "student",
                "primary": "false",
                "beginDate": "2025-08-20",
            },
        ],
        "demographics": [
            {
                "sourcedId": "u2",
                "birthDate": "2010-03-04",
                "sex": "male",
                "white": "true",
                "hispanicOrLatinoEthnicity": "false",
            }
        ],
        "lineItems": [
            {
                "sourcedId": "li1",
                "title": "Homework 1",
                "assignDate": "2025-09-01",
                "dueDate": "2025-09-08",
                "classSourcedId": "k1",
                "categorySourcedId": "cat1",
                "gradingPeriodSourcedId": "gp1",
                "resultValueMin": "0",
                "resultValueMax": "10",
            }
        ],
        "results": [
            {
                "sourcedId": "r1",
                "lineItemSourcedId": "li1",
                "studentSourcedId": "u2",
                "scoreStatus": "fully graded",
                "score": "9.5",
                "scoreDate": "2025-09-09",
            }
        ],
        "categories": [{"sourcedId": "cat1", "title": "Homework"}],
        "resources": [
            {
                "sourcedId": "res1",
                "vendorResourceId": "v-1",
                "title": "Textbook",
                "importance": "primary",
            }
        ],
        "classResources": [
            {"sourcedId": "cr1", "classSourcedId": "k1", "resourceSourcedId": "res1"}
        ],
        "courseResources": [
            {"sourcedId": "cor1", "courseSourcedId": "c1", "resourceSourcedId": "res1"}
        ],
    }


def manifest(modes: dict[str, str] | None = None) -> list[list[str]]:
    modes = {**{f: "bulk" for f in COLUMNS}, **(modes or {})}
    return (
        [["propertyName", "value"], ["manifest.version", "1.0"], ["oneroster.version", "1.1"]]
        + [[f"file.{f}", m] for f, m in modes.items()]
        + [["source.systemName", "Test SIS"], ["source.systemCode", "test"]]
    )


def _csv(rows: list[list[str]], crlf: bool = False) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    return out.getvalue()


def build(
    path: Path,
    rows: dict | None = None,
    *,
    columns: dict | None = None,
    manifest_rows: list[list[str]] | None = None,
    bom: bool = False,
    crlf: bool = False,
    raw: dict[str, str] | None = None,
) -> Path:
    """Write a zip; `rows` are dicts per file (missing values blank), `raw` replaces a file."""
    rows = valid_rows() if rows is None else rows
    columns = {**{f: c.split(",") for f, c in COLUMNS.items()}, **(columns or {})}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.csv", _csv(manifest_rows or manifest(), crlf))
        for file, records in rows.items():
            table = [columns[file]] + [
                [
                    r.get(c, DLM if c == "dateLastModified" else "active" if c == "status" else "")
                    for c in columns[file]
                ]
                for r in records
            ]
            text = (raw or {}).get(file) or _csv(table, crlf)
            zf.writestr(f"{file}.csv", ("\ufeff" if bom else "") + text)
    return path
