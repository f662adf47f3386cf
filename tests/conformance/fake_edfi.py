"""A small Ed-Fi ODS/API 7 lookalike for the runner's tests; `faults` switch on deliberate bugs."""

from __future__ import annotations

import base64
import itertools
import json
import uuid

from werkzeug.wrappers import Request, Response

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


class FakeEdFi:
    def __init__(self, faults=frozenset()) -> None:
        self.faults = set(faults)
        self.version = itertools.count(1)
        self.newest = 0
        self.store: dict[str, dict[str, dict]] = {k: {} for k in KEYS}
        self.deletes: dict[str, list] = {k: [] for k in KEYS}
        self.key_changes: dict[str, list] = {k: [] for k in KEYS}
        self.tokens: set[str] = set()
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
        for n in range(23):
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
            self.put_new(name, {"namespace": ns, "codeValue": code, "shortDescription": code})
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
        return self.dispatch(Request(environ))(environ, start_response)

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
        if path.rstrip("/") == "/oauth/token":
            return self.token(request)
        if path == "/oauth/token_info":
            return self.json(
                {
                    "active": True,
                    "client_id": KEY,
                    "education_organizations": [{"education_organization_id": LEA}],
                    "namespace_prefixes": [NAMESPACE],
                }
            )
        auth = request.headers.get("Authorization", "")
        if not (auth.startswith("Bearer ") and auth[7:] in self.tokens):
            return problem(401, "security:authentication", "A valid bearer token is required.")
        if path == "/metadata/data/v3/resources/swagger.json":
            return self.json({"openapi": "3.0.1", "paths": {"/ed-fi/students": {}}})
        if path == "/metadata/data/v3/descriptors/swagger.json":
            return self.json({"openapi": "3.0.1", "paths": {"/ed-fi/gradeLevelDescriptors": {}}})
        if path == "/metadata/data/v3/dependencies":
            order = ["schools", "students", "studentSchoolAssociations", *KEYS]
            return self.json(
                [
                    {"resource": f"/ed-fi/{r}", "order": n, "operations": ["Create", "Update"]}
                    for n, r in enumerate(dict.fromkeys(order), 1)
                ]
            )
        if path == "/changeQueries/v1/availableChangeVersions":
            return self.json({"oldestChangeVersion": 0, "newestChangeVersion": self.newest})
        if not path.lower().startswith(DATA):
            return problem(404, "not-found")
        parts = path[len(DATA) :].strip("/").split("/")
        name = next((k for k in KEYS if k.lower() == parts[0].lower()), None)
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
        if (key, secret) != (KEY, SECRET):
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

    # --- resources ------------------------------------------------------------------------
    def public(self, name, rec):
        out = {k: v for k, v in rec.items() if k != "_changeVersion"}
        for prop, (target, _) in REFERENCES.items():
            if prop in out:
                out[prop] = {**out[prop], "link": {"rel": target, "href": f"/ed-fi/{target}/x"}}
        if "educationOrganizationReference" in out:
            out["educationOrganizationReference"] = {
                **out["educationOrganizationReference"],
                "link": {"rel": "EducationOrganization", "href": "/ed-fi/schools/x"},
            }
        return out

    def resource(self, request: Request, name: str, rest: list[str]) -> Response:
        method = request.method
        if method == "GET" and rest and rest[0] in ("deletes", "keyChanges"):
            log = self.deletes[name] if rest[0] == "deletes" else self.key_changes[name]
            low = int(request.args.get("minChangeVersion", 0))
            if "no_deletes" in self.faults and rest[0] == "deletes":
                return self.json([])
            return self.json([e for e in log if e["changeVersion"] >= low])
        if method == "GET" and rest and rest[0] == "partitions":
            return self.partitions(request, name)
        if method == "GET" and not rest:
            return self.collection(request, name)
        if method == "POST" and not rest:
            return self.upsert(request, name)
        if not rest or rest[0] not in self.store[name]:
            return problem(404, "not-found", "Resource not found.")
        rid = rest[0]
        rec = self.store[name][rid]
        if not self.visible(name, rec):
            return problem(403, "security:authorization")
        etag = f'"{rec["_etag"]}"'
        if method == "GET":
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            return self.json(self.public(name, rec), headers={"ETag": etag})
        if_match = request.headers.get("If-Match")
        if if_match and if_match != etag and "no_etag_check" not in self.faults:
            return problem(412, "optimistic-lock-failed", "The resource was modified.")
        if method == "DELETE":
            return self.delete(name, rid)
        if method == "PUT":
            return self.replace(request, name, rid)
        return problem(405, "method-not-allowed")

    def collection(self, request: Request, name: str) -> Response:
        args = request.args
        recs = [r for r in self.store[name].values() if self.visible(name, r)]
        for field, path in KEYS[name].items():
            if field in args:
                recs = [r for r in recs if str(dig(r, path)) == args[field]]
        extra = {
            "courseTitle": "courseTitle",
            "localEducationAgencyId": "localEducationAgencyReference.localEducationAgencyId",
        }
        for field, path in extra.items():
            if field in args:
                recs = [r for r in recs if str(dig(r, path)) == args[field]]
        if "minChangeVersion" in args:
            recs = [r for r in recs if r["_changeVersion"] >= int(args["minChangeVersion"])]
        if "maxChangeVersion" in args:
            recs = [r for r in recs if r["_changeVersion"] <= int(args["maxChangeVersion"])]
        recs.sort(key=lambda r: r["id"])
        headers = {}
        if "pageSize" in args or "pageToken" in args:
            return self.cursor(name, recs, args)
        limit = int(args.get("limit", 25))
        if limit > 500 and "limit_unbounded" not in self.faults:
            return problem(
                400,
                "bad-request:parameter-validation-failed",
                "limit must be ≤ 500",
                validation={"$.limit": ["must be between 0 and 500"]},
            )
        offset = int(args.get("offset", 0))
        if args.get("totalCount", "").lower() == "true" and "no_total_count" not in self.faults:
            headers["Total-Count"] = str(len(recs))
        page = recs[offset : offset + limit]
        return self.json([self.public(name, r) for r in page], headers=headers)

    def cursor(self, name, recs, args) -> Response:
        size = int(args.get("pageSize", 25))
        after, until = "", "~"
        if "pageToken" in args:
            after, until = base64.urlsafe_b64decode(args["pageToken"]).decode().split("|")
        rest = [r for r in recs if after < r["id"] <= until]
        page = rest[:size]
        headers = {}
        more = len(rest) > size or "token_on_last_page" in self.faults
        if more and page:
            last = (
                page[-2]["id"]
                if "cursor_overlap" in self.faults and len(page) > 1
                else page[-1]["id"]
            )
            headers["Next-Page-Token"] = base64.urlsafe_b64encode(
                f"{last}|{until}".encode()
            ).decode()
        return self.json([self.public(name, r) for r in page], headers=headers)

    def partitions(self, request: Request, name: str) -> Response:
        ids = sorted(r["id"] for r in self.store[name].values() if self.visible(name, r))
        n = int(request.args.get("number", 1))
        bounds = [ids[len(ids) * k // n - 1] if k else "" for k in range(n)] + ["~"]
        return self.json(
            {
                "pageTokens": [
                    base64.urlsafe_b64encode(f"{bounds[k]}|{bounds[k + 1]}".encode()).decode()
                    for k in range(n)
                ]
            }
        )

    def check(self, name, body) -> Response | None:
        if not isinstance(body, dict):
            return problem(400, "bad-request", "The request body is not a JSON object.")
        if name == "courses":
            missing = [f for f in ("courseCode", "courseTitle", "numberOfParts") if f not in body]
            if missing:
                return problem(
                    400,
                    "bad-request:data-validation-failed",
                    validation={f"$.{f}": [f"{f} is required."] for f in missing},
                )
            if len(body["courseCode"]) > 60:
                return problem(
                    400,
                    "bad-request:data-validation-failed",
                    validation={"$.courseCode": ["courseCode is too long."]},
                )
        for field, value in body.items():
            if field.endswith("Descriptor") and field != "termDescriptor":
                kind = field[0].lower() + field[1:]
                kind = {"entryGradeLevelDescriptor": "gradeLevelDescriptor"}.get(kind, kind)
                known = {
                    f"{r['namespace']}#{r['codeValue']}"
                    for r in self.store.get(kind + "s", {}).values()
                }
                if value not in known:
                    return problem(
                        400,
                        "bad-request:data-validation-failed",
                        validation={f"$.{field}": [f"{field} value '{value}' does not exist."]},
                    )
        if "educationOrganizationReference" in body:
            edorg = body["educationOrganizationReference"].get("educationOrganizationId")
            if not self.ours(edorg):
                return problem(403, "security:authorization", "No access to that organization.")
        if (
            name.endswith("Descriptors")
            and not str(body.get("namespace", "")).startswith(NAMESPACE)
            and "descriptor_any_namespace" not in self.faults
        ):
            return problem(403, "security:authorization", "Not the client's namespace.")
        for prop, (target, fields) in REFERENCES.items():
            if prop in body:
                key = tuple(str(body[prop].get(f)) for f in fields)
                if self.find(target, key) is None:
                    label = target[:-1].capitalize()
                    if "reference_400" in self.faults:
                        return problem(400, "bad-request", f"Bad {label}.")
                    return problem(
                        409,
                        "data-conflict:unresolved-reference",
                        f"The referenced '{label}' item does not exist.",
                        errors=[f"{label} {dict(zip(fields, key, strict=True))}"],
                    )
        return None

    def upsert(self, request: Request, name: str) -> Response:
        if not request.is_json:
            return problem(415, "unsupported-media-type")
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "id" in body:
            return problem(400, "bad-request:data-validation-failed", "Do not send an id.")
        error = self.check(name, body)
        if error:
            return error
        rid = self.find(name, self.key_of(name, body))
        status = 201 if rid is None or "post_always_201" in self.faults else 200
        rid = self.put_new(name, body, rid)
        return Response(
            status=status,
            headers={
                "Location": f"{DATA}{name}/{rid}",
                "ETag": f'"{self.store[name][rid]["_etag"]}"',
            },
        )

    def replace(self, request: Request, name: str, rid: str) -> Response:
        body = request.get_json(silent=True)
        error = self.check(name, body)
        if error:
            return error
        old, new = self.key_of(name, self.store[name][rid]), self.key_of(name, body)
        if old != new:
            if name not in KEY_UPDATABLE and "key_change_allowed" not in self.faults:
                return problem(400, "bad-request:data-validation-failed:key-change-not-supported")
        self.put_new(name, body, rid)
        if old != new:
            fields = list(KEYS[name])
            self.key_changes[name].append(
                {
                    "id": rid,
                    "changeVersion": self.newest,
                    "oldKeyValues": dict(zip(fields, old, strict=True)),
                    "newKeyValues": dict(zip(fields, new, strict=True)),
                }
            )
        return Response(status=204, headers={"ETag": f'"{self.store[name][rid]["_etag"]}"'})

    def delete(self, name: str, rid: str) -> Response:
        rec = self.store[name][rid]
        if "delete_referenced" not in self.faults:
            for prop, (target, fields) in REFERENCES.items():
                if target != name:
                    continue
                key = self.key_of(name, rec)
                for other, recs in self.store.items():
                    for r in recs.values():
                        if prop in r and tuple(str(r[prop].get(f)) for f in fields) == key:
                            return problem(
                                409,
                                "data-conflict:dependent-item-exists",
                                f"The item is referenced by a {other} item.",
                            )
        del self.store[name][rid]
        self.newest = next(self.version)
        fields = list(KEYS[name])
        self.deletes[name].append(
            {
                "id": rid,
                "changeVersion": self.newest,
                "keyValues": dict(zip(fields, self.key_of(name, rec), strict=True)),
            }
        )
        return Response(status=204)
