"""Loading the Grand Bend interchange XML through the service layer."""

from __future__ import annotations

from pathlib import Path

from gateway.edfi.definitions import registry
from gateway.edfi.interchange import InterchangeReader, Record
from gateway.edfi.loader import LoadReport, load_interchange, load_records
from gateway.paths import ROOT

SAMPLE = ROOT / "gateway" / "edfi" / "sample" / "grand-bend"


def test_reader_maps_xml_to_the_api_shape():
    reader = InterchangeReader(registry())
    path = SAMPLE / "MasterSchedule.xml"
    reader.index_ids(path)
    section = next(
        r for r in reader.records(path) if isinstance(r, Record) and r.resource == "sections"
    )
    assert section.body["courseOfferingReference"] == {
        "localCourseCode": "ALG-1",
        "schoolId": 255901001,
        "schoolYear": 2022,
        "sessionName": "2021-2022 Fall Semester",
    }
    assert section.body["locationReference"] == {
        "classroomIdentificationCode": "220",
        "schoolId": 255901001,
    }
    assert section.body["availableCredits"] == 1.0


def test_load_reports_counts_and_rejects_bad_records(edfi, db_session, tmp_path: Path):
    (tmp_path / "EducationOrganization.xml").write_text(
        (SAMPLE / "EducationOrganization.xml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    strict = load_interchange(db_session, tmp_path)
    # the sample's schools use Grand Bend's own indicator descriptors, absent from the official set
    assert strict.created["schools"] == 0
    assert any(
        "IndicatorDescriptor value 'uri://gbisd.edu/IndicatorDescriptor#Retention Rate' "
        "does not exist" in reason
        for _, name, reason in strict.rejected
        if name == "schools"
    )
    report = load_interchange(db_session, tmp_path, ("uri://gbisd.edu",))
    # 38 of the sample's courses name learning standards its files do not hold: unresolved
    # references, as the Ed-Fi API rejects them (the demo gives them minimal standards)
    assert {(name, reason.split(" item ")[0]) for _, name, reason in report.rejected} == {
        ("courses", "The referenced 'LearningStandard'")
    }
    assert len(report.rejected) == 38
    assert report.created["indicatorDescriptors"] == 1
    assert report.created["schools"] == 3
    assert strict.created["localEducationAgencies"] == 1
    assert report.created["courses"] == 84 - 38
    assert report.created["locations"] == 56
    assert (
        edfi.get("schools", query_string={"schoolId": 255901001}).get_json()[0]["nameOfInstitution"]
        == "Grand Bend High School"
    )
    bad = LoadReport()
    load_records(
        db_session,
        [
            Record(
                "studentSchoolAssociations",
                {
                    "studentReference": {"studentUniqueId": "nobody"},
                    "schoolReference": {"schoolId": 255901001},
                    "entryDate": "2021-08-23",
                    "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
                },
                "x.xml: SSA #1",
            ),
            Record(
                "students",
                {
                    "studentUniqueId": "1",
                    "firstName": "A",
                    "lastSurname": "B",
                    "birthDate": "2010-01-01",
                },
                "x.xml: Student #1",
            ),
        ],
        bad,
    )
    assert bad.created["students"] == 1
    assert bad.rejected == [
        (
            "x.xml: SSA #1",
            "studentSchoolAssociations",
            "The referenced 'Student' item does not exist (studentUniqueId=nobody).",
        )
    ]
    assert any(line.startswith("REJECTED x.xml: SSA #1") for line in bad.lines())


def test_bulk_load_checks_like_the_api(edfi, db_session, district):
    """Set-based loads apply the API rules per record: bad ones rejected, the rest written."""
    district()
    good = {
        "studentUniqueId": "800001",
        "firstName": "A",
        "lastSurname": "B",
        "birthDate": "2010-01-01",
    }
    records = [
        Record("students", good, "s #1"),
        Record(
            "students", {**good, "studentUniqueId": "800002", "birthDate": "not a date"}, "s #2"
        ),
        Record(
            "students",
            {
                **good,
                "studentUniqueId": "800003",
                "birthSexDescriptor": "uri://ed-fi.org/SexDescriptor#Nope",
            },
            "s #3",
        ),
        Record("students", {**good, "firstName": "Again"}, "s #4"),
        Record(
            "studentSchoolAssociations",
            {
                "studentReference": {"studentUniqueId": "800001"},
                "schoolReference": {"schoolId": 255901001},
                "entryDate": "2021-08-23",
                "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
            },
            "ssa #1",
        ),
        Record(
            "studentSchoolAssociations",
            {
                "studentReference": {"studentUniqueId": "800001"},
                "schoolReference": {"schoolId": 1},
                "entryDate": "2021-08-23",
                "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
            },
            "ssa #2",
        ),
    ]
    report = LoadReport()
    load_records(db_session, records, report)
    assert report.created["students"] == 1 and report.updated["students"] == 1
    assert report.created["studentSchoolAssociations"] == 1
    reasons = {source: reason for source, _, reason in report.rejected}
    assert set(reasons) == {"s #2", "s #3", "ssa #2"}
    assert "$.birthDate" in reasons["s #2"]
    assert (
        "SexDescriptor value 'uri://ed-fi.org/SexDescriptor#Nope' does not exist."
        in reasons["s #3"]
    )
    assert reasons["ssa #2"] == "The referenced 'School' item does not exist (schoolId=1)."
    [doc] = edfi.get("students", query_string={"studentUniqueId": "800001"}).get_json()
    assert doc["firstName"] == "Again"
    assert edfi.get("students", query_string={"studentUniqueId": "800002"}).get_json() == []


ATTENDANCE = """<?xml version="1.0" encoding="UTF-8"?>
<InterchangeStudentAttendance xmlns="http://ed-fi.org/5.2.0">
  <StudentSchoolAttendanceEvent>
    <StudentReference><StudentIdentity><StudentUniqueId>720001</StudentUniqueId></StudentIdentity>
    </StudentReference>
    <SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId></SchoolIdentity>
    </SchoolReference>
    <SessionReference><SessionIdentity><SchoolId>255901001</SchoolId>
      <SchoolYear>2021-2022</SchoolYear><SessionName>2021-2022 Fall Semester</SessionName>
    </SessionIdentity></SessionReference>
    <EventDate>2021-09-01</EventDate>
    <AttendanceEventCategory>uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy</AttendanceEventCategory>
    <EventDuration>0.25</EventDuration>
  </StudentSchoolAttendanceEvent>
  <ClassPeriod>
    <ClassPeriodName>01 - Traditional</ClassPeriodName>
    <SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId></SchoolIdentity>
    </SchoolReference>
  </ClassPeriod>
  <BellSchedule>
    <BellScheduleName>Normal</BellScheduleName>
    <ClassPeriodReference><ClassPeriodIdentity><ClassPeriodName>01 - Traditional</ClassPeriodName>
      <SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId></SchoolIdentity>
      </SchoolReference></ClassPeriodIdentity></ClassPeriodReference>
    <SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId></SchoolIdentity>
    </SchoolReference>
    <GradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Ninth grade</GradeLevel>
  </BellSchedule>
</InterchangeStudentAttendance>
"""


def test_interchanges_of_every_served_resource_load(edfi, district, db_session, tmp_path):
    """Resources beyond the rostering set load from their interchange XML like the rest: a
    student's attendance event and a bell schedule (not in the Grand Bend sample)."""
    from tests.edfi.conftest import session_body, student

    district()
    edfi.create("students", student("720001"))
    edfi.create("sessions", session_body(255901001))
    (tmp_path / "StudentAttendance.xml").write_text(ATTENDANCE, encoding="utf-8")
    report = load_interchange(db_session, tmp_path)
    assert report.rejected == []
    assert report.created == {
        "studentSchoolAttendanceEvents": 1,
        "classPeriods": 1,
        "bellSchedules": 1,
    }
    [event] = edfi.get("studentSchoolAttendanceEvents").get_json()
    assert event["attendanceEventCategoryDescriptor"].endswith("#Tardy")
    assert event["sessionReference"]["schoolYear"] == 2022 and event["eventDuration"] == 0.25
    [schedule] = edfi.get("bellSchedules").get_json()
    assert schedule["classPeriods"][0]["classPeriodReference"]["classPeriodName"] == (
        "01 - Traditional"
    )
    assert schedule["gradeLevels"] == [
        {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}
    ]
