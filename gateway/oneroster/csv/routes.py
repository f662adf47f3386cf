"""HTTP: submit a CSV import (multipart), read its job, and stream an export.

Paths sit under /oneroster/csv, so errors use the gateway's plain envelope
({"error", "message", "details"}); OAuth2 bearer tokens with the csv scopes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask import Response, request, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from gateway.audit import note_records
from gateway.auth import current_client, require_token
from gateway.auth.access import compute_org_scope, org_scope
from gateway.db import get_session
from gateway.errors import BadRequest, Forbidden, NotFound, ParameterValidationFailed
from gateway.oneroster.access import hidden_fields
from gateway.oneroster.csv import jobs, lease
from gateway.oneroster.csv.export import export_stream
from gateway.oneroster.csv.models import CsvImportJob
from gateway.oneroster.service import storable

IMPORT_SCOPE = "oneroster.csv.import"
EXPORT_SCOPE = "oneroster.csv.export"
TRUE_WORDS = ("true", "1", "yes")
JOBS_PAGE, JOBS_PAGE_MAX = 25, 100

blp = Blueprint(
    "oneroster-csv",
    __name__,
    url_prefix="/oneroster/csv",
    description="OneRoster v1.1 CSV packages: bulk/delta import jobs and export",
)


def _flag(name: str) -> bool:
    value = request.args.get(name) or request.form.get(name) or ""
    return value.strip().lower() in TRUE_WORDS


def _page_parameter(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ParameterValidationFailed(
            f"{name} must be an integer from {low} to {high}",
            validation_errors={name: [f"an integer from {low} to {high}"]},
        )
    return int(raw)


@blp.route("/imports")
class Imports(MethodView):
    @require_token(IMPORT_SCOPE)
    def get(self):
        """The client's import jobs, newest first: `limit` (1–100, default 25) and `offset`;
        each without its report (read the job for it)."""
        limit = _page_parameter("limit", JOBS_PAGE, 1, JOBS_PAGE_MAX)
        offset = _page_parameter("offset", 0, 0, 2**31 - 1)
        client = current_client()
        assert client is not None
        found, total = jobs.list_jobs(get_session(), client.key, limit, offset)
        return {
            "imports": [jobs.job_view(job, with_report=False) for job in found],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    @require_token(IMPORT_SCOPE)
    def post(self):
        """Submit a CSV package (multipart field `file`) for import; 202 with the job."""
        upload = request.files.get("file") or request.files.get("package")
        if upload is None or not upload.filename:
            raise BadRequest("Send the package as a multipart/form-data field named 'file'.")
        session = get_session()
        client = current_client()
        assert client is not None  # require_token set it
        job = jobs.create_job(
            session, client_key=client.key, filename=upload.filename, dry_run=_flag("dryRun")
        )
        # the job's report names every row it applied
        note_records(f"csv-import:{job.id}", action="import")
        path = jobs.uploads_dir() / f"{job.id}.upload"
        upload.save(path)
        scope = org_scope(session, client)
        jobs.submit(
            session,
            job,
            path,
            None if scope.unrestricted else scope,
            allow_deletions=_flag("allowDeletions"),
        )
        location = url_for("oneroster-csv.ImportsById", job_id=str(job.id))
        return jobs.job_view(job), 202, {"Location": location}


@blp.route("/imports/<job_id>")
class ImportsById(MethodView):
    @require_token(IMPORT_SCOPE)
    def get(self, job_id: str):
        """An import job: status, progress (rows done / total), counts per file and the report."""
        try:
            key = uuid.UUID(job_id)
        except ValueError:
            raise NotFound("No import job has this id.") from None
        session = get_session()
        job = session.get(CsvImportJob, key)
        client = current_client()
        if (
            job is None
            or job.kind != jobs.CSV_JOB
            or client is None
            or job.client_key != client.key
        ):
            raise NotFound("No import job has this id.")
        if job.status in lease.UNFINISHED and lease.expire_stale(session, job.id):
            session.refresh(job)
        return jobs.job_view(job)


def _since() -> datetime | None:
    raw = request.args.get("since")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterValidationFailed(
            "since must be an ISO 8601 date-time, e.g. 2026-01-15T10:01:02.123Z",
            validation_errors={"since": ["not an ISO 8601 date-time"]},
        ) from None
    if value.tzinfo is None:
        raise ParameterValidationFailed(
            "since needs a time zone (Z or ±hh:mm)",
            validation_errors={"since": ["missing time zone"]},
        )
    return value


@blp.route("/export")
class Export(MethodView):
    @require_token(EXPORT_SCOPE)
    def get(self):
        """Stream a OneRoster v1.1 CSV package (bulk, or delta with ?since=), within the
        client's organizations (?org= narrows it to one of them)."""
        session = get_session()
        client = current_client()
        assert client is not None
        since = _since()
        scope = org_scope(session, client)
        org = request.args.get("org")
        if org and not storable(org):
            raise ParameterValidationFailed(
                "org must be an organization's sourcedId or Ed-Fi id",
                validation_errors={"org": ["1 to 255 characters, without NUL"]},
            )
        if org:
            if not scope.covers_sourced_id(org) and not (
                org.isdigit() and scope.covers_edfi(int(org))
            ):
                raise Forbidden("The organization is outside the client's organizations.")
            scope = compute_org_scope(session, (org,))
        note_records(
            f"csv-export:org={org or '*'}:since={since.isoformat() if since else '-'}",
            action="export",
        )
        stream = export_stream(
            session,
            since=since,
            scope=None if scope.unrestricted else scope,
            # the REST provider's allow-list decides (compliance rule 5)
            with_passwords="password" not in hidden_fields(client),
            row_security=True,  # compliance rule 2: the database limits the reads too
        )
        stamp = datetime.now().strftime("%Y%m%d%H%M%S")
        return Response(
            stream_with_context(stream),
            mimetype="application/zip",
            headers={"Content-Disposition": f'attachment; filename="oneroster-{stamp}.zip"'},
        )
