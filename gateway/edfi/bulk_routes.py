"""HTTP for Ed-Fi bulk jobs: submit a package, read a job, list one's jobs.

    POST /data/v3/bulkOperations            multipart field `file` (+ `dryRun=true`) → 202, Location
    GET  /data/v3/bulkOperations/{id}       status, progress, counts per resource, every rejection
    GET  /data/v3/bulkOperations            the client's jobs, newest first (`limit`, `offset`)

Under /data/, so errors are Ed-Fi problem details and every request is audited; `edfi.write` to
submit, `edfi.read` to read. A client reads only its own jobs.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, request, url_for
from sqlalchemy import select

from gateway.audit import note_records
from gateway.auth import current_client, require_token
from gateway.db import get_session
from gateway.edfi import bulk_jobs
from gateway.edfi.views import authorizer, json_response
from gateway.errors import BadRequest, NotFound, ParameterValidationFailed
from gateway.oneroster.csv import jobs, lease
from gateway.oneroster.csv.models import CsvImportJob

blp = Blueprint("edfi-bulk", __name__)
JOBS = "/<ci('data'):_d>/<ci('v3'):_v>/<ci('bulkOperations'):_b>"
TRUE_WORDS = ("true", "1", "yes")
NO_JOB = "No bulk operation has this id."


def _view(job: CsvImportJob) -> dict[str, Any]:
    view = jobs.job_view(job)
    view["location"] = url_for("edfi-bulk.bulk_operation", job_id=str(job.id), _d="data",
                               _v="v3", _b="bulkOperations")  # fmt: skip
    return view


@blp.route(JOBS, methods=["POST"], strict_slashes=False)
@require_token("edfi.write")
def submit(**_segments: str) -> Response:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest(
            "Send the package as a multipart/form-data field named 'file': <resource>.ndjson, "
            "interchange *.xml, or a zip of them."
        )
    dry_run = (request.form.get("dryRun") or request.args.get("dryRun") or "").lower()
    session = get_session()
    client = current_client()
    assert client is not None  # require_token set it
    auth = authorizer()
    job = jobs.create_job(
        session,
        client_key=client.key,
        filename=upload.filename,
        dry_run=dry_run in TRUE_WORDS,
        kind=bulk_jobs.KIND,
    )
    note_records(f"edfi-bulk:{job.id}")
    path = jobs.uploads_dir() / f"{job.id}.upload"
    upload.save(path)
    bulk_jobs.submit(session, job, path, auth)
    session.refresh(job)
    view = _view(job)
    return json_response(view, 202, {"Location": view["location"]})


@blp.route(JOBS + "/<job_id>", methods=["GET"], strict_slashes=False)
@require_token("edfi.read")
def bulk_operation(job_id: str, **_segments: str) -> Response:
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        raise NotFound(NO_JOB) from None
    session = get_session()
    lease.expire_stale(session, key)
    job = session.get(CsvImportJob, key)
    client = current_client()
    if job is None or job.kind != bulk_jobs.KIND or client is None or job.client_key != client.key:
        raise NotFound(NO_JOB)
    note_records(f"edfi-bulk:{job.id}")
    return json_response(_view(job))


@blp.route(JOBS, methods=["GET"], strict_slashes=False)
@require_token("edfi.read")
def bulk_operations(**_segments: str) -> Response:
    limit, offset = _paging("limit", 25, 500), _paging("offset", 0, 2**31 - 1)
    client = current_client()
    assert client is not None
    session = get_session()
    found = session.scalars(
        select(CsvImportJob)
        .where(CsvImportJob.kind == bulk_jobs.KIND, CsvImportJob.client_key == client.key)
        .order_by(CsvImportJob.created_at.desc(), CsvImportJob.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return json_response([_view(job) for job in found])


def _paging(name: str, default: int, most: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= most or (name == "limit" and int(raw) == 0):
        raise ParameterValidationFailed(
            f"{name} must be a whole number from {1 if name == 'limit' else 0} to {most}."
        )
    return int(raw)
