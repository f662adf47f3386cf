"""A link stores its natural key only without an Ed-Fi row: live links are written without one,
and every path that deletes a linked row stores it, so the record created again through the Ed-Fi
API gets its sourcedId back (an Ed-Fi API delete, the CSV projection's delete)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district

do_import = csv_suite.do_import
LATER = "2026-02-01T08:00:00.000Z"
# enr-2: student u-s1 (604822) in cls-1, beginning on its term's first day
ENR_2_KEY = {
    "beginDate": "2025-08-15",
    "localCourseCode": "ALG1",
    "schoolId": 255901001,
    "schoolYear": 2026,
    "sectionIdentifier": "ALG1-1",
    "sessionName": "Fall 2025",
    "studentUniqueId": "604822",
}
SERVER_FIELDS = ("id", "_etag", "_lastModifiedDate")


def link(db_session, sourced_id: str) -> tuple:
    return db_session.execute(
        sa.text(
            "SELECT edfi_resource, edfi_id, natural_key FROM mapping_links WHERE sourced_id = :s"
        ),
        {"s": sourced_id},
    ).one()


def status(db_session, sourced_id: str) -> str:
    return db_session.scalar(
        sa.text("SELECT status FROM enrollments WHERE sourced_id = :s"), {"s": sourced_id}
    )


def imported(tmp_path, do_import) -> None:
    folder = tmp_path / "bulk"
    folder.mkdir()
    report = do_import(write_package(folder, district()))
    assert report.status == "applied", report.as_dict()


def edfi_body(edfi, row_id) -> dict:
    response = edfi.get(f"studentSectionAssociations/{row_id}")
    assert response.status_code == 200, response.get_json()
    return {k: v for k, v in response.get_json().items() if k not in SERVER_FIELDS}


def test_live_links_are_written_without_a_natural_key(tmp_path, do_import, db_session):
    imported(tmp_path, do_import)
    rows = db_session.execute(
        sa.text("SELECT sourced_id, edfi_id IS NOT NULL, natural_key FROM mapping_links")
    ).all()
    assert {"org-s1", "cls-1", "u-s1", "enr-2"} <= {r[0] for r in rows}
    assert [r for r in rows if r[1] and r[2] is not None] == []


def test_an_enrollment_deleted_through_the_edfi_api_and_recreated_gets_its_sourced_id_back(
    tmp_path, do_import, edfi, db_session
):
    imported(tmp_path, do_import)
    resource, row_id, key = link(db_session, "enr-2")
    assert (resource, key) == ("studentSectionAssociations", None)
    body = edfi_body(edfi, row_id)

    assert edfi.delete("studentSectionAssociations", str(row_id)).status_code == 204
    assert link(db_session, "enr-2") == ("studentSectionAssociations", None, ENR_2_KEY)
    assert status(db_session, "enr-2") == "tobedeleted"

    assert edfi.post("studentSectionAssociations", body).status_code == 201
    _, back, key = link(db_session, "enr-2")
    assert back is not None and back != row_id and key is None
    assert status(db_session, "enr-2") == "active"
    assert edfi_body(edfi, back) == body


def test_an_enrollment_deleted_by_a_delta_keeps_its_key_for_the_record_created_again(
    tmp_path, do_import, edfi, db_session
):
    imported(tmp_path, do_import)
    _, row_id, _ = link(db_session, "enr-2")
    body = edfi_body(edfi, row_id)
    folder = tmp_path / "delta"
    folder.mkdir()
    enrollment = next(e for e in district()["enrollments"] if e["sourcedId"] == "enr-2")
    delta = {"enrollments": [{**enrollment, "status": "tobedeleted", "dateLastModified": LATER}]}
    report = do_import(write_package(folder, delta, {"enrollments": "delta"}))
    assert report.status == "applied", report.as_dict()
    assert link(db_session, "enr-2") == ("studentSectionAssociations", None, ENR_2_KEY)

    assert edfi.post("studentSectionAssociations", body).status_code == 201
    _, back, key = link(db_session, "enr-2")
    assert back is not None and key is None
    assert status(db_session, "enr-2") == "active"


def test_the_downgrade_rebuilds_the_keys_of_live_links(pg_server_url):
    from gateway import migrate
    from tests.conftest import recreate_database

    url = recreate_database(pg_server_url, "gateway_link_keys_test")
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            student = conn.scalar(
                sa.text(
                    "INSERT INTO students (student_unique_id, first_name, last_name) "
                    "VALUES ('604822', 'Lisa', 'Woods') RETURNING id"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO mapping_links (sourced_id, edfi_resource, natural_key, edfi_id) "
                    "VALUES ('u-live', 'students', NULL, :id), "
                    "('u-gone', 'students', '{\"studentUniqueId\": \"1\"}', NULL)"
                ),
                {"id": student},
            )
        migrate.downgrade(url, to="oneroster_0003")
        with engine.connect() as conn:
            keys = dict(
                conn.execute(sa.text("SELECT sourced_id, natural_key FROM mapping_links")).all()
            )
            nullable = conn.scalar(
                sa.text(
                    "SELECT is_nullable FROM information_schema.columns "
                    "WHERE table_name = 'mapping_links' AND column_name = 'natural_key'"
                )
            )
        assert keys == {
            "u-live": {"studentUniqueId": "604822"},
            "u-gone": {"studentUniqueId": "1"},
        }
        assert nullable == "NO"
        migrate.upgrade(url)
    finally:
        engine.dispose()


def test_one_link_per_edfi_row_and_any_number_of_orphans(db_session):
    insert = sa.text(
        "INSERT INTO mapping_links (sourced_id, edfi_resource, natural_key, edfi_id) "
        "VALUES (:s, 'students', CAST(:k AS jsonb), :id)"
    )
    row_id = uuid.uuid4()
    db_session.execute(insert, {"s": "u-a", "k": None, "id": row_id})
    for sid in ("u-b", "u-c"):  # NULL Ed-Fi ids never collide
        db_session.execute(insert, {"s": sid, "k": '{"studentUniqueId": "9"}', "id": None})
    with pytest.raises(IntegrityError, match="ux_mapping_links_edfi_id"):
        with db_session.begin_nested():
            db_session.execute(insert, {"s": "u-d", "k": None, "id": row_id})


def test_edfi_born_links_keep_a_key_only_for_records_without_a_row(rostered, db_session):
    rows = db_session.execute(
        sa.text("SELECT edfi_resource, edfi_id, natural_key FROM mapping_links")
    ).all()
    live = {r[0] for r in rows if r[1] is not None}
    assert {"students", "sections", "studentSectionAssociations"} <= live
    assert [r for r in rows if r[1] is not None and r[2] is not None] == []
    # derived records (a school year, a line item category) have no Ed-Fi row: found by key
    derived = {r[0]: r[2] for r in rows if r[1] is None}
    assert derived == {
        "schoolYears": {"schoolYear": 2022},
        "gradebookEntryTypes": {
            "gradebookEntryTypeDescriptor": "uri://ed-fi.org/GradebookEntryTypeDescriptor#Homework"
        },
    }
