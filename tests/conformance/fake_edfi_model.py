"""Constants and helpers of the fake Ed-Fi API: its organizations, natural keys, references."""

from __future__ import annotations

import json
import uuid

from werkzeug.wrappers import Response

KEY, SECRET = "edfi-key", "edfi-secret"
LEA, OTHER_LEA = 255901, 255902
SCHOOLS = {255901001: LEA, 255901002: LEA, 255902001: OTHER_LEA}
NAMESPACE = "uri://grandbend.edu"
DATA = "/data/v3/ed-fi/"
# natural key: flattened key field → where it sits in the body
KEYS = {
    "courses": {
        "courseCode": "courseCode",
        "educationOrganizationId": "educationOrganizationReference.educationOrganizationId",
    },
    "sessions": {
        "schoolId": "schoolReference.schoolId",
        "schoolYear": "schoolYearTypeReference.schoolYear",
        "sessionName": "sessionName",
    },
    "courseOfferings": {
        "localCourseCode": "localCourseCode",
        "schoolId": "schoolReference.schoolId",
        "schoolYear": "sessionReference.schoolYear",
        "sessionName": "sessionReference.sessionName",
    },
    "studentSchoolAssociations": {
        "entryDate": "entryDate",
        "schoolId": "schoolReference.schoolId",
        "studentUniqueId": "studentReference.studentUniqueId",
    },
    "students": {"studentUniqueId": "studentUniqueId"},
    "schools": {"schoolId": "schoolId"},
    "gradeLevelDescriptors": {"namespace": "namespace", "codeValue": "codeValue"},
    "courseIdentificationSystemDescriptors": {"namespace": "namespace", "codeValue": "codeValue"},
    "descriptorMappings": {
        "namespace": "namespace",
        "value": "value",
        "mappedNamespace": "mappedNamespace",
        "mappedValue": "mappedValue",
    },
}
REFERENCES = {  # reference property → (target resource, its key fields)
    "courseReference": ("courses", ("courseCode", "educationOrganizationId")),
    "sessionReference": ("sessions", ("schoolId", "schoolYear", "sessionName")),
    "studentReference": ("students", ("studentUniqueId",)),
    "schoolReference": ("schools", ("schoolId",)),
}
KEY_UPDATABLE = {"sessions", "studentSchoolAssociations"}


def dig(body, path):
    for part in path.split("."):
        body = body.get(part) if isinstance(body, dict) else None
    return body


def problem(status: int, kind: str, detail: str = "", errors=None, validation=None) -> Response:
    body = {
        "type": "urn:ed-fi:api:" + kind,
        "title": kind,
        "status": status,
        "detail": detail,
        "correlationId": uuid.uuid4().hex,
    }
    if errors:
        body["errors"] = errors
    if validation:
        body["validationErrors"] = validation
    return Response(json.dumps(body), status, content_type="application/problem+json")
