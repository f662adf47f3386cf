"""An Ed-Fi bulk job projects to OneRoster exactly as the same records POSTed one by one do: the
same OneRoster records read through the OneRoster API, the same mapping links, no drift."""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict

import sqlalchemy as sa

from gateway.mapping import verify
from tests.edfi.conftest import enrollment, student
from tests.mapping.conftest import SCHOOL_ID, SECTION, bodies

COLLECTIONS = (
    "orgs",
    "users",
    "demographics",
    "academicSessions",
    "courses",
    "classes",
    "enrollments",
    "categories",
    "lineItems",
    "results",
)


def documents() -> list[tuple[str, dict]]:
    """One of everything the mapping covers, plus students that differ in what the projection
    reads: two schools (latest entry first), a second school association, a shared contact."""
    extra: list[tuple[str, dict]] = []
    for n, first in enumerate(("Ana", "Ben", "Cy")):
        uid = f"BJ-{n}"
        extra.append(("students", student(uid, first, "Bulk")))
        extra.append(("studentSchoolAssociations", enrollment(uid, SCHOOL_ID, f"2021-08-2{n}")))
        extra.append(
            (
                "studentSectionAssociations",
                {
                    "studentReference": {"studentUniqueId": uid},
                    "sectionReference": SECTION,
                    "beginDate": "2021-08-23",
                },
            )
        )
        extra.append(
            (
                "studentContactAssociations",
                {
                    "contactReference": {"contactUniqueId": "C-1"},
                    "studentReference": {"studentUniqueId": uid},
                    "relationDescriptor": "uri://ed-fi.org/RelationDescriptor#Mother",
                },
            )
        )
    return bodies() + extra


def package(docs: list[tuple[str, dict]]) -> bytes:
    by_resource: dict[str, list[str]] = defaultdict(list)
    for resource, body in docs:
        by_resource[resource].append(json.dumps(body))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for resource, lines in by_resource.items():
            archive.writestr(f"{resource}.ndjson", "\n".join(lines) + "\n")
    return buffer.getvalue()


def oneroster_state(oneroster, db_session) -> dict:
    """Every OneRoster record as the API reads it (less its time of writing), every link, and
    what `gateway mapping verify` says."""
    state: dict = {}
    for collection in COLLECTIONS:
        records = oneroster(f"/{collection}", query_string={"limit": 1000})[collection]
        state[collection] = sorted(
            ({k: v for k, v in r.items() if k != "dateLastModified"} for r in records),
            key=lambda r: r["sourcedId"],
        )
    state["links"] = sorted(
        tuple(map(str, row))
        for row in db_session.execute(
            sa.text(
                "SELECT sourced_id, edfi_resource, natural_key, edfi_id IS NULL, origin "
                "FROM mapping_links"
            )
        )
    )
    state["verify"] = verify.check(db_session).lines()
    return state


def test_a_bulk_job_projects_what_the_per_record_api_projects(
    client, edfi, oneroster, db_session, sync_jobs
):
    docs = documents()
    first = db_session.connection().begin_nested()
    for resource, body in docs:
        edfi.create(resource, body)
    per_record = oneroster_state(oneroster, db_session)
    first.rollback()
    projected = [u["sourcedId"] for u in per_record["users"]]
    assert not db_session.scalar(
        sa.text("SELECT count(*) FROM users WHERE sourced_id = ANY(:ids)"), {"ids": projected}
    )

    response = client.post(
        "/data/v3/bulkOperations",
        data={"file": (io.BytesIO(package(docs)), "district.zip")},
        headers=edfi.headers,
        content_type="multipart/form-data",
    )
    job = response.get_json()
    assert job["status"] == "applied", job["report"]
    bulk = oneroster_state(oneroster, db_session)

    assert all(per_record[c] for c in COLLECTIONS), per_record
    for part in (*COLLECTIONS, "links", "verify"):
        assert bulk[part] == per_record[part], part
