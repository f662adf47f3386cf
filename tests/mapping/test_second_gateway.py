"""The round trip across two gateways: Ed-Fi in → OneRoster out (gateway A) → OneRoster in
(gateway B, stored as a CSV import stores it) → Ed-Fi out, keeping every field both standards
share."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway import migrate
from gateway.app import create_app
from gateway.db import Base, Database
from gateway.edfi.descriptors import load_descriptors
from gateway.edfi.interchange import Record
from gateway.edfi.loader import LoadReport, load_records
from gateway.mapping.to_edfi.bulk import project_import
from gateway.mapping.to_oneroster.project import Projector
from gateway.paths import DESCRIPTORS_DIR
from tests.conftest import TestConfig, recreate_database
from tests.mapping.conftest import bodies

TABLES = {
    "organizations": "org",
    "oneroster_courses": "course",
    "academic_sessions": "academicSession",
    "classes": "class",
    "users": "user",
    "demographics": "demographics",
    "enrollments": "enrollment",
}
SHARED = {
    "localEducationAgencies": ("localEducationAgencyId", "nameOfInstitution"),
    "schools": ("schoolId", "nameOfInstitution", "localEducationAgencyReference"),
    "students": (
        "studentUniqueId",
        "firstName",
        "middleName",
        "lastSurname",
        "birthDate",
        "birthCity",
    ),
    "studentSchoolAssociations": (
        "studentReference",
        "schoolReference",
        "entryDate",
        "entryGradeLevelDescriptor",
    ),
    "staffs": ("staffUniqueId", "firstName", "lastSurname"),
    "contacts": ("contactUniqueId", "firstName", "lastSurname"),
    "studentContactAssociations": ("contactReference", "studentReference"),
    "sessions": (
        "sessionName",
        "schoolReference",
        "schoolYearTypeReference",
        "beginDate",
        "endDate",
    ),
    "courses": (
        "courseCode",
        "educationOrganizationReference",
        "courseTitle",
        "offeredGradeLevels",
    ),
    "courseOfferings": (
        "localCourseCode",
        "courseReference",
        "schoolReference",
        "sessionReference",
    ),
    "sections": ("sectionIdentifier", "courseOfferingReference", "sectionName"),
    "studentSectionAssociations": ("studentReference", "sectionReference", "beginDate"),
    "staffSectionAssociations": (
        "staffReference",
        "sectionReference",
        "beginDate",
        "classroomPositionDescriptor",
    ),
}


def gateway(pg_server_url, dynamodb_endpoint, name):
    url = recreate_database(pg_server_url, name)
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    app = create_app(TestConfig(url, dynamodb_endpoint), database=Database(engine))
    return url, engine, app


@pytest.mark.timeout(600)
def test_edfi_to_oneroster_to_second_gateway_to_edfi(pg_server_url, dynamodb_endpoint):
    url_a, engine_a, app_a = gateway(pg_server_url, dynamodb_endpoint, "gateway_mapping_a")
    url_b, engine_b, app_b = gateway(pg_server_url, dynamodb_endpoint, "gateway_mapping_b")
    try:
        with app_a.app_context(), Session(engine_a) as session:
            load_descriptors(session, DESCRIPTORS_DIR)
            report = LoadReport()
            load_records(session, [Record(r, b, r) for r, b in bodies()], report)
            assert report.rejected == []
            exported = {
                t: [dict(r) for r in session.execute(sa.text(f"SELECT * FROM {t}")).mappings()]
                for t in TABLES
            }
        with app_b.app_context(), Session(engine_b) as session:
            for table, rows in exported.items():
                if rows:  # stored as a OneRoster CSV import stores them
                    target = Base.metadata.tables[table]
                    session.execute(sa.insert(target), [{**r, "origin": "csv"} for r in rows])
            project_import(
                session,
                {TABLES[t]: [r["sourced_id"] for r in rows] for t, rows in exported.items()},
            )
            session.commit()
            back = Projector(session)
            for resource, fields in SHARED.items():
                originals = [b for r, b in bodies() if r == resource]
                got = back.fetch(resource)
                assert len(got) == len(originals), resource
                for original in originals:
                    match = [
                        g
                        for g in got
                        if all(_plain(g.get(f)) == original.get(f) for f in fields[:1])
                    ]
                    assert match, (resource, original)
                    for f in fields:
                        if f in original:
                            assert _plain(match[0].get(f)) == original[f], (resource, f)
    finally:
        engine_a.dispose()
        engine_b.dispose()
        recreate_database(pg_server_url, "gateway_mapping_a")
        recreate_database(pg_server_url, "gateway_mapping_b")


def _plain(value):
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "link"}
    return value
