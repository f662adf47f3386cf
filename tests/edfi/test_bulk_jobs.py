"""Ed-Fi bulk jobs over HTTP: a package of NDJSON or interchange XML, loaded all or nothing with
the per-record API's checks and authorization, every rejection named by file, line and reason."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import text

from tests.edfi.conftest import enrollment, lea, school, student

JOBS = "/data/v3/bulkOperations"
CATEGORY = "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"
LEA_CATEGORY = "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent"
LEA_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<InterchangeEducationOrganization xmlns="http://ed-fi.org/5.2.0">
  <LocalEducationAgency id="LEA_1">
    <NameOfInstitution>Bulk Bend ISD</NameOfInstitution>
    <EducationOrganizationCategory>{CATEGORY}</EducationOrganizationCategory>
    <LocalEducationAgencyId>255977</LocalEducationAgencyId>
    <LocalEducationAgencyCategory>{LEA_CATEGORY}</LocalEducationAgencyCategory>
  </LocalEducationAgency>
</InterchangeEducationOrganization>
"""


def ndjson(*docs) -> str:
    return "".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs)


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def submit(client, headers, content: bytes | str, filename: str, **form):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        JOBS,
        data={"file": (io.BytesIO(data), filename), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def district_package(bad_student_line: str | None = None) -> bytes:
    students = [student("B-1", "Ana"), student("B-2", "Ben")]
    return zipped(
        {
            # the archive's order is not the load's: dependencies go first whatever it is
            "studentSchoolAssociations.ndjson": ndjson(
                enrollment("B-1", 255977001), enrollment("B-2", 255977001)
            ),
            "students.ndjson": ndjson(*students, *([bad_student_line] if bad_student_line else [])),
            "schools.ndjson": ndjson(school(255977001, 255977, "Bulk High")),
            "localEducationAgencies.ndjson": ndjson(lea(255977, "Bulk Bend ISD")),
        }
    )


def students_named(db_session, *unique_ids) -> list[str]:
    rows = db_session.execute(
        text("SELECT student_unique_id FROM students WHERE student_unique_id = ANY(:ids)"),
        {"ids": list(unique_ids)},
    )
    return sorted(r[0] for r in rows)


def test_a_package_is_loaded_in_dependency_order_and_projected(
    client, auth_headers, descriptors_loaded, sync_jobs, db_session
):
    headers = auth_headers()
    response = submit(client, headers, district_package(), "district.zip")
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"].endswith(f"{JOBS}/{job['id']}")
    assert job["status"] == "applied", job["report"]
    assert job["counts"] == {
        "localEducationAgencies": {"created": 1, "updated": 0, "rejected": 0},
        "schools": {"created": 1, "updated": 0, "rejected": 0},
        "studentSchoolAssociations": {"created": 2, "updated": 0, "rejected": 0},
        "students": {"created": 2, "updated": 0, "rejected": 0},
    }
    read = client.get("/data/v3/ed-fi/students?studentUniqueId=B-1", headers=headers)
    assert [s["firstName"] for s in read.get_json()] == ["Ana"]
    # the OneRoster side was written in the same transaction
    users = db_session.execute(
        text("SELECT given_name FROM users WHERE identifier IN ('B-1', 'B-2') ORDER BY 1")
    ).scalars()
    assert list(users) == ["Ana", "Ben"]
    again = client.get(response.headers["Location"], headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "applied"


def test_one_bad_record_rejects_the_package_and_names_file_line_and_path(
    client, auth_headers, descriptors_loaded, sync_jobs, db_session
):
    missing_birth_date = {"studentUniqueId": "B-3", "firstName": "Cy", "lastSurname": "Doe"}
    package = zipped(
        {
            "students.ndjson": ndjson(student("B-1"), missing_birth_date, '{"studentUniqueId": '),
            "sections.txt": "not a bulk file",
        }
    )
    job = submit(client, auth_headers(), package, "bad.zip").get_json()
    assert job["status"] == "rejected"
    reasons = {r["source"]: r["reason"] for r in job["report"]["rejected"]}
    assert "$.birthDate" in reasons["students.ndjson line 2"]
    assert reasons["students.ndjson line 3"].startswith("column ")
    assert "not a JSON document" in reasons["students.ndjson line 3"]
    assert "sections.txt" in reasons
    assert job["counts"]["students"]["rejected"] == 2
    assert students_named(db_session, "B-1", "B-3") == []  # the valid record was not kept either


def test_a_reference_to_a_record_rejected_in_the_same_package_is_rejected_too(
    client, auth_headers, descriptors_loaded, sync_jobs, db_session
):
    job = submit(client, auth_headers(), district_package('{"studentUniqueId": "B-9"}'), "d.zip")
    body = job.get_json()
    assert body["status"] == "rejected"
    assert [r["source"] for r in body["report"]["rejected"]] == ["students.ndjson line 3"]
    assert students_named(db_session, "B-1", "B-2") == []


def test_dry_run_checks_everything_and_applies_nothing(
    client, auth_headers, descriptors_loaded, sync_jobs, db_session
):
    job = submit(client, auth_headers(), district_package(), "d.zip", dryRun="true").get_json()
    assert job["status"] == "dry-run" and job["dryRun"] is True
    assert job["counts"]["students"]["created"] == 2
    assert students_named(db_session, "B-1", "B-2") == []


def test_a_limited_client_is_authorized_record_by_record_like_the_api(
    client, auth_headers, descriptors_loaded, sync_jobs, district, db_session
):
    district()  # LEAs 255901 and 255902 with their schools
    limited = auth_headers(edorgs=["255902"])
    package = zipped(
        {
            "students.ndjson": ndjson(student("L-1"), student("L-2")),
            "studentSchoolAssociations.ndjson": ndjson(
                enrollment("L-1", 255902001), enrollment("L-2", 255901001)
            ),
        }
    )
    job = submit(client, limited, package, "limited.zip").get_json()
    assert job["status"] == "rejected"
    (refused,) = job["report"]["rejected"]
    assert refused["source"] == "studentSchoolAssociations.ndjson line 2"
    assert "No relationships have been established" in refused["reason"]
    assert students_named(db_session, "L-1", "L-2") == []

    allowed = zipped({"studentSchoolAssociations.ndjson": ndjson(enrollment("L-1", 255902001)),
                      "students.ndjson": ndjson(student("L-1"))})  # fmt: skip
    assert submit(client, limited, allowed, "ok.zip").get_json()["status"] == "applied"


def test_interchange_xml_is_read_and_a_doctype_is_refused(
    client, auth_headers, descriptors_loaded, sync_jobs
):
    headers = auth_headers()
    job = submit(client, headers, LEA_XML, "EducationOrganization.xml").get_json()
    assert job["status"] == "applied", job["report"]
    assert job["counts"] == {"localEducationAgencies": {"created": 1, "updated": 0, "rejected": 0}}
    entities = '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>\n'
    hostile = LEA_XML.replace("<Interchange", entities + "<Interchange", 1)
    refused = submit(client, headers, hostile, "Hostile.xml").get_json()
    assert refused["status"] == "rejected"
    assert "document type declaration" in refused["report"]["rejected"][0]["reason"]
    broken = submit(client, headers, LEA_XML[:-40], "Broken.xml").get_json()
    assert broken["status"] == "rejected"
    assert broken["report"]["rejected"][0]["reason"].startswith("line ")


def test_jobs_are_private_listed_newest_first_and_not_csv_imports(
    client, auth_headers, descriptors_loaded, sync_jobs
):
    mine = auth_headers(name="sis")
    first = submit(client, mine, LEA_XML, "one.xml").get_json()["id"]
    second = submit(client, mine, ndjson(student("P-1")), "students.ndjson").get_json()["id"]
    listed = client.get(JOBS, headers=mine).get_json()
    assert [j["id"] for j in listed][:2] == [second, first]
    other = auth_headers(name="another vendor")
    assert client.get(f"{JOBS}/{first}", headers=other).status_code == 404
    assert client.get(JOBS, headers=other).get_json() == []
    csv_read = client.get(f"/oneroster/csv/imports/{first}", headers=mine)
    assert csv_read.status_code == 404


def test_submitting_needs_the_write_scope_and_a_file(client, auth_headers, descriptors_loaded):
    reader = auth_headers(scopes=["edfi.read"])
    assert submit(client, reader, LEA_XML, "x.xml").status_code == 403
    empty = client.post(JOBS, data={}, headers=auth_headers(), content_type="multipart/form-data")
    assert empty.status_code == 400
    assert empty.mimetype == "application/problem+json"
    assert client.get(f"{JOBS}/not-a-uuid", headers=auth_headers()).status_code == 404
    assert client.get(f"{JOBS}?limit=0", headers=auth_headers()).status_code == 400


def test_the_operators_loader_reads_packages_the_same_way(
    tmp_path, app, db_session, descriptors_loaded
):
    from gateway.edfi.loader import load_interchange

    (tmp_path / "students.ndjson").write_text(ndjson(student("O-1"), "[1,"), encoding="utf-8")
    (tmp_path / "EducationOrganization.xml").write_text(LEA_XML, encoding="utf-8")
    with app.app_context():
        report = load_interchange(db_session, tmp_path)
    assert report.created == {"students": 1, "localEducationAgencies": 1}
    assert [(source, name) for source, name, _ in report.rejected] == [
        ("students.ndjson line 2", "students")
    ]
    assert students_named(db_session, "O-1") == ["O-1"]


def test_a_job_leaves_garbage_collection_on_whatever_its_end(
    client, auth_headers, descriptors_loaded, sync_jobs, monkeypatch
):
    """Collection pauses while a job loads (gateway.gc_pause): the worker collects again after
    a job applied, rejected or failed."""
    import gc

    from gateway.edfi import bulk_jobs

    headers = auth_headers()
    assert submit(client, headers, district_package(), "d.zip").get_json()["status"] == "applied"
    assert gc.isenabled()
    bad = district_package('{"studentUniqueId": "B-9"}')
    assert submit(client, headers, bad, "d.zip").get_json()["status"] == "rejected"
    assert gc.isenabled()

    collecting_while_loading = []

    def broken(*_args, **_kwargs):
        collecting_while_loading.append(gc.isenabled())
        raise RuntimeError("the database went away")

    monkeypatch.setattr(bulk_jobs, "load_records", broken)
    assert submit(client, headers, district_package(), "d.zip").get_json()["status"] == "failed"
    assert collecting_while_loading == [False]
    assert gc.isenabled()


def test_a_job_may_not_replace_a_stored_record_the_client_may_not_update(
    client, auth_headers, descriptors_loaded, sync_jobs, district, db_session
):
    """As a POST of an existing record: the stored one must be the client's to update (here
    another client's token owns it under OwnershipBased), not only the values it sends."""
    district()
    owner = auth_headers(
        edorgs=["255901"], name="A", claim_set="Ownership Based Test", ownership_token="One"
    )
    other = auth_headers(
        edorgs=["255901"], name="B", claim_set="Ownership Based Test", ownership_token="Two"
    )
    assert (
        client.post("/data/v3/ed-fi/students", json=student("O-1"), headers=owner).status_code
        == 201
    )
    takeover = zipped({"students.ndjson": ndjson(student("O-1", "Mallory"))})
    job = submit(client, other, takeover, "takeover.zip").get_json()
    assert job["status"] == "rejected"
    (refused,) = job["report"]["rejected"]
    assert "not owned by the caller" in refused["reason"]
    name = db_session.execute(
        text("SELECT first_name FROM students WHERE student_unique_id = 'O-1'")
    ).scalar_one()
    assert name == "Lisa"
