"""Start-up work: descriptors always; with `demo`, the Grand Bend sample district.

The sample has no student-enrollment interchange, so the demo also synthesizes deterministic
student school and section associations (labelled as synthesized in the README), placing the
students the sample's gradebook grades in the sections it grades them in: the same sample loaded
into an empty database always gives the same enrollments. Nor has it graduation plans, which
enrollments name: the high school gets one per plan type (`synthesized_graduation_plans`). From
the enrollments come attendance, program participation and assessment results (`demo_activity`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from gateway.db import get_session
from gateway.edfi.definitions import registry
from gateway.edfi.demo_activity import synthesized_activity
from gateway.edfi.descriptors import seed_reference_data
from gateway.edfi.interchange import Record
from gateway.edfi.loader import LoadReport, load_records, read_interchange
from gateway.paths import DESCRIPTORS_DIR

log = logging.getLogger(__name__)
SAMPLE_DIR = Path(__file__).resolve().parent / "sample" / "grand-bend"
TEMPLATE_PLACEMENTS = SAMPLE_DIR.parent / "template-placements.json"
DISTRICT_NAMESPACE = "uri://gbisd.edu"
SECTIONS_PER_STUDENT = 4


def bootstrap(app: Flask, *, demo: bool) -> None:
    session = get_session()
    for line in seed_reference_data(session, DESCRIPTORS_DIR):
        log.info("edfi: %s", line)
    if demo and not has_edfi_data(session):
        report = load_demo(session)
        log.info("edfi: loaded the Grand Bend sample district:\n%s", "\n".join(report.lines()))


def has_edfi_data(session: Session) -> bool:
    reg = registry()
    return any(
        session.scalar(sa.select(sa.exists().select_from(reg.resources[name].table)))
        for name in ("localEducationAgencies", "schools", "students")
    )


def load_demo(session: Session) -> LoadReport:
    records, report = read_interchange(SAMPLE_DIR, (DISTRICT_NAMESPACE,))
    load_records(session, sample_learning_standards(records) + records, report)
    load_records(session, synthesized_graduation_plans(session), report)
    enrollments = synthesized_enrollments(session)
    load_records(session, enrollments, report)
    load_records(session, synthesized_activity(enrollments), report)
    return report


GRADUATION_GRADE = "uri://ed-fi.org/GradeLevelDescriptor#Twelfth grade"
PLAN_CREDITS = 22  # the synthesized plans' total required credits (not from the sample)


def synthesized_graduation_plans(session: Session) -> list[Record]:
    """The sample has no graduation-plan interchange, yet an enrollment names its student's plan:
    each school offering twelfth grade gets one plan per graduation plan type (the Ed-Fi values
    loaded from descriptors/) for the class graduating at the end of the sample's latest school
    year, as the ODS/API's populated template has Grand Bend High School's."""
    reg = registry()
    schools = reg.resources["schools"].table
    sessions = reg.resources["sessions"].table
    values = reg.resources["graduationPlanTypeDescriptors"].table
    year = session.scalar(sa.select(sa.func.max(sessions.c.school_year)))
    if year is None:
        return []
    types = [
        f"{namespace}#{code}"
        for namespace, code in session.execute(
            sa.select(values.c.namespace, values.c.code_value)
            .where(values.c.descriptor_name == "GraduationPlanTypeDescriptor")
            .where(values.c.namespace == "uri://ed-fi.org/GraduationPlanTypeDescriptor")
            .order_by(values.c.code_value)
        )
    ]
    records: list[Record] = []
    for school_id, grade_levels in session.execute(
        sa.select(schools.c.school_id, schools.c.grade_levels).order_by(schools.c.school_id)
    ):
        offered = {g.get("gradeLevelDescriptor") for g in grade_levels or []}
        if GRADUATION_GRADE not in offered:
            continue
        for uri in types:
            records.append(
                Record(
                    "graduationPlans",
                    {
                        "educationOrganizationReference": {"educationOrganizationId": school_id},
                        "graduationPlanTypeDescriptor": uri,
                        "graduationSchoolYearTypeReference": {"schoolYear": year},
                        "totalRequiredCredits": PLAN_CREDITS,
                    },
                    f"synthesized graduation plan of school {school_id}",
                )
            )
    return records


def sample_learning_standards(records: list[Record]) -> list[Record]:
    """The learning standards the sample's courses name: the Grand Bend download has no Standards
    interchange, so each gets a minimal record (its id as description, the course's subject and
    grade levels) under the district's namespace; without them those courses, and everything
    offered from them, would be rejected as unresolved references, as the Ed-Fi API rejects them."""
    found: dict[str, Record] = {}
    for record in records:
        if record.resource != "courses":
            continue
        body = record.body
        subjects = (
            [{"academicSubjectDescriptor": body["academicSubjectDescriptor"]}]
            if body.get("academicSubjectDescriptor")
            else [{"academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Other"}]
        )
        grades = [
            {"gradeLevelDescriptor": g["gradeLevelDescriptor"]}
            for g in body.get("offeredGradeLevels", [])
        ] or [{"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ungraded"}]
        for item in body.get("learningStandards", []):
            standard_id = item.get("learningStandardReference", {}).get("learningStandardId")
            if standard_id and standard_id not in found:
                found[standard_id] = Record(
                    "learningStandards",
                    {
                        "learningStandardId": standard_id,
                        "description": standard_id,
                        "namespace": DISTRICT_NAMESPACE,
                        "academicSubjects": subjects,
                        "gradeLevels": grades,
                        "contentStandard": {"title": "Grand Bend sample (not in the download)"},
                    },
                    f"{record.source} (learning standard {standard_id} it names)",
                )
    return list(found.values())


def gradebook_sections(session: Session) -> dict[str, list[Any]]:
    """The sections the sample itself places students in: those of the gradebook entries their
    student gradebook entries name (studentUniqueId → section keys, in a stable order)."""
    reg = registry()
    entries = reg.resources["gradebookEntries"].table
    graded = reg.resources["studentGradebookEntries"].table
    found: dict[str, list[Any]] = {}
    for row in session.execute(
        sa.select(
            graded.c.student_unique_id,
            entries.c.school_id,
            entries.c.school_year,
            entries.c.session_name,
            entries.c.local_course_code,
            entries.c.section_identifier,
        )
        .distinct()
        .join(
            entries,
            sa.and_(
                entries.c.gradebook_entry_identifier == graded.c.gradebook_entry_identifier,
                entries.c.namespace == graded.c.namespace,
            ),
        )
        .where(entries.c.section_identifier.is_not(None))
        .order_by(graded.c.student_unique_id, entries.c.school_id, entries.c.section_identifier)
    ):
        found.setdefault(row.student_unique_id, []).append(row)
    return found


def section_key(sec: Any) -> tuple:
    return (
        sec.local_course_code,
        sec.school_id,
        sec.school_year,
        sec.section_identifier,
        sec.session_name,
    )


def template_placements() -> dict[str, int]:
    """studentUniqueId → school where the ODS/API's populated template enrolls the student."""
    doc = json.loads(TEMPLATE_PLACEMENTS.read_text(encoding="utf-8"))
    return {student: int(school) for student, school in doc["schools"].items()}


