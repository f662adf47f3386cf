"""Test data for the OneRoster provider, inserted straight through the models.

Two districts: d1 with schools s1 and s2, d2 with school s3. Rows are tuples in column order so the
whole district reads as a table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from gateway.oneroster import models as m

BASE = "/ims/oneroster/v1p1"
T0 = dt.datetime(2026, 1, 10, 8, 0, 0, 123000, tzinfo=dt.UTC)
D = dt.date.fromisoformat

ORGS = [  # sourcedId, name, type, parent, modified (days after T0)
    ("d1", "District One", "district", None, 0),
    ("d2", "District Two", "district", None, 0),
    ("s1", "North High", "school", "d1", 1),
    ("s2", "South Middle", "school", "d1", 2),
    ("s3", "East Elementary", "school", "d2", 3),
]
SESSIONS = [  # sourcedId, title, type, start, end, parent
    ("y1", "2025-2026", "schoolYear", "2025-08-01", "2026-06-30", None),
    ("t1", "Fall", "term", "2025-08-01", "2025-12-20", "y1"),
    ("t2", "Spring", "term", "2026-01-05", "2026-06-30", "y1"),
    ("gp1", "Q1", "gradingPeriod", "2025-08-01", "2025-10-15", "t1"),
    ("gp2", "Q2", "gradingPeriod", "2025-10-16", "2025-12-20", "t1"),
    ("gp3", "Q3", "gradingPeriod", "2026-01-05", "2026-03-15", "t2"),
]
COURSES = [  # sourcedId, title, courseCode, org, schoolYear, grades
    ("c1", "Algebra I", "MATH1", "s1", "y1", ["09"]),
    ("c2", "Science 7", "SCI7", "s2", None, ["07"]),
    ("c3", "Reading", "READ3", "s3", None, ["03"]),
]
CLASSES = [  # sourcedId, title, code, classType, course, school, terms, grades, modified, periods
    ("k1", "Algebra I - P1", "ALG-1", "scheduled", "c1", "s1", ["t1"], ["09", "10"], 1, ["1"]),
    ("k2", "Algebra I - P2", "ALG-2", "scheduled", "c1", "s1", ["t2"], ["09"], 5, ["2"]),
    ("k3", "Science 7", "SCI-7", "homeroom", "c2", "s2", ["t1", "t2"], ["07"], 9, []),
    ("k4", "Reading 3", "READ-3", "scheduled", "c3", "s3", ["t1"], ["03"], 9, []),
]
USERS = [  # sourcedId, role, orgs, givenName, familyName, grades, modified, other columns
    ("u-t1", "teacher", ["s1"], "Dana", "Levi", [], 2,
     {"email": "dana@north.example", "password": "hunter2"}),
    ("u-t2", "teacher", ["s2"], "Avi", "Cohen", [], 2, {}),
    ("u-s1", "student", ["s1"], "דוד", "כהן", ["09"], 3,
     {"identifier": "900001", "user_ids": [{"type": "LDAP", "identifier": "dcohen"}],
      "agents": ["u-p1"]}),
    ("u-s2", "student", ["s1"], "Sean", "O'Brien", ["10"], 4, {}),
    ("u-s3", "student", ["s1"], "Maya", "Ruiz", ["09"], 6, {}),
    ("u-s4", "student", ["s1"], "Noa", "Adler", ["09"], 7, {}),
    ("u-s5", "student", ["s1"], "Omer", "Bar", ["10"], 8, {}),
    ("u-s6", "student", ["s2"], "Lia", "Katz", ["07"], 8, {}),
    ("u-s7", "student", ["s3"], "Tom", "Gold", ["03"], 9, {}),
    ("u-p1", "parent", ["s1"], "Ruth", "כהן", [], 1, {"agents": ["u-s1"]}),
]  # fmt: skip
ENROLLMENTS = [  # user, class, school, role, primary
    ("u-t1", "k1", "s1", "teacher", True),
    ("u-t1", "k2", "s1", "teacher", True),
    ("u-s1", "k1", "s1", "student", False),
    ("u-s2", "k1", "s1", "student", False),
    ("u-s3", "k1", "s1", "student", False),
    ("u-s4", "k2", "s1", "student", False),
    ("u-s5", "k2", "s1", "student", False),
    ("u-s1", "k2", "s1", "student", False),
    ("u-t2", "k3", "s2", "teacher", True),
    ("u-s6", "k3", "s2", "student", False),
    ("u-s7", "k4", "s3", "student", False),
]
LINE_ITEMS = [  # sourcedId, title, assign, due, class, category, gradingPeriod, min, max
    ("li1", "HW 1", "2025-09-01", "2025-09-08", "k1", "cat1", "gp1", 0, 100),
    ("li2", "Test 1", "2026-02-01", "2026-02-01", "k2", "cat2", None, 0, 50),
    ("li4", "Reading log", "2025-09-01", "2025-09-30", "k4", "cat1", None, 0, 10),
]
RESULTS = [  # sourcedId, lineItem, student, scoreStatus, score, scoreDate
    ("r1", "li1", "u-s1", "fully graded", 93.5, "2025-09-09"),
    ("r2", "li1", "u-s2", "submitted", 70, "2025-09-09"),
    ("r3", "li2", "u-s1", "fully graded", 44, "2026-02-02"),
    ("r4", "li4", "u-s7", "exempt", 0, "2025-10-01"),
]


def at(days: int) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def _rows() -> list[Any]:
    rows: list[Any] = [
        m.Organization(
            sourced_id=s,
            name=n,
            type=t,
            identifier=s.upper(),
            parent_id=p,
            date_last_modified=at(d),
        )
        for s, n, t, p, d in ORGS
    ]
    rows += [
        m.AcademicSession(
            sourced_id=s,
            title=t,
            type=ty,
            start_date=D(a),
            end_date=D(b),
            parent_sourced_id=p,
            school_year="2026",
            date_last_modified=T0,
        )
        for s, t, ty, a, b, p in SESSIONS
    ]
    rows += [
        m.Course(
            sourced_id=s,
            title=t,
            course_code=c,
            org_sourced_id=o,
            school_year_sourced_id=y,
            grades=g,
            date_last_modified=T0,
        )
        for s, t, c, o, y, g in COURSES
    ]
    rows += [
        m.Class(
            sourced_id=s,
            title=t,
            class_code=c,
            class_type=ct,
            course_sourced_id=co,
            school_sourced_id=sc,
            term_sourced_ids=te,
            grades=g,
            date_last_modified=at(d),
            periods=pe,
        )
        for s, t, c, ct, co, sc, te, g, d, pe in CLASSES
    ]
    rows += [
        m.User(
            sourced_id=s,
            role=r,
            org_ids=o,
            username=s,
            given_name=gn,
            family_name=fn,
            enabled_user=True,
            grades=g,
            date_last_modified=at(d),
            **extra,
        )
        for s, r, o, gn, fn, g, d, extra in USERS
    ]
    rows += [
        m.Enrollment(
            sourced_id=f"e-{u[2:]}-{c}",
            user_sourced_id=u,
            class_sourced_id=c,
            school_sourced_id=s,
            role=r,
            primary=p,
            begin_date=D("2025-08-01"),
            date_last_modified=T0,
        )
        for u, c, s, r, p in ENROLLMENTS
    ]
    rows += [
        m.Demographics(
            sourced_id="u-s1",
            sex="male",
            birth_date=D("2010-03-04"),
            white=True,
            asian=False,
            hispanic_or_latino_ethnicity=False,
            date_last_modified=T0,
        ),
        m.Demographics(
            sourced_id="u-s7", sex="female", birth_date=D("2017-05-06"), date_last_modified=T0
        ),
        m.Category(sourced_id="cat1", title="Homework", date_last_modified=T0),
        m.Category(sourced_id="cat2", title="Tests", date_last_modified=T0),
    ]
    rows += [
        m.LineItem(
            sourced_id=s,
            title=t,
            assign_date=D(a),
            due_date=D(du),
            class_sourced_id=k,
            category_sourced_id=c,
            grading_period_sourced_id=g,
            result_value_min=lo,
            result_value_max=hi,
            date_last_modified=T0,
        )
        for s, t, a, du, k, c, g, lo, hi in LINE_ITEMS
    ]
    rows += [
        m.Result(
            sourced_id=s,
            line_item_sourced_id=li,
            student_sourced_id=st,
            score_status=ss,
            score=sc,
            score_date=D(sd),
            date_last_modified=T0,
        )
        for s, li, st, ss, sc, sd in RESULTS
    ]
    rows += [
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
        m.ClassResource(sourced_id="cr1", class_sourced_id="k1", resource_sourced_id="res1"),
        m.ClassResource(sourced_id="cr2", class_sourced_id="k3", resource_sourced_id="res2"),
        m.CourseResource(sourced_id="qr1", course_sourced_id="c1", resource_sourced_id="res1"),
    ]
    return rows


def district(session: Session) -> None:
    rows = _rows()
    session.add_all(rows[:2])  # the districts first: schools reference them
    session.flush()
    session.add_all(rows[2:])
    session.flush()
