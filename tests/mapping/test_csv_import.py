"""A OneRoster CSV import reaches Ed-Fi in the import's transaction: what OneRoster can say, and
nothing invented; records Ed-Fi cannot place (no identifier) stay OneRoster-only."""

from __future__ import annotations

import sqlalchemy as sa

from gateway.mapping.to_oneroster.project import Projector
from tests.csv import conftest as csv_suite
from tests.csv.conftest import write_package
from tests.csv.district import district

do_import = csv_suite.do_import


def test_csv_import_projects_into_edfi(tmp_path, do_import, db_session):
    report = do_import(write_package(tmp_path, district()))
    assert report.status == "applied", report.as_dict()
    edfi = Projector(db_session)
    (school,) = edfi.fetch("schools", schoolId=[255901001])
    assert school["localEducationAgencyReference"] == {"localEducationAgencyId": 255901}
    # OneRoster orgs carry no grades; Ed-Fi requires a school's: the documented "not known" value
    assert school["gradeLevels"] == [
        {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#No grade level"}
    ]
    # cls-1's periods "1,2": the Ed-Fi section's class periods, each a class period of its school
    (section,) = edfi.fetch("sections", sectionIdentifier=["ALG1-1"])
    assert section["classPeriods"] == [
        {"classPeriodReference": {"classPeriodName": p, "schoolId": 255901001}} for p in "12"
    ]
    periods = edfi.fetch("classPeriods", schoolId=[255901001])
    assert sorted(p["classPeriodName"] for p in periods) == ["1", "2"]
    (student,) = edfi.fetch("students", studentUniqueId=["604822"])
    assert (student["firstName"], student["lastSurname"], student["birthDate"]) == (
        "דוד",
        "כהן",
        "2010-03-04",
    )
    (seoa,) = edfi.fetch("studentEducationOrganizationAssociations", studentUniqueId=["604822"])
    assert seoa["sexDescriptor"] == "uri://ed-fi.org/SexDescriptor#Male"
    # u-s2 has no identifier and u-p1 (a parent) none either: no Ed-Fi record is invented
    assert [s["studentUniqueId"] for s in edfi.fetch("students")] == ["604822"]
    assert edfi.fetch("contacts") == []
    # no echo: the OneRoster rows are still the import's, and no Ed-Fi-born copy appeared
    origins = set(db_session.scalars(sa.text("SELECT DISTINCT origin FROM users")))
    assert origins == {"oneroster-csv"}
    links = db_session.execute(
        sa.text("SELECT sourced_id, origin FROM mapping_links WHERE edfi_resource = 'students'")
    ).all()
    assert links == [("u-s1", "oneroster")]
