"""Domain exceptions, rendered in one place in the envelope of the API that was called."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-Id"


class GatewayError(Exception):
    status = 500
    code = "internal-error"
    title = "An unexpected error occurred"

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        details: Any = None,
        validation_errors: dict[str, list[str]] | None = None,
        errors: list[str] | None = None,
        code_minor: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.title)
        self.message = message or self.title
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.details = details
        self.validation_errors = validation_errors
        self.errors = errors
        self.code_minor = code_minor
        self.headers = headers or {}


class BadRequest(GatewayError):
    status, code, title = 400, "bad-request", "Bad Request"


class ValidationFailed(BadRequest):
    code, title = "bad-request:data-validation-failed", "Data Validation Failed"


class ParameterValidationFailed(BadRequest):
    code, title = "bad-request:parameter-validation-failed", "Parameter Validation Failed"


class KeyChangeNotSupported(BadRequest):
    code = "bad-request:data-validation-failed:key-change-not-supported"
    title = "Key Change Not Supported"


class Unauthorized(GatewayError):
    status, code, title = 401, "security:authentication", "Authentication Failed"


class Forbidden(GatewayError):
    status, code, title = 403, "security:authorization", "Authorization Denied"


class NotFound(GatewayError):
    status, code, title = 404, "not-found", "Resource Not Found"


class MethodNotAllowed(GatewayError):
    status, code, title = 405, "method-not-allowed", "Method Not Allowed"


class SnapshotNotFound(NotFound):
    title = "Not Found"


class SnapshotReadOnly(MethodNotAllowed):
    code, title = "snapshots:method-not-allowed", "Method Not Allowed with Snapshots"


class Conflict(GatewayError):
    status, code, title = 409, "data-conflict", "Data Conflict"


class UnresolvedReference(Conflict):
    code, title = "data-conflict:unresolved-reference", "Unresolved Reference"


class DependentItemExists(Conflict):
    code, title = "data-conflict:dependent-item-exists", "Dependent Item Exists"


class NonUniqueIdentity(Conflict):
    code, title = "data-conflict:non-unique-identity", "Identifying Values Are Not Unique"


class PreconditionFailed(GatewayError):
    status, code, title = 412, "optimistic-lock-failed", "Optimistic Lock Failed"


class PayloadTooLarge(GatewayError):
    status, code, title = 413, "payload-too-large", "Payload Too Large"


class UnsupportedMediaType(GatewayError):
    status, code, title = 415, "unsupported-media-type", "Unsupported Media Type"


class TooManyRequests(GatewayError):
    status, code, title = 429, "too-many-requests", "Too Many Requests"


class ServiceUnavailable(GatewayError):
    status, code, title = 503, "service-unavailable", "Service Unavailable"


# Werkzeug's HTTP errors become the matching domain error, so every family renders them.
_HTTP_TO_DOMAIN: dict[int, type[GatewayError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    429: TooManyRequests,
    503: ServiceUnavailable,
}

# OneRoster imsx codeMinor values. The 1.1 binding's machine-readable enumeration
# (imsx_CodeMinorValue: invaliddata, unknownobject, unauthorisedrequest, invalid_sort_field,
# invalid_selection_field, …) wherever it names the condition; its prose's names, written as one
# token, for the conditions only the prose lists (filter, blank selection, forbidden, busy).
INVALID_DATA = "invaliddata"
UNKNOWN_OBJECT = "unknownobject"
UNAUTHORISED = "unauthorisedrequest"
_IMSX_MINOR = {
    400: INVALID_DATA,
    401: UNAUTHORISED,
    403: "forbidden",
    404: UNKNOWN_OBJECT,
    405: INVALID_DATA,
    409: INVALID_DATA,
    412: INVALID_DATA,
    413: INVALID_DATA,
    415: INVALID_DATA,
    429: "server_busy",
    500: "internal_server_error",
    503: "server_busy",
}


# what a client may send to name its request: the ODS/API's query parameter and header, then ours
ODS_CORRELATION_PARAM = "correlationid"
ODS_CORRELATION_HEADER = "correlation-id"


def sent_correlation_id(req: Request) -> str:
    """The ODS/API's `correlation-id` header, else its `correlationId` query parameter, else
    ours."""
    value = req.headers.get(ODS_CORRELATION_HEADER, "").strip()
    if value:
        return value
    for name, arg in req.args.items():
        if name.lower() == ODS_CORRELATION_PARAM and arg.strip():
            return arg.strip()
    return req.headers.get(CORRELATION_HEADER, "").strip()


def new_correlation_id(req: Request | None) -> str:
    """The id the client sent for `req` (printable ASCII only: it is echoed in a response header),
    else a new one."""
    sent = sent_correlation_id(req) if req else ""
    return "".join(c for c in sent[:128] if " " <= c <= "~").strip() or uuid.uuid4().hex


def correlation_id() -> str:
    cid = g.get("correlation_id")
    if cid is None:
        cid = g.correlation_id = new_correlation_id(request if request else None)
    return cid


def api_family(path: str) -> str:
    lowered = path.lower()
    if lowered.startswith(("/data/", "/metadata/", "/changequeries/", "/composites/")):
        return "edfi"
    if lowered.startswith("/ims/oneroster/"):
        return "oneroster"
    return "plain"


def edfi_problem(err: GatewayError, cid: str) -> dict[str, Any]:
    """The Ed-Fi problem details of `err`."""
    body: dict[str, Any] = {
        "type": "urn:ed-fi:api:" + err.code,
        "title": err.title,
        "status": err.status,
        "detail": err.message,
        "correlationId": cid,
    }
    if err.validation_errors:
        body["validationErrors"] = err.validation_errors
    if err.errors:
        body["errors"] = err.errors
    return body


def render_edfi(err: GatewayError) -> Response:
    response = jsonify(edfi_problem(err, correlation_id()))
    response.mimetype = ERROR_MIMETYPES["edfi"]
    return response


def render_edfi_error(err: GatewayError) -> Response:
    """An error in the Ed-Fi envelope wherever it is raised (the ODS/API's /oauth routes)."""
    response = render_edfi(err)
    response.status_code = err.status
    return response


def imsx_status(
    description: str,
    code_minor: str,
    *,
    major: str = "failure",
    severity: str = "error",
    fields: Iterable[str] = (),
) -> dict[str, Any]:
    """One imsx_StatusInfo. `fields`: the request fields at fault, each named by an
    imsx_codeMinorField of its own (the envelope's only structured place for them)."""
    minors = [
        {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code_minor}
    ]
    minors += [
        {"imsx_codeMinorFieldName": name, "imsx_codeMinorFieldValue": code_minor} for name in fields
    ]
    return {
        "imsx_codeMajor": major,
        "imsx_severity": severity,
        "imsx_description": description,
        "imsx_CodeMinor": {"imsx_codeMinorField": minors},
    }


def oneroster_status(err: GatewayError, cid: str = "") -> dict[str, Any]:
    """The OneRoster imsx_StatusInfo of `err` (the envelope has no place for a correlation id:
    the response header carries it)."""
    minor = err.code_minor or _IMSX_MINOR.get(err.status, INVALID_DATA)
    description = " ".join([err.message, *(err.errors or [])])
    fields: list[str] = []
    if err.validation_errors:
        fields = list(err.validation_errors)
        described = "; ".join(
            f"{field}: {', '.join(msgs)}" for field, msgs in err.validation_errors.items()
        )
        description = f"{description} {described}"
    return imsx_status(description, minor, fields=fields)


def render_oneroster(err: GatewayError) -> Response:
    return jsonify(oneroster_status(err))


def plain_error(err: GatewayError, cid: str) -> dict[str, Any]:
    """The gateway's own error body (profiles, OAuth, admin)."""
    body: dict[str, Any] = {"error": err.code, "message": err.message}
    if err.validation_errors:
        body["details"] = err.validation_errors
    elif err.details is not None:
        body["details"] = err.details
    if err.errors:
        body["errors"] = err.errors
    body["correlationId"] = cid
    return body


def render_plain(err: GatewayError) -> Response:
    return jsonify(plain_error(err, correlation_id()))


_RENDERERS = {"edfi": render_edfi, "oneroster": render_oneroster, "plain": render_plain}
# Each API family's error body from (error, correlation id), and its media type: for answers built
# outside a Flask request (gateway.admission).
ERROR_BODIES = {"edfi": edfi_problem, "oneroster": oneroster_status, "plain": plain_error}
ERROR_MIMETYPES = {
    "edfi": "application/problem+json",
    "oneroster": "application/json",
    "plain": "application/json",
}


def render(err: GatewayError) -> Response:
    response = _RENDERERS[api_family(request.path)](err)
    response.status_code = err.status
    for name, value in err.headers.items():
        response.headers[name] = value
    return response


def method_not_supported(method: str) -> str:
    return f"The endpoint of the request does not support the '{method}' method."


def _from_http(exc: HTTPException) -> GatewayError:
    status = exc.code or 500
    cls = _HTTP_TO_DOMAIN.get(status, GatewayError)
    message = exc.description or cls.title
    if status == 404:
        message = "The requested resource or route does not exist."
    elif status == 405:
        message = f"The method {request.method} is not allowed on {request.path}."
    err = cls(message, status=status)
    if api_family(request.path) == "edfi" and status in (404, 405):
        # the ODS/API's words
        if status == 404:
            err.message = "The specified data could not be found."
        else:
            err.message = "The request construction was invalid."
            err.errors = [method_not_supported(request.method)]
    allowed = getattr(exc, "valid_methods", None)
    if status == 405 and allowed:
        err.headers["Allow"] = ", ".join(sorted(allowed))
    return err


def _from_unprocessable(exc: HTTPException) -> GatewayError:
    """flask-smorest/webargs argument errors (422) become a 400 naming each field."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or {}
    flat: dict[str, list[str]] = {}
    for location, fields in messages.items():
        _flatten(fields, "$" if location in ("json", "form", "files") else location, flat)
    return ValidationFailed("The request is invalid.", validation_errors=flat or None)


def _flatten(node: Any, prefix: str, out: dict[str, list[str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(node, list) and all(isinstance(m, str) for m in node):
        out.setdefault(prefix, []).extend(node)
    else:
        out.setdefault(prefix, []).append(str(node))


def init_app(app: Flask) -> None:
    @app.errorhandler(GatewayError)
    def _domain(err: GatewayError):
        if err.status >= 500:
            log.error("server error %s: %s", correlation_id(), err.message)
        return render(err)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 422:
            return render(_from_unprocessable(exc))
        return render(_from_http(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never leak a stack trace or SQL to the client; the log keeps it with the correlation id.
        log.exception("unhandled error %s", correlation_id())
        return render(GatewayError("An unexpected error occurred; quote the correlation id."))

    @app.after_request
    def _correlate(response: Response) -> Response:
        response.headers[CORRELATION_HEADER] = correlation_id()
        return response
