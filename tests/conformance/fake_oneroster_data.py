"""The small district the fake OneRoster provider serves: 3 orgs, 5 sessions, 2 courses,
3 classes, 9 users, 7 enrollments, demographics and a little gradebook."""

from __future__ import annotations

DLM = [f"2026-01-0{d}T10:00:00.000Z" for d in range(1, 10)]
TYPES = {
    "orgs": "org",
    "users": "user",
    "classes": "class",
    "courses": "course",
    "enrollments": "enrollment",
    "academicSessions": "academicSession",
    "demographics": "demographics",
    "lineItems": "lineItem",
    "results": "result",
    "categories": "category",
    "resources": "resource",
}


def dataset() -> dict[str, dict[str, dict]]:
    def base(sid, n):
        return {
            "sourcedId": sid,
            "status": "active",
            "dateLastModified": DLM[n % 9],
            "metadata": {},
        }

    def ref(kind, sid):
        return {"href": f"@{kind}/{sid}", "sourcedId": sid, "type": TYPES[kind]}

    d: dict[str, dict[str, dict]] = {k: {} for k in TYPES}
    d["orgs"]["d1"] = {
        **base("d1", 0),
        "name": "Grand Bend ISD",
        "type": "district",
        "identifier": "255901",
        "children": [ref("orgs", "s1"), ref("orgs", "s2")],
    }
    for n, sid in enumerate(("s1", "s2"), 1):
        d["orgs"][sid] = {
            **base(sid, n),
            "name": f"Grand Bend High School {n}",
            "type": "school",
            "identifier": f"25590100{n}",
            "parent": ref("orgs", "d1"),
        }
    d["academicSessions"]["y"] = {
        **base("y", 0),
        "title": "2026",
        "type": "schoolYear",
        "startDate": "2025-08-01",
        "endDate": "2026-06-30",
        "schoolYear": "2026",
    }
    for n, (sid, start) in enumerate((("t1", "2025-08-20"), ("t2", "2026-01-05"))):
        d["academicSessions"][sid] = {
            **base(sid, n + 1),
            "title": f"Term {n + 1}",
            "type": "term",
            "startDate": start,
            "endDate": "2026-06-01",
            "schoolYear": "2026",
            "parent": ref("academicSessions", "y"),
        }
        d["academicSessions"]["g" + sid] = {
            **base("g" + sid, n + 3),
            "title": f"Grading period {n + 1}",
            "type": "gradingPeriod",
            "startDate": start,
            "endDate": "2026-03-01",
            "schoolYear": "2026",
            "parent": ref("academicSessions", sid),
        }
    for n, sid in enumerate(("c1", "c2")):
        d["courses"][sid] = {
            **base(sid, n),
            "title": f"Algebra {n}",
            "courseCode": f"ALG{n}",
            "org": ref("orgs", f"s{n + 1}"),
            "grades": ["09"],
        }
    for n, (sid, course, school, term) in enumerate(
        (("k1", "c1", "s1", "t1"), ("k2", "c1", "s1", "t2"), ("k3", "c2", "s2", "t1"))
    ):
        d["classes"][sid] = {
            **base(sid, n),
            "title": f"Class {sid}",
            "classType": "scheduled",
            "course": ref("courses", course),
            "school": ref("orgs", school),
            "terms": [ref("academicSessions", term)],
            "grades": ["09"],
        }
    people = [("u1", "teacher", "s1"), ("u2", "teacher", "s2")] + [
        (f"u{n}", "student", "s1" if n < 7 else "s2") for n in range(3, 10)
    ]
    for n, (sid, role, school) in enumerate(people):
        d["users"][sid] = {
            **base(sid, n),
            "username": sid,
            "givenName": "Dávid",
            "familyName": "O'Brien",
            "role": role,
            "enabledUser": "true",
            "orgs": [ref("orgs", school)],
            "grades": ["09"] if role == "student" else [],
            "identifier": sid.upper(),
        }
        if role == "student":
            d["demographics"][sid] = {
                **base(sid, n),
                "sex": "female",
                "birthDate": "2010-01-01",
                "hispanicOrLatinoEthnicity": "false",
            }
    for n, (user, cls) in enumerate(
        (
            ("u1", "k1"),
            ("u3", "k1"),
            ("u4", "k1"),
            ("u5", "k2"),
            ("u2", "k3"),
            ("u7", "k3"),
            ("u8", "k3"),
        )
    ):
        sid = f"e{n}"
        role = d["users"][user]["role"]
        school = d["classes"][cls]["school"]["sourcedId"]
        d["enrollments"][sid] = {
            **base(sid, n),
            "user": ref("users", user),
            "class": ref("classes", cls),
            "school": ref("orgs", school),
            "role": role,
            "primary": "true" if role == "teacher" else "false",
        }
    d["resources"]["r1"] = {**base("r1", 1), "title": "Textbook", "vendorResourceId": "v-1"}
    d["categories"]["cat1"] = {**base("cat1", 1), "title": "Homework"}
    d["lineItems"]["li1"] = {
        **base("li1", 1),
        "title": "HW 1",
        "assignDate": "2026-01-10",
        "dueDate": "2026-01-17",
        "class": ref("classes", "k1"),
        "category": ref("categories", "cat1"),
        "gradingPeriod": ref("academicSessions", "gt1"),
        "resultValueMin": 0.0,
        "resultValueMax": 10.0,
    }
    d["results"]["res1"] = {
        **base("res1", 1),
        "lineItem": ref("lineItems", "li1"),
        "student": ref("users", "u3"),
        "scoreStatus": "fully graded",
        "score": 9.0,
        "scoreDate": "2026-01-12",
    }
    return d


def with_faults(d: dict[str, dict[str, dict]], faults: set[str]) -> dict[str, dict[str, dict]]:
    if "empty" in faults:  # a provider holding no records at all
        return {kind: {} for kind in d}
    if "semester_terms" in faults:  # classes name a semester, as Ed-Fi-born data did
        d["academicSessions"]["t2"]["type"] = "semester"
    if "json_booleans" in faults:  # JSON true/false instead of the binding's strings
        for kind, field in (("users", "enabledUser"), ("enrollments", "primary")):
            for record in d[kind].values():
                record[field] = record[field] == "true"
    if "null_members" in faults:  # optional fields sent as null instead of left out
        for record in d["users"].values():
            record["email"] = None
    if "demographics_sex_code" in faults:  # "F" is a SIS code, not the OneRoster value
        for record in d["demographics"].values():
            record["sex"] = "F"
    return d
