"""The resource half of the fake Ed-Fi API: collections, paging, upsert, PUT, DELETE, checks."""

from __future__ import annotations

import base64
import json

from werkzeug.wrappers import Request, Response

from tests.conformance.fake_edfi_model import (
    DATA,
    KEY_UPDATABLE,
    KEYS,
    NAMESPACE,
    REFERENCES,
    dig,
    problem,
)


class Resources:
    # --- resources ------------------------------------------------------------------------
    def public(self, name, rec):
        out = {k: v for k, v in rec.items() if k != "_changeVersion"}
        for prop, (target, _) in REFERENCES.items():
            if prop in out:
                out[prop] = {**out[prop], "link": {"rel": target, "href": f"/ed-fi/{target}/x"}}
        if "educationOrganizationReference" in out and "course_no_link" not in self.faults:
            out["educationOrganizationReference"] = {
                **out["educationOrganizationReference"],
                "link": {"rel": "EducationOrganization", "href": "/ed-fi/schools/x"},
            }
        return out

    def resource(self, request: Request, name: str, rest: list[str]) -> Response:
        method = request.method
        if request.headers.get("Use-Snapshot") == "true" and "snapshot_ignored" not in self.faults:
            if method == "GET":
                return problem(404, "not-found", "Snapshot not found.")
            return problem(405, "snapshots:method-not-allowed", "The data is read-only.")
        if method == "GET" and rest and rest[0] in ("deletes", "keyChanges"):
            log = self.deletes[name] if rest[0] == "deletes" else self.key_changes[name]
            if rest[0] == "keyChanges" and "no_key_changes" in self.faults:
                log = []
            low = int(request.args.get("minChangeVersion", 0))
            if "no_deletes" in self.faults and rest[0] == "deletes":
                return self.json([])
            found = [e for e in log if e["changeVersion"] >= low]
            headers = {}
            if request.args.get("totalCount") == "true" and "deletes_no_total" not in self.faults:
                headers["Total-Count"] = str(len(found))
            return self.json(found, headers=headers)
        if method == "GET" and rest and rest[0] == "partitions":
            return self.partitions(request, name)
        if method == "GET" and not rest:
            return self.collection(request, name)
        if method == "POST" and not rest:
            return self.upsert(request, name)
        if method not in ("GET", "POST", "PUT", "DELETE") and not rest:
            if method == "OPTIONS" and "options_200" in self.faults:
                return Response(status=200)
            return problem(
                405,
                "method-not-allowed",
                "The request construction was invalid.",
                errors=[f"The endpoint of the request does not support the '{method}' method."],
            )
        rid = rest[0] if rest else ""
        if "hyphenated_id_404" not in self.faults:
            rid = rid.replace("-", "").lower()
        if rid not in self.store[name]:
            if "generic_wording" in self.faults:
                return problem(404, "not-found", "Resource not found.")
            return problem(404, "not-found", "The specified item could not be found.")
        rec = self.store[name][rid]
        if not self.visible(name, rec):
            return problem(403, "security:authorization")
        etag = f'"{rec["_etag"]}"'
        if method == "GET":
            if (
                request.headers.get("If-None-Match") == etag
                and "no_if_none_match" not in self.faults
            ):
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
        if "unknown_param_400" in self.faults and "correlationId" in args:
            return problem(400, "bad-request:parameter-validation-failed", "Unknown parameter.")
        recs = [r for r in self.store[name].values() if self.visible(name, r)]
        for field, path in KEYS[name].items():
            if field in args and "query_ignored" not in self.faults:
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
        limit = int(args.get("limit", 25 if "default_limit_25" in self.faults else 500))
        if limit > 500 and "limit_unbounded" not in self.faults:
            generic = "generic_wording" in self.faults
            return problem(
                400,
                "bad-request:parameter-validation-failed",
                "limit must be ≤ 500" if generic else "The request construction was invalid.",
                errors=None if generic else ["Limit must be a value between 0 and 500."],
                validation={"$.limit": ["must be between 0 and 500"]},
            )
        offset = 0 if "offset_ignored" in self.faults else int(args.get("offset", 0))
        if args.get("totalCount", "").lower() == "true" and "no_total_count" not in self.faults:
            headers["Total-Count"] = str(len(recs))
        page = recs[offset : offset + limit]
        if page and "token_only_in_cursor_mode" not in self.faults:
            headers["Next-Page-Token"] = self.token_after(page[-1]["id"], "~")
        return self.json([self.public(name, r) for r in page], headers=headers)

    @staticmethod
    def token_after(last: str, until: str) -> str:
        return base64.urlsafe_b64encode(f"{last}|{until}".encode()).decode()

    def cursor(self, name, recs, args) -> Response:
        mixed = [
            said
            for param, said in (
                (
                    "offset",
                    "Both offset and pageToken parameters were provided, but they support "
                    "alternative paging approaches and cannot be used together.",
                ),
                (
                    "totalCount",
                    "Total count cannot be determined while using cursor paging "
                    "(when pageToken is specified).",
                ),
            )
            if param in args and args.get(param) != "false"
        ]
        if mixed and "pageToken" in args and "cursor_mix_lenient" not in self.faults:
            return problem(
                400,
                "bad-request:parameter-validation-failed",
                "The request construction was invalid.",
                errors=mixed[:1],
            )
        if "pageSize" in args and "pageToken" not in args and "page_size_alone" not in self.faults:
            return problem(
                400,
                "bad-request:parameter-validation-failed",
                "The request construction was invalid.",
                errors=["PageToken is required when pageSize is specified."],
            )
        size = int(args.get("pageSize", 25))
        after, until = "", "~"
        if "pageToken" in args:
            after, until = base64.urlsafe_b64decode(args["pageToken"]).decode().split("|")
        rest = [r for r in recs if after < r["id"] <= until]
        page = rest[:size]
        headers = {}
        # as the ODS/API 7.3: a token on every non-empty page
        more = len(rest) > size or "token_only_in_cursor_mode" not in self.faults
        if more and page:
            last = (
                page[-2]["id"]
                if "cursor_overlap" in self.faults and len(page) > 1
                else page[-1]["id"]
            )
            headers["Next-Page-Token"] = self.token_after(last, until)
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
        if name == "courses" and "no_validation" not in self.faults:
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
            if (
                field.endswith("Descriptor")
                and field != "termDescriptor"
                and ("descriptor_unchecked" not in self.faults)
            ):
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
            if not self.ours(edorg) and "write_other_org_ok" not in self.faults:
                return problem(403, "security:authorization", "No access to that organization.")
        if (
            name.endswith("Descriptors")
            and not str(body.get("namespace", "")).startswith(NAMESPACE)
            and "descriptor_any_namespace" not in self.faults
        ) or (
            name == "descriptorMappings"
            and not str(body.get("namespace", "")).startswith(NAMESPACE)
            and "mapping_any_namespace" not in self.faults
        ):
            return problem(
                403,
                "security:authorization:namespace:access-denied:namespace-mismatch",
                "Not the client's namespace.",
            )
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

    def read_body(self, request: Request):
        """The JSON body with numbers sent as text read as numbers (as the ODS/API); an empty
        or malformed body is a data validation problem."""
        body = request.get_json(silent=True)
        text = request.get_data(as_text=True)
        if (
            body is None
            and "trailing_comma_400" not in self.faults
            and text.rstrip().endswith(",}")
        ):
            body = json.loads(text.rstrip()[:-2] + "}")  # a comma before the closing brace
        if body is None:
            if "bad_json_generic" in self.faults:
                return None, problem(400, "bad-request", "The browser sent a bad request.")
            if not request.get_data().strip():
                return None, problem(
                    400,
                    "bad-request",
                    "The request could not be processed. See 'errors' for details.",
                    errors=["A non-empty request body is required."],
                )
            return None, problem(
                400,
                "bad-request:data-validation-failed",
                "Data validation failed. See 'validationErrors' for details.",
                validation={"$": ["The request body is not valid JSON."]},
            )
        if isinstance(body, dict) and "numeric_strings_400" not in self.faults:
            for field in ("numberOfParts",):
                if isinstance(body.get(field), str) and body[field].isdigit():
                    body[field] = int(body[field])
            ref = body.get("educationOrganizationReference")
            if isinstance(ref, dict) and str(ref.get("educationOrganizationId")).isdigit():
                ref["educationOrganizationId"] = int(ref["educationOrganizationId"])
        elif isinstance(body, dict) and isinstance(body.get("numberOfParts"), str):
            return None, problem(
                400,
                "bad-request:data-validation-failed",
                validation={"$.numberOfParts": ["numberOfParts must be an integer."]},
            )
        return body, None

    def upsert(self, request: Request, name: str) -> Response:
        if not request.is_json and "no_415" not in self.faults:
            return problem(415, "unsupported-media-type")
        body, error = self.read_body(request)
        if error:
            return error
        if isinstance(body, dict) and "id" in body and "body_id_ok" not in self.faults:
            return problem(400, "bad-request:data-validation-failed", "Do not send an id.")
        error = self.check(name, body)
        if error:
            return error
        rid = self.find(name, self.key_of(name, body))
        status = 201 if rid is None or "post_always_201" in self.faults else 200
        if rid is None and "post_new_200" in self.faults:
            status = 200
        rid = self.put_new(name, body, rid)
        return Response(
            status=status,
            headers={
                "Location": f"{DATA}{name}/{rid}",
                "ETag": f'"{self.store[name][rid]["_etag"]}"',
            },
        )

    def replace(self, request: Request, name: str, rid: str) -> Response:
        body, error = self.read_body(request)
        if error:
            return error
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
        status = 200 if "put_200" in self.faults else 204
        return Response(status=status, headers={"ETag": f'"{self.store[name][rid]["_etag"]}"'})

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
        return Response(status=200 if "delete_200" in self.faults else 204)
