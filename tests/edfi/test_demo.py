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
