"""Test data for the OneRoster provider, inserted straight through the models."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from gateway.oneroster import models as m

BASE = "/ims/oneroster/v1p1"
T0 = dt.datetime(2026, 1, 10, 8, 0, 0, 123000, tzinfo=dt.UTC)


def at(days: int) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def org(
    sourced_id: str, name: str, type_: str, parent: str | None = None, **kw: Any
) -> m.Organization:
    return m.Organization(
        sourced_id=sourced_id,
        name=name,
        type=type_,
        identifier=kw.pop("identifier", sourced_id.upper()),
        parent_id=parent,
        date_last_modified=kw.pop("modified", T0),
        **kw,
    )


def user(sourced_id: str, role: str, orgs: list[str], **kw: Any) -> m.User:
    return m.User(
        sourced_id=sourced_id,
        role=role,
        org_ids=orgs,
        username=kw.pop("username", sourced_id),
        given_name=kw.pop("given_name", sourced_id.title()),
        family_name=kw.pop("family_name", "Family"),
        enabled_user=True,
        grades=kw.pop("grades", []),
        date_last_modified=kw.pop("modified", T0),
        **kw,
    )


def district(session: Session) -> None:
    """Two districts; d1 has schools s1, s2; d2 has school s3."""
    session.add_all([org("d1", "District One", "district"), org("d2", "District Two", "district")])
    session.flush()
    session.add_all(
        [
            org("s1", "North High", "school", "d1", modified=at(1)),
            org("s2", "South Middle", "school", "d1", modified=at(2)),
            org("s3", "East Elementary", "school", "d2", modified=at(3)),
        ]
    )
    session.add_all(
        [
            m.AcademicSession(
                sourced_id="y1",
                title="2025-2026",
                type="schoolYear",
                start_date=dt.date(2025, 8, 1),
                end_date=dt.date(2026, 6, 30),
                school_year="2026",
                date_last_modified=T0,
            ),
            m.AcademicSession(
                sourced_id="t1",
                title="Fall",
                type="term",
                start_date=dt.date(2025, 8, 1),
                end_date=dt.date(2025, 12, 20),
                parent_sourced_id="y1",
                school_year="2026",
                date_last_modified=T0,
            ),
            m.AcademicSession(
                sourced_id="t2",
                title="Spring",
                type="term",
                start_date=dt.date(2026, 1, 5),
                end_date=dt.date(2026, 6, 30),
                parent_sourced_id="y1",
                school_year="2026",
                date_last_modified=T0,
            ),
            m.AcademicSession(
                sourced_id="gp1",
                title="Q1",
                type="gradingPeriod",
                start_date=dt.date(2025, 8, 1),
                end_date=dt.date(2025, 10, 15),
                parent_sourced_id="t1",
                school_year="2026",
                date_last_modified=T0,
            ),
            m.AcademicSession(
                sourced_id="gp2",
                title="Q2",
                type="gradingPeriod",
                start_date=dt.date(2025, 10, 16),
                end_date=dt.date(2025, 12, 20),
                parent_sourced_id="t1",
                school_year="2026",
                date_last_modified=T0,
            ),
            m.AcademicSession(
                sourced_id="gp3",
                title="Q3",
                type="gradingPeriod",
                start_date=dt.date(2026, 1, 5),
                end_date=dt.date(2026, 3, 15),
                parent_sourced_id="t2",
                school_year="2026",
                date_last_modified=T0,
            ),
        ]
    )
    session.add_all(
        [
            m.Course(
                sourced_id="c1",
                title="Algebra I",
                course_code="MATH1",
                org_sourced_id="s1",
                school_year_sourced_id="y1",
                grades=["09"],
                date_last_modified=T0,
            ),
            m.Course(
                sourced_id="c2",
                title="Science 7",
                course_code="SCI7",
                org_sourced_id="s2",
                grades=["07"],
                date_last_modified=T0,
            ),
            m.Course(
                sourced_id="c3",
                title="Reading",
                course_code="READ3",
                org_sourced_id="s3",
                grades=["03"],
                date_last_modified=T0,
            ),
        ]
    )
    session.add_all(
        [
            m.Class(
                sourced_id="k1",
                title="Algebra I - P1",
                class_code="ALG-1",
                class_type="scheduled",
                course_sourced_id="c1",
                school_sourced_id="s1",
                term_sourced_ids=["t1"],
                grades=["09", "10"],
                periods=["1"],
                date_last_modified=at(1),
            ),
            m.Class(
                sourced_id="k2",
                title="Algebra I - P2",
                class_code="ALG-2",
                class_type="scheduled",
                course_sourced_id="c1",
                school_sourced_id="s1",
                term_sourced_ids=["t2"],
                grades=["09"],
                periods=["2"],
                date_last_modified=at(5),
            ),
            m.Class(
                sourced_id="k3",
                title="Science 7",
                class_code="SCI-7",
                class_type="homeroom",
                course_sourced_id="c2",
                school_sourced_id="s2",
                term_sourced_ids=["t1", "t2"],
                grades=["07"],
                date_last_modified=at(9),
            ),
            m.Class(
                sourced_id="k4",
                title="Reading 3",
                class_code="READ-3",
                class_type="scheduled",
                course_sourced_id="c3",
                school_sourced_id="s3",
                term_sourced_ids=["t1"],
                grades=["03"],
                date_last_modified=at(9),
            ),
        ]
    )
    session.add_all(
        [
            user(
                "u-t1",
                "teacher",
                ["s1"],
                given_name="Dana",
                family_name="Levi",
                email="dana@north.example",
                password="hunter2",
                modified=at(2),
            ),
            user("u-t2", "teacher", ["s2"], given_name="Avi", family_name="Cohen", modified=at(2)),
            user(
                "u-s1",
                "student",
                ["s1"],
                given_name="דוד",
                family_name="כהן",
                grades=["09"],
                identifier="900001",
                user_ids=[{"type": "LDAP", "identifier": "dcohen"}],
                agents=["u-p1"],
                modified=at(3),
            ),
            user(
                "u-s2",
                "student",
                ["s1"],
                given_name="Sean",
                family_name="O'Brien",
                grades=["10"],
                modified=at(4),
            ),
            user(
                "u-s3",
                "student",
                ["s1"],
                given_name="Maya",
                family_name="Ruiz",
                grades=["09"],
                modified=at(6),
            ),
            user(
                "u-s4",
                "student",
                ["s1"],
                given_name="Noa",
                family_name="Adler",
                grades=["09"],
                modified=at(7),
            ),
            user(
                "u-s5",
                "student",
                ["s1"],
                given_name="Omer",
                family_name="Bar",
                grades=["10"],
                modified=at(8),
            ),
            user(
                "u-s6",
                "student",
                ["s2"],
                given_name="Lia",
                family_name="Katz",
                grades=["07"],
                modified=at(8),
            ),
            user(
                "u-s7",
                "student",
                ["s3"],
                given_name="Tom",
                family_name="Gold",
                grades=["03"],
                modified=at(9),
            ),
            user(
                "u-p1",
                "parent",
                ["s1"],
                given_name="Ruth",
                family_name="כהן",
                agents=["u-s1"],
                modified=at(1),
            ),
        ]
    )

    def enrol(
        sid: str, user_id: str, class_id: str, school: str, role: str, primary: bool = False
    ) -> m.Enrollment:
        return m.Enrollment(
            sourced_id=sid,
            user_sourced_id=user_id,
            class_sourced_id=class_id,
            school_sourced_id=school,
            role=role,
            primary=primary,
            begin_date=dt.date(2025, 8, 1),
            date_last_modified=T0,
        )

    session.add_all(
        [
            enrol("e-t1-k1", "u-t1", "k1", "s1", "teacher", True),
            enrol("e-t1-k2", "u-t1", "k2", "s1", "teacher", True),
            enrol("e-s1-k1", "u-s1", "k1", "s1", "student"),
            enrol("e-s2-k1", "u-s2", "k1", "s1", "student"),
            enrol("e-s3-k1", "u-s3", "k1", "s1", "student"),
            enrol("e-s4-k2", "u-s4", "k2", "s1", "student"),
            enrol("e-s5-k2", "u-s5", "k2", "s1", "student"),
            enrol("e-s1-k2", "u-s1", "k2", "s1", "student"),
            enrol("e-t2-k3", "u-t2", "k3", "s2", "teacher", True),
            enrol("e-s6-k3", "u-s6", "k3", "s2", "student"),
            enrol("e-s7-k4", "u-s7", "k4", "s3", "student"),
        ]
    )
    session.add_all(
        [
            m.Demographics(
                sourced_id="u-s1",
                sex="male",
                birth_date=dt.date(2010, 3, 4),
                white=True,
                asian=False,
                hispanic_or_latino_ethnicity=False,
                date_last_modified=T0,
            ),
            m.Demographics(
                sourced_id="u-s7",
                sex="female",
                birth_date=dt.date(2017, 5, 6),
                date_last_modified=T0,
            ),
        ]
    )
    session.add_all(
        [
            m.Category(sourced_id="cat1", title="Homework", date_last_modified=T0),
            m.Category(sourced_id="cat2", title="Tests", date_last_modified=T0),
            m.LineItem(
                sourced_id="li1",
                title="HW 1",
                assign_date=dt.date(2025, 9, 1),
                due_date=dt.date(2025, 9, 8),
                class_sourced_id="k1",
                category_sourced_id="cat1",
                grading_period_sourced_id="gp1",
                result_value_min=0,
                result_value_max=100,
                date_last_modified=T0,
            ),
            m.LineItem(
                sourced_id="li2",
                title="Test 1",
                assign_date=dt.date(2026, 2, 1),
                due_date=dt.date(2026, 2, 1),
                class_sourced_id="k2",
                category_sourced_id="cat2",
                result_value_min=0,
                result_value_max=50,
                date_last_modified=T0,
            ),
            m.LineItem(
                sourced_id="li4",
                title="Reading log",
                assign_date=dt.date(2025, 9, 1),
                due_date=dt.date(2025, 9, 30),
                class_sourced_id="k4",
                category_sourced_id="cat1",
                result_value_min=0,
                result_value_max=10,
                date_last_modified=T0,
            ),
            m.Result(
                sourced_id="r1",
                line_item_sourced_id="li1",
                student_sourced_id="u-s1",
                score_status="fully graded",
                score=93.5,
                score_date=dt.date(2025, 9, 9),
                date_last_modified=T0,
            ),
            m.Result(
                sourced_id="r2",
                line_item_sourced_id="li1",
                student_sourced_id="u-s2",
                score_status="submitted",
                score=70,
                score_date=dt.date(2025, 9, 9),
                date_last_modified=T0,
            ),
            m.Result(
                sourced_id="r3",
                line_item_sourced_id="li2",
                student_sourced_id="u-s1",
                score_status="fully graded",
                score=44,
                score_date=dt.date(2026, 2, 2),
                date_last_modified=T0,
            ),
            m.Result(
                sourced_id="r4",
                line_item_sourced_id="li4",
                student_sourced_id="u-s7",
                score_status="exempt",
                score=0,
                score_date=dt.date(2025, 10, 1),
                date_last_modified=T0,
            ),
        ]
    )
    session.add_all(
        [
            m.Resource(
                sourced_id="res1",
                title="Algebra e-book",
                vendor_resource_id="V-ALG",
                importance="primary",
                roles=["student", "teacher"],
                date_last_modified=T0,
            ),
            m.Resource(
                sourced_id="res2",
                title="Lab videos",
                vendor_resource_id="V-LAB",
                importance="secondary",
                roles=["student"],
                date_last_modified=T0,
            ),
            m.ClassResource(
                sourced_id="cr1",
                class_sourced_id="k1",
                resource_sourced_id="res1",
                date_last_modified=T0,
            ),
            m.ClassResource(
                sourced_id="cr2",
                class_sourced_id="k3",
                resource_sourced_id="res2",
                date_last_modified=T0,
            ),
            m.CourseResource(
                sourced_id="qr1",
                course_sourced_id="c1",
                resource_sourced_id="res1",
                date_last_modified=T0,
            ),
        ]
    )
    session.flush()
