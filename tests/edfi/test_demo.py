"""The demo district: the whole Grand Bend sample plus synthesized enrollments, deterministic."""

from __future__ import annotations

import time

from gateway.edfi.demo import has_edfi_data, load_demo


def test_demo_loads_the_sample_and_synthesizes_enrollments(edfi, db_session):
    assert not has_edfi_data(db_session)
    started = time.perf_counter()
    report = load_demo(db_session)
    elapsed = time.perf_counter() - started
    print("\n".join(report.lines()), f"\n{elapsed:.1f}s")
    assert report.rejected == []
    assert report.created["students"] == 960
    assert report.created["studentSchoolAssociations"] == 960
    assert report.created["studentSectionAssociations"] > 960
    assert report.created["sections"] == 532
    assert has_edfi_data(db_session)
    r = edfi.get("students", query_string={"totalCount": "true", "limit": 1})
    assert r.headers["Total-Count"] == "960"
    first = edfi.get(
        "studentSchoolAssociations", query_string={"studentUniqueId": "604821"}
    ).get_json()
    assert len(first) == 1 and first[0]["schoolReference"]["schoolId"] == 255901001
    # a student the sample's gradebook grades is enrolled where it grades them (as in the
    # ODS/API's populated Grand Bend template): 604822 in ALG-1 at Grand Bend High School
    graded = edfi.get(
        "studentSchoolAssociations", query_string={"studentUniqueId": "604822"}
    ).get_json()
    assert [a["schoolReference"]["schoolId"] for a in graded] == [255901001]
    sections = edfi.get(
        "studentSectionAssociations", query_string={"studentUniqueId": "604822"}
    ).get_json()
    assert "25590100102Trad220ALG112011" in {
        s["sectionReference"]["sectionIdentifier"] for s in sections
    }
    assert len(sections) == len({s["sectionReference"]["sectionIdentifier"] for s in sections})
    # the sample has no graduation-plan interchange: each school offering twelfth grade gets one
    # plan per graduation plan type for the class graduating at the end of the sample's school
    # year (as the populated template has Grand Bend High School's), so an enrollment naming
    # its graduation plan resolves
    plans = edfi.get(
        "graduationPlans", query_string={"educationOrganizationId": 255901001}
    ).get_json()
    assert {
        (
            p["graduationPlanTypeDescriptor"].rsplit("#", 1)[1],
            p["graduationSchoolYearTypeReference"]["schoolYear"],
        )
        for p in plans
        if p["totalRequiredCredits"] > 0
    } >= {("Minimum", 2022), ("Recommended", 2022), ("Distinguished", 2022)}
    enrolled = edfi.post(
        "studentSchoolAssociations",
        {
            "graduationPlanReference": {
                "educationOrganizationId": 255901001,
                "graduationPlanTypeDescriptor": (
                    "uri://ed-fi.org/GraduationPlanTypeDescriptor#Minimum"
                ),
                "graduationSchoolYear": 2022,
            },
            "schoolReference": {"schoolId": 255901001},
            "studentReference": {"studentUniqueId": "604822"},
            "entryDate": "2021-08-23",
            "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
        },
    )
    assert enrolled.status_code in (200, 201), enrolled.get_json()
    # students the sample's interchanges place nowhere go where the populated template has them
    for unique_id in ("604824", "604828"):
        placed = edfi.get(
            "studentSchoolAssociations", query_string={"studentUniqueId": unique_id}
        ).get_json()
        assert [a["schoolReference"]["schoolId"] for a in placed] == [255901044]


def test_demo_synthesizes_the_activity_the_populated_template_has(edfi, db_session, auth_headers):
    """The sample has no attendance, program-participation nor assessment interchange, and the
    ODS/API's own suite reads such records in the populated template (partitions of section
    attendance events, program associations filtered by program or exit, assessment items and
    student assessments a district's client reads). The demo synthesizes them deterministically
    from its enrollments; a client of the district in the Ed-Fi namespace reads each kind."""
    report = load_demo(db_session)
    assert report.rejected == []
    district = edfi.with_headers(auth_headers(edorgs=[255901], namespace="uri://ed-fi.org"))

    def total(resource: str, **query) -> int:
        r = district.get(resource, query_string={"totalCount": "true", "limit": 0, **query})
        assert r.status_code == 200, r.get_json()
        return int(r.headers["Total-Count"])

    # more section attendance events than the 200 partitions the suite asks for, each of a
    # student in that section
    assert total("studentSectionAttendanceEvents") > 200
    events = district.get("studentSectionAttendanceEvents", query_string={"limit": 25})
    for event in events.get_json():
        student = event["studentReference"]["studentUniqueId"]
        sections = district.get(
            "studentSectionAssociations", query_string={"studentUniqueId": student}
        ).get_json()
        assert event["sectionReference"]["sectionIdentifier"] in {
            s["sectionReference"]["sectionIdentifier"] for s in sections
        }
    # program participation: bilingual students served in the regular session, and special
    # education students of whom some graduated out of the program
    assert total("studentProgramAssociations", programName="Bilingual") >= 2
    assert total("studentProgramAssociations", servedOutsideOfRegularSession="false") >= 2
    spa = district.get("studentProgramAssociations", query_string={"limit": 1}).get_json()[0]
    assert spa["studentReference"]["link"]["rel"] == "Student"
    assert (
        total(
            "studentSpecialEducationProgramAssociations",
            specialEducationExitExplained="Student Graduated with Diploma",
        )
        >= 2
    )
    # an assessment with items and an objective, and students' results on it
    assert total("assessmentItems") > 0
    assert total("objectiveAssessments") > 0
    results = district.get("studentAssessments", query_string={"limit": 5}).get_json()
    assert results and all(r["scoreResults"] and r["items"] for r in results)