def synthesized_enrollments(session: Session) -> list[Record]:
    """Each student (by studentUniqueId) goes to the school of the sections the sample's gradebook
    places them in (`gradebook_sections`), else to the school the populated template enrolls them
    in where known (`template_placements`), else to a school round-robin, at one of the school's
    grade levels, entering on the school's first session day; then into those sections and as many
    more of that school's sections as make SECTIONS_PER_STUDENT, spread evenly. Deterministic: no
    randomness, stable orderings only."""
    reg = registry()
    students = reg.resources["students"].table
    schools = reg.resources["schools"].table
    sessions = reg.resources["sessions"].table
    sections = reg.resources["sections"].table
    student_ids = session.scalars(
        sa.select(students.c.student_unique_id).order_by(students.c.student_unique_id)
    ).all()
    school_rows = session.execute(
        sa.select(schools.c.school_id, schools.c.grade_levels).order_by(schools.c.school_id)
    ).all()
    if not student_ids or not school_rows:
        return []
    first_day: dict[int, Any] = {
        school_id: day
        for school_id, day in session.execute(
            sa.select(sessions.c.school_id, sa.func.min(sessions.c.begin_date)).group_by(
                sessions.c.school_id
            )
        )
    }
    session_begin = {
        (r.school_id, r.school_year, r.session_name): r.begin_date
        for r in session.execute(
            sa.select(
                sessions.c.school_id,
                sessions.c.school_year,
                sessions.c.session_name,
                sessions.c.begin_date,
            )
        )
    }
    by_school: dict[int, list] = {}
    for row in session.execute(
        sa.select(
            sections.c.school_id,
            sections.c.school_year,
            sections.c.session_name,
            sections.c.local_course_code,
            sections.c.section_identifier,
        ).order_by(sections.c.school_id, sections.c.section_identifier)
    ):
        by_school.setdefault(row.school_id, []).append(row)
    evidence = gradebook_sections(session)
    grade_levels_of: dict[int, Any] = {row[0]: row[1] for row in school_rows}
    placed = template_placements()
    records: list[Record] = []
    for i, unique_id in enumerate(student_ids):
        school_id, grade_levels = school_rows[i % len(school_rows)]
        known = evidence.get(unique_id, [])
        if known and known[0].school_id in grade_levels_of:
            school_id = known[0].school_id
            grade_levels = grade_levels_of[school_id]
            known = [sec for sec in known if sec.school_id == school_id]
        elif placed.get(unique_id) in grade_levels_of:
            school_id = placed[unique_id]
            grade_levels = grade_levels_of[school_id]
        grades = [g["gradeLevelDescriptor"] for g in grade_levels or []] or [
            "uri://ed-fi.org/GradeLevelDescriptor#Ungraded"
        ]
        entry = first_day.get(school_id)
        if entry is None:
            continue
        records.append(
            Record(
                "studentSchoolAssociations",
                {
                    "studentReference": {"studentUniqueId": unique_id},
                    "schoolReference": {"schoolId": school_id},
                    "entryDate": entry.isoformat(),
                    "entryGradeLevelDescriptor": grades[(i // len(school_rows)) % len(grades)],
                },
                f"synthesized enrollment of student {unique_id}",
            )
        )
        offered = by_school.get(school_id, [])
        if not offered:
            continue
        step = max(1, len(offered) // SECTIONS_PER_STUDENT)
        picked = {
            (i // len(school_rows) + k * step) % len(offered) for k in range(SECTIONS_PER_STUDENT)
        }
        chosen = list(known)
        taken = {section_key(sec) for sec in known}
        for index in sorted(picked):
            sec = offered[index]
            if len(chosen) < SECTIONS_PER_STUDENT and section_key(sec) not in taken:
                chosen.append(sec)
        for sec in chosen:
            begin = session_begin.get((sec.school_id, sec.school_year, sec.session_name), entry)
            records.append(
                Record(
                    "studentSectionAssociations",
                    {
                        "studentReference": {"studentUniqueId": unique_id},
                        "sectionReference": {
                            "localCourseCode": sec.local_course_code,
                            "schoolId": sec.school_id,
                            "schoolYear": sec.school_year,
                            "sectionIdentifier": sec.section_identifier,
                            "sessionName": sec.session_name,
                        },
                        "beginDate": begin.isoformat(),
                    },
                    f"synthesized section enrollment of student {unique_id}",
                )
            )
    return records
