"""A small OneRoster v1.1 provider for the runner's tests; `faults` switches on deliberate bugs."""

from __future__ import annotations

import json
import math
import re
import time
from datetime import datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode

from werkzeug.wrappers import Request, Response

from conformance.schemas import oneroster_data, oneroster_validator
from tests.conformance import rfc5849 as oauth1
from tests.conformance.fake_oneroster_data import TYPES, dataset, with_faults

SPECS = oneroster_data("rest-endpoints.json")

KEY, SECRET = "or-key", "or-secret"
ROOT = "/ims/oneroster/v1p1"
CORE = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def imsx(status: int, minor: str, severity: str = "error", fields: list[str] = ()) -> Response:
    named = [{"imsx_codeMinorFieldName": f, "imsx_codeMinorFieldValue": minor} for f in fields]
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": severity,
        "imsx_description": minor + "".join(f"; {f} is required" for f in fields),
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor},
                *named,
            ]
        },
    }
    return Response(json.dumps(body), status, content_type="application/json")


def warning(minor: str) -> dict:
    return {
        "imsx_codeMajor": "success",
        "imsx_severity": "warning",
        "imsx_description": minor,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}
            ]
        },
    }


class FakeOneRoster:
    def __init__(self, faults: set[str] | frozenset[str] = frozenset()) -> None:
        self.faults = set(faults)
        self.data = with_faults(dataset(), self.faults)
        self.tokens: dict[str, set[str]] = {}
        self.nonces: set[str] = set()

    # --- plumbing -------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.rstrip("/") == "/oauth/token":
            return self.token(request)
        if not request.path.startswith(ROOT):
            return imsx(404, "unknownobject")
        scopes = self.authenticate(request)
        if scopes is None:
            return imsx(401, "unauthorisedrequest")
        self.host = request.host_url.rstrip("/")
        path = request.path[len(ROOT) :]
        try:
            return self.route(request, path, scopes)
        except ValueError as exc:
            return imsx(400, str(exc))

    def token(self, request: Request) -> Response:
        auth = request.authorization
        if not auth or (auth.username, auth.password) != (KEY, SECRET):
            return Response(
                json.dumps({"error": "invalid_client"}), 401, content_type="application/json"
            )
        token = f"tok{len(self.tokens)}"
        self.tokens[token] = {request.form.get("scope") or "all"}
        return Response(
            json.dumps({"access_token": token, "token_type": "bearer", "expires_in": 3600}),
            content_type="application/json",
        )

    def authenticate(self, request: Request) -> set[str] | None:
        header = request.headers.get("Authorization", "")
        f = self.faults
        if header.startswith("Bearer "):
            return self.tokens.get(header[7:], {"all"} if "any_token_ok" in f else None)
        if not header.startswith("OAuth "):
            return {"all"} if "anonymous_ok" in f else None
        fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
        fields = {k: unquote(v) for k, v in fields.items()}
        stale = abs(int(fields.get("oauth_timestamp", 0)) - time.time()) > 300
        if stale and "oauth1_stale_ok" not in f:
            return None
        method = fields.get("oauth_signature_method", "")
        if method == "HMAC-SHA1" and "oauth1_sha256_only" in f:
            return None
        if fields.get("oauth_nonce") in self.nonces and "oauth1_replay" not in self.faults:
            return None
        query = parse_qsl(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if "oauth1_plus_spaces" in f:  # a server that signs spaces as '+', not %20
            query = [(k, v.replace(" ", "+")) for k, v in query]
        params = query + [(k, v) for k, v in fields.items() if k != "oauth_signature"]
        expected = oauth1.sign(
            request.method,
            request.base_url,
            params,
            SECRET,
            fields.get("oauth_signature_method", ""),
        )
        signed = expected == fields.get("oauth_signature") or "oauth1_any_signature" in f
        if fields.get("oauth_consumer_key") != KEY or not signed:
            return None
        self.nonces.add(fields["oauth_nonce"])
        return {"all"}

    def href(self, obj):
        if isinstance(obj, dict):
            return {
                k: (
                    ("" if "relative_href" in self.faults else self.host + ROOT) + "/" + v[1:]
                    if k == "href" and v.startswith("@")
                    else self.href(v)
                )
                for k, v in obj.items()
            }
        if isinstance(obj, list):
            return [self.href(v) for v in obj]
        return obj

    # --- routing --------------------------------------------------------------------------
    def route(self, request: Request, path: str, scopes: set[str]) -> Response:
        d = self.data
        kinds = {
            "terms": "academicSessions",
            "gradingPeriods": "academicSessions",
            "schools": "orgs",
            "students": "users",
            "teachers": "users",
        }
        if path.endswith("/") and "trailing_slash_404" in self.faults:
            return imsx(404, "unknownobject")
        parts = path.strip("/").split("/")
        head = parts[0]
        kind = kinds.get(head, head)
        if kind not in d or (head == "resources" and "unserved_resources" in self.faults):
            return imsx(404, "unknownobject")
        if kind == "demographics" and CORE in scopes and "core_scope_ignored" not in self.faults:
            return imsx(403, "forbidden")
        if (
            request.method in ("PUT", "DELETE")
            and len(parts) == 2
            and kind in ("categories", "lineItems", "results")
        ):
            return self.write(request, kind, parts[1])
        if request.method != "GET":
            if "post_allowed" in self.faults:
                return self.json({})
            return imsx(405, "method not allowed")
        spec = next((c for c in SPECS["collections"] if c["path"] == "/" + head), None)
        if spec is None:
            return imsx(404, "unknownobject")
        restriction = spec.get("restriction") or {}
        if len(parts) == 1:
            if head == "students" and "typed_view_leak" in self.faults:
                restriction = {}
            items = [
                i for i in d[kind].values() if all(i.get(k) == v for k, v in restriction.items())
            ]
            delta = any(f in request.args.get("filter", "") for f in ("dateLastModified", "status"))
            if not delta:  # plain reads leave tombstones out; delta reads see them
                items = [i for i in items if not self.gone(i)]
            return self.listing(request, spec["envelope"][0], items)
        record = d[kind].get(parts[1])
        if len(parts) > 2 and head == "terms" and "terms_parent_typed" not in self.faults:
            restriction = {}  # /terms/{id}/… takes any session a class names in `terms`
        if record is not None and self.gone(record):
            record = None
        if record is None or any(record.get(k) != v for k, v in restriction.items()):
            if "nested_no_404" not in self.faults or len(parts) == 2:
                return imsx(404, "unknownobject")
        if len(parts) == 2:
            key = spec["envelope"][0 if "single_envelope" in self.faults else 1]
            return self.json({key: self.href(record)})
        return self.nested(request, head, parts[1:])

    def nested(self, request: Request, head: str, rest: list[str]) -> Response:
        d = self.data
        pid, sub = rest[0], rest[1]
        enr = list(d["enrollments"].values())

        def refs(v):
            return [r["sourcedId"] for r in (v if isinstance(v, list) else [v]) if r]

        def users_of(cls, role):
            ids = {
                e["user"]["sourcedId"]
                for e in enr
                if e["class"]["sourcedId"] == cls and e["role"] == role
            }
            return [u for u in d["users"].values() if u["sourcedId"] in ids]

        leak = "nested_leak" in self.faults
        if len(rest) == 4:
            cid = rest[2]
            if cid not in d["classes"] and (len(rest) < 4 or rest[1] == "classes"):
                return imsx(404, "unknownobject")
            if head == "schools":
                if rest[3] == "enrollments":
                    items = [
                        e
                        for e in enr
                        if e["class"]["sourcedId"] == cid and e["school"]["sourcedId"] == pid
                    ]
                    return self.listing(request, "enrollments", items)
                return self.listing(request, "users", users_of(cid, rest[3][:-1]))
            if sub == "lineItems":
                if cid not in d["lineItems"]:
                    return imsx(404, "unknownobject")
                items = [r for r in d["results"].values() if r["lineItem"]["sourcedId"] == cid]
                if "result_not_listed" in self.faults:
                    items = [r for r in items if not r["sourcedId"].startswith("conformance-")]
            else:
                if cid not in d["users"]:
                    return imsx(404, "unknownobject")
                items = [r for r in d["results"].values() if r["student"]["sourcedId"] == cid]
            return self.listing(request, "results", items)
        if head == "terms":
            if sub == "classes":
                items = [c for c in d["classes"].values() if leak or pid in refs(c["terms"])]
                return self.listing(request, "classes", items)
            items = [
                s
                for s in d["academicSessions"].values()
                if s["type"] == "gradingPeriod" and s["parent"]["sourcedId"] == pid
            ]
            return self.listing(request, "academicSessions", items)
        if head == "schools":
            if sub in ("classes", "courses", "enrollments"):
                field = {"classes": "school", "courses": "org", "enrollments": "school"}[sub]
                items = [x for x in d[sub].values() if leak or pid in refs(x.get(field))]
                return self.listing(request, sub, items)
            if sub == "terms":
                items = [s for s in d["academicSessions"].values() if s["type"] == "term"]
                return self.listing(request, "academicSessions", items)
            role = sub[:-1]
            items = [u for u in d["users"].values() if u["role"] == role and pid in refs(u["orgs"])]
            return self.listing(request, "users", items)
        if head == "courses":
            if sub == "resources":
                return self.listing(request, "resources", [])
            items = [c for c in d["classes"].values() if pid in refs(c.get("course"))]
            return self.listing(request, "classes", items)
        if head == "classes":
            if sub in ("students", "teachers"):
                return self.listing(request, "users", users_of(pid, sub[:-1]))
            if sub == "lineItems":
                items = [x for x in d["lineItems"].values() if x["class"]["sourcedId"] == pid]
                return self.listing(request, "lineItems", items)
            if sub == "results":
                lis = {
                    x["sourcedId"]
                    for x in d["lineItems"].values()
                    if x["class"]["sourcedId"] == pid
                }
                items = [r for r in d["results"].values() if r["lineItem"]["sourcedId"] in lis]
                return self.listing(request, "results", items)
            return self.listing(request, "resources", [])
        ids = {e["class"]["sourcedId"] for e in enr if e["user"]["sourcedId"] == pid}
        return self.listing(request, "classes", [d["classes"][c] for c in sorted(ids)])

    # --- collections ----------------------------------------------------------------------
    def listing(self, request: Request, key: str, items: list[dict]) -> Response:
        args = request.args
        status_infos = []
        fields = {"sourcedId", "status", "dateLastModified", "metadata"}
        fields |= set(oneroster_validator(TYPES[key]).schema["properties"])
        if "filter" in args and "filter_ignored" not in self.faults:
            named = re.findall(r"(\w+)(?:!=|>=|<=|=|>|<|~)'", args["filter"])
            if not named or any(name not in fields for name in named):
                raise ValueError("invalid_filter_field")
            self.matches({}, args["filter"])  # its syntax, even when there are no records
            items = [i for i in items if self.matches(i, args["filter"])]
        order = args.get("orderBy", "asc")
        items = sorted(items, key=lambda i: i["sourcedId"])
        if "sort" in args and "sort_ignored" not in self.faults:
            if args["sort"] not in fields:
                status_infos.append(warning("invalid_sort_field"))
            else:
                items = sorted(
                    items, key=lambda i: str(i.get(args["sort"], "")), reverse=order == "desc"
                )
        limit, offset = args.get("limit", "100"), args.get("offset", "0")
        if not (limit.isdigit() and offset.isdigit()):
            return imsx(400, "invaliddata")
        limit_n, offset_n = int(limit), int(offset)
        if limit_n < 1 and "bad_limit_ok" not in self.faults:
            return imsx(400, "invaliddata")
        limit_n = max(limit_n, 1)
        total = len(items)
        step = limit_n - 1 if "link_overlap" in self.faults else limit_n
        page = [self.href(i) for i in items[offset_n : offset_n + limit_n]]
        if "fields" in args and "fields_ignored" not in self.faults:
            wanted = args["fields"].split(",")
            if any(f not in (items[0] if items else {}) for f in wanted):
                status_infos.append(warning("invalid_selection_field"))
            page = [{f: i[f] for f in wanted if f in i} for i in page]
        body: dict = {key: page}
        if status_infos:
            body["statusInfoSet"] = status_infos
        response = self.json(body)
        if "no_total_count" not in self.faults:
            response.headers["X-Total-Count"] = str(total)
        base = request.base_url
        other = [
            (k, v)
            for k, v in parse_qsl(request.environ.get("QUERY_STRING", ""))
            if k not in ("limit", "offset")
        ]

        def link(off: int, rel: str) -> str:
            q = urlencode(other + [("limit", limit_n), ("offset", off)], quote_via=quote)
            return f'<{base}?{q}>; rel="{rel}"'

        last = max(0, (math.ceil(total / limit_n) - 1) * limit_n)
        rels = [link(0, "first"), link(last, "last")]
        if offset_n + limit_n < total:
            rels.append(link(offset_n + step, "next"))
        if offset_n > 0:
            rels.append(link(max(0, offset_n - limit_n), "prev"))
        response.headers["Link"] = ", ".join(rels)
        return response

    def matches(self, item: dict, expression: str, joined: bool = False) -> bool:
        m = None if joined else re.fullmatch(r"(.+?) (AND|OR) (.+)", expression)
        if m:
            a, b = self.matches(item, m[1], True), self.matches(item, m[3], True)
            return a and b if m[2] == "AND" else a or b
        m = re.fullmatch(r"(\w+)(!=|>=|<=|=|>|<|~)'([^']*)'", expression)
        if not m or m[1] not in ("sourcedId", "status", "dateLastModified") + tuple(
            f for spec in self.data.values() for i in spec.values() for f in i
        ):
            raise ValueError("invalid_filter_field")
        field, op, target = m[1], m[2], m[3]
        value = item.get(field)
        values = (
            [r["sourcedId"] for r in value]
            if isinstance(value, list) and value and isinstance(value[0], dict)
            else value
            if isinstance(value, list)
            else [value["sourcedId"]]
            if isinstance(value, dict)
            else []
            if value is None
            else [str(value)]
        )
        if op == "!=":
            return target not in values
        if op == "~":
            if "contains_case_sensitive" in self.faults:
                return any(target in v for v in values)
            return any(target.lower() in v.lower() for v in values)

        def conv(v):
            return (
                datetime.fromisoformat(v.replace("Z", "+00:00"))
                if field == "dateLastModified"
                else v
            )

        ops = {
            "=": lambda a, b: a == b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }
        return any(ops[op](conv(v), conv(target)) for v in values)

    def gone(self, record: dict) -> bool:
        """A gradebook tombstone, hidden from plain reads (unless the fault keeps it visible)."""
        return record.get("status") == "tobedeleted" and "tombstone_visible" not in self.faults

    # --- gradebook writes -----------------------------------------------------------------
    def write(self, request: Request, kind: str, sid: str) -> Response:
        store = self.data[kind]
        if request.method == "DELETE" and "delete_forbidden" in self.faults:
            return imsx(403, "forbidden")
        if request.method == "DELETE":
            if sid not in store or store[sid]["status"] == "tobedeleted":
                return imsx(404, "unknownobject")
            if "delete_noop" in self.faults:
                return Response(status=204)
            if "delete_purges" in self.faults:  # no tombstone for delta readers
                del store[sid]
            else:
                store[sid] = {**store[sid], "status": "tobedeleted", "dateLastModified": _now()}
            return Response(status=204)
        body = request.get_json(silent=True) or {}
        record = body.get(TYPES[kind])
        if not isinstance(record, dict):
            return imsx(400, "invaliddata")
        required = oneroster_validator(TYPES[kind]).schema.get("required", [])
        if "required_ignored" not in self.faults:
            missing = [f for f in required if record.get(f) in (None, "")]
            if missing:
                return imsx(400, "invaliddata", fields=missing)
        refs = {
            "lineItems": {"class": "classes", "category": "categories"},
            "results": {"lineItem": "lineItems", "student": "users"},
        }.get(kind, {})
        for field, target in refs.items():
            known = (record.get(field) or {}).get("sourcedId") in self.data[target]
            if not known and "bad_ref_accepted" not in self.faults:
                return imsx(400, "invaliddata")
        for field, target in refs.items():
            record[field] = {
                "href": f"@{target}/{record[field]['sourcedId']}",
                "sourcedId": record[field]["sourcedId"],
                "type": TYPES[target],
            }
        created = sid not in store
        store[sid] = {
            **record,
            "sourcedId": sid,
            "status": "active",
            "dateLastModified": _now(),
        }
        status = 201 if created and "put_always_200" not in self.faults else 200
        if kind == "lineItems" and "lineitem_put_200" in self.faults:
            status = 200
        return self.json({TYPES[kind]: self.href(store[sid])}, status)

    def json(self, body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status, content_type="application/json")
