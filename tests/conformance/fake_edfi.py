"""A small Ed-Fi ODS/API 7 lookalike for the runner's tests; `faults` switch on deliberate bugs."""

from __future__ import annotations

import itertools
import json
import uuid

from werkzeug.wrappers import Request, Response

from conformance.schemas import edfi_resource_paths
from tests.conformance.fake_edfi_model import (
    DATA,
    KEY,
    KEYS,
    LEA,
    NAMESPACE,
    OTHER_LEA,
    SCHOOLS,
    SECRET,
    dig,
    problem,
)
from tests.conformance.fake_edfi_people import People
from tests.conformance.fake_edfi_resources import Resources

# the collections of the DS5 OpenAPI (the fake keeps records of KEYS only)
DS5_RESOURCES = [path.split("/")[2] for path in edfi_resource_paths()]

__all__ = ["KEY", "LEA", "OTHER_LEA", "SECRET", "FakeEdFi"]


class FakeEdFi(Resources):
    def __init__(self, faults=frozenset()) -> None:
        self.faults = set(faults)
        self.version = itertools.count(1)
        self.newest = 0
        self.store: dict[str, dict[str, dict]] = {k: {} for k in KEYS}
        self.deletes: dict[str, list] = {k: [] for k in KEYS}
        self.key_changes: dict[str, list] = {k: [] for k in KEYS}
        self.tokens: set[str] = set()
        self.people = People(self.faults)
        for sid, lea in SCHOOLS.items():
            self.put_new(
                "schools",
                {
                    "schoolId": sid,
                    "nameOfInstitution": f"School {sid}",
                    "localEducationAgencyReference": {"localEducationAgencyId": lea},
                    "gradeLevels": [
                        {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
                    ],
                    "educationOrganizationCategories": [
                        {
                            "educationOrganizationCategoryDescriptor": "uri://ed-fi.org/"
                            "EducationOrganizationCategoryDescriptor#School"
                        }
                    ],
                },
            )
        for n in range(1 if "one_student" in self.faults else 30):
            self.put_new(
                "students",
                {
                    "studentUniqueId": f"S{n:03}",
                    "firstName": "Ana",
                    "lastSurname": "Cohen",
                    "birthDate": "01/01/2010" if "bad_birth_date" in self.faults else "2010-01-01",
                },
            )
        for ns, name, code in (
            ("uri://ed-fi.org/GradeLevelDescriptor", "gradeLevelDescriptors", "Ninth grade"),
            (
                "uri://ed-fi.org/CourseIdentificationSystemDescriptor",
                "courseIdentificationSystemDescriptors",
                "LEA course code",
            ),
        ):
            short = {} if "descriptor_no_short" in self.faults else {"shortDescription": code}
            self.put_new(name, {"namespace": ns, "codeValue": code, **short})
        for school in (255901001, 255901002):
            self.put_new(
                "sessions",
                {
                    "sessionName": "Fall",
                    "schoolReference": {"schoolId": school},
                    "schoolYearTypeReference": {"schoolYear": 2026},
                    "termDescriptor": "uri://ed-fi.org/TermDescriptor#Fall Semester",
                    "beginDate": "2025-08-20",
                    "endDate": "2025-12-20",
                    "totalInstructionalDays": 80,
                },
            )
        if "read_other_org" in self.faults:  # a course the client must not see
            self.put_new(
                "courses",
                {
                    "courseCode": "OTHER-1",
                    "courseTitle": "Other district's course",
                    "numberOfParts": 1,
                    "identificationCodes": [
                        {
                            "courseIdentificationSystemDescriptor": "uri://ed-fi.org/"
                            "CourseIdentificationSystemDescriptor#LEA course code",
                            "identificationCode": "OTHER-1",
                        }
                    ],
                    "educationOrganizationReference": {"educationOrganizationId": OTHER_LEA},
                },
            )
        if "query_ignored" in self.faults:  # a second course, so an ignored filter shows
            code = {
                "courseIdentificationSystemDescriptor": "uri://ed-fi.org/"
                "CourseIdentificationSystemDescriptor#LEA course code",
                "identificationCode": "ALG-1",
            }
            self.put_new(
                "courses",
                {
                    "courseCode": "ALG-1",
                    "courseTitle": "Algebra I",
                    "numberOfParts": 1,
                    "identificationCodes": [code],
                    "educationOrganizationReference": {"educationOrganizationId": LEA},
                },
            )

    # --- storage --------------------------------------------------------------------------
    def key_of(self, name, body):
        return tuple(str(dig(body, p)) for p in KEYS[name].values())

    def put_new(self, name, body, rid=None):
        rid = rid or uuid.uuid4().hex
        self.newest = next(self.version)
        self.store[name][rid] = {
            **body,
            "id": rid,
            "_etag": str(self.newest),
            "_lastModifiedDate": "2026-01-13T02:11:20.556Z",
            "_changeVersion": self.newest,
        }
        return rid

    def find(self, name, key):
        return next(
            (rid for rid, rec in self.store[name].items() if self.key_of(name, rec) == key), None
        )

    def visible(self, name, rec) -> bool:
        if "read_other_org" in self.faults:
            return True
        edorg = (
            rec.get("educationOrganizationReference", {}).get("educationOrganizationId")
            or dig(rec, "schoolReference.schoolId")
            or rec.get("schoolId")
        )
        return edorg is None or self.ours(edorg)

    def ours(self, edorg) -> bool:
        return edorg == LEA or SCHOOLS.get(edorg) == LEA

    # --- plumbing -------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.dispatch(request)
        sent = request.headers.get("correlation-id") or request.args.get("correlationId")
        if (
            sent
            and response.mimetype == "application/problem+json"
            and "correlation_ignored" not in self.faults
        ):
            body = json.loads(response.get_data())
            response.set_data(json.dumps({**body, "correlationId": sent}))
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        host = request.host_url.rstrip("/")
        if path == "/":
            version = "v7" if "discovery_version_text" in self.faults else "7.3"
            return self.json(
                {
                    "version": version,
                    "suite": "3",
                    "apiMode": "Sandbox",
                    "dataModels": [{"name": "Ed-Fi", "version": "5.2.0"}],
                    "urls": {
                        "dependencies": host + "/metadata/data/v3/dependencies",
                        "openApiMetadata": host + "/metadata",
                        "oauth": host + "/oauth/token",
                        "dataManagementApi": host + "/data/v3",
                        "changeQueries": host + "/changeQueries/v1",
                    },
                }
            )
        if path == "/health":
            if "health_json" in self.faults:
                return self.json({"status": "ok"})
            return Response("Healthy", mimetype="text/plain")
        if path.rstrip("/") == "/oauth/token":
            return self.token(request)
        if path == "/oauth/token_info":
            if "no_token_info" in self.faults:
                return problem(404, "not-found")
            body = request.get_json(silent=True) or {}
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if "token_info_lenient" not in self.faults:
                if not body.get("token"):
                    return problem(400, "bad-request", "An invalid token was provided")
                if bearer not in self.tokens:
                    return Response(status=401)
            return self.json(
                {
                    "active": True,
                    "client_id": KEY,
                    "education_organizations": [{"education_organization_id": LEA}],
                    "namespace_prefixes": [NAMESPACE],
                }
            )
        auth = request.headers.get("Authorization", "")
        f = self.faults
        if (
            path.startswith("/metadata/data/v3/")
            and path.endswith(".json")
            and ("metadata_missing" in f)
        ):
            return problem(404, "not-found")
        known = auth.startswith("Bearer ") and (auth[7:] in self.tokens or "any_token_ok" in f)
        if not (known or (not auth and "anonymous_ok" in f)):
            if "generic_wording" in f:
                return problem(401, "security:authentication", "A valid bearer token is required.")
            reason = "Authorization header is missing." if not auth else "Invalid token"
            return problem(
                401,
                "security:authentication",
                "The caller could not be authenticated.",
                errors=[reason],
            )
        if path == "/metadata/data/v3/resources/swagger.json":
            return self.json({"openapi": "3.0.1", "paths": {"/ed-fi/students": {}}})
        if path == "/metadata/data/v3/descriptors/swagger.json":
            return self.json({"openapi": "3.0.1", "paths": {"/ed-fi/gradeLevelDescriptors": {}}})
        if path == "/metadata/data/v3/dependencies":
            order = ["schools", "students", "studentSchoolAssociations", *KEYS]
            # every other DS5 resource is served too, with no records
            order += [r for r in DS5_RESOURCES if r not in KEYS]
            if "resource_unserved" in f:
                order.remove("academicWeeks")
            if "deps_wrong_order" in f:
                order = ["studentSchoolAssociations", *order]
            return self.json(
                [
                    {"resource": f"/ed-fi/{r}", "order": n, "operations": ["Create", "Update"]}
                    for n, r in enumerate(dict.fromkeys(order), 1)
                ]
            )
        if path == "/changeQueries/v1/availableChangeVersions" and "versions_missing" in f:
            return problem(404, "not-found")
        if path == "/changeQueries/v1/availableChangeVersions":
            newest = 0 if "versions_frozen" in f else self.newest
            return self.json({"oldestChangeVersion": 0, "newestChangeVersion": newest})
        if path.startswith(DATA):  # staff, employment and validation wording (exact names)
            answered = self.people.answer(request, path[len(DATA) :].strip("/").split("/"))
            if answered is not None:
                return answered
        if "case_sensitive_routes" in f and not path.startswith(DATA):
            return problem(404, "not-found")
        if "case_sensitive_routes" in f and path[len(DATA) :].split("/")[0] not in (
            *KEYS,
            *DS5_RESOURCES,
        ):
            return problem(404, "not-found")
        if not path.lower().startswith(DATA):
            return problem(404, "not-found")
        parts = path[len(DATA) :].strip("/").split("/")
        name = next((k for k in KEYS if k.lower() == parts[0].lower()), None)
        if name is None and parts[0] in DS5_RESOURCES and len(parts) == 1:
            if "resource_unserved" in f and parts[0] == "academicWeeks":
                return problem(404, "not-found")
            return self.json([])
        if name is None:
            return problem(404, "not-found")
        return self.resource(request, name, parts[1:])

    def token(self, request: Request) -> Response:
        def oauth_error(status, error):
            return Response(json.dumps({"error": error}), status, content_type="application/json")

        if request.is_json:
            if "no_token_json" in self.faults:
                return oauth_error(400, "invalid_request")
            form = request.get_json()
        else:
            form = request.form
        auth = request.authorization
        key, secret = (
            (auth.username, auth.password)
            if auth
            else (form.get("client_id"), form.get("client_secret"))
        )
        if (auth and "no_basic" in self.faults) or (
            not auth and not request.is_json and "no_form_credentials" in self.faults
        ):
            return oauth_error(401, "invalid_client")
        if (key, secret) != (KEY, SECRET):
            if "token_errors_wrong" in self.faults:
                return oauth_error(400, "invalid_grant")
            return oauth_error(401, "invalid_client")
        if "grant_type" not in form:
            return oauth_error(400, "invalid_request")
        if form["grant_type"] != "client_credentials":
            return oauth_error(400, "unsupported_grant_type")
        if form.get("scope") not in (None, "", "edfi.read edfi.write"):
            return oauth_error(400, "invalid_scope")
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return self.json({"access_token": token, "expires_in": 3600, "token_type": "bearer"})

    def json(self, body, status=200, headers=None) -> Response:
        return Response(json.dumps(body), status, headers=headers, content_type="application/json")
