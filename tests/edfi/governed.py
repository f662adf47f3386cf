"""Records in every resource an authorization rule governs (gateway.edfi.security.rules), in two
organizations.

LEA 255901 (school 255901001) and LEA 255902 (school 255902001) each get one record of every
governed resource, written through the Ed-Fi API: the isolation tests then compare non-empty sets,
never [] == [] (issue 14, finding 8). The rostering resources get the hand-written bodies of the
mapping tests; every governed resource gets a generated one (tests/edfi/documents_gen.py), in the
generator's two worlds, whose organizations are these two LEAs' and schools' (and other kinds of
organization of their own)."""

from __future__ import annotations

import json

from gateway.edfi.security import rules
from tests.edfi.conftest import EdFi
from tests.edfi.documents_gen import Generator, World

WORLDS = (World(1), World(2))

ED = "uri://ed-fi.org/"
# Natural keys of the first organization's records → the second's.
SECOND = {
    "255901001": "255902001",
    "255901": "255902",
    "604822": "604823",
    "207219": "207229",
    "207220": "207230",
    "C-1": "C-2",
    "HW-1": "HW-2",
    "lwoods": "lwoods2",
    "lisa.woods@": "lisa.woods2@",
}


def calendars(school_id: int) -> list[tuple[str, dict]]:
    calendar = {"calendarCode": "CAL-1", "schoolId": school_id, "schoolYear": 2022}
    return [
        (
            "calendars",
            {
                "calendarCode": "CAL-1",
                "schoolReference": {"schoolId": school_id},
                "schoolYearTypeReference": {"schoolYear": 2022},
                "calendarTypeDescriptor": ED + "CalendarTypeDescriptor#School",
            },
        ),
        (
            "calendarDates",
            {
                "calendarReference": calendar,
                "date": "2021-09-06",
                "calendarEvents": [
                    {"calendarEventDescriptor": ED + "CalendarEventDescriptor#Holiday"}
                ],
            },
        ),
    ]


def first_organization() -> list[tuple[str, dict]]:
    """Every governed resource but the organizations themselves, for LEA 255901."""
    from tests.mapping.conftest import bodies

    skip = ("localEducationAgencies", "schools")
    return [(r, b) for r, b in bodies() if r not in skip] + calendars(255901001)


def second_organization() -> list[tuple[str, dict]]:
    out = []
    for resource, body in first_organization():
        text = json.dumps(body)
        for old, new in SECOND.items():
            text = text.replace(old, new)
        out.append((resource, json.loads(text)))
    return out


def fill(edfi: EdFi) -> None:
    """Both organizations' records (the LEAs and schools exist: conftest `district`)."""
    for resource, body in first_organization() + second_organization():
        response = edfi.post(resource, body)
        assert response.status_code in (200, 201), (resource, response.get_json())
    generator = Generator(edfi)
    for world in WORLDS:
        for resource in sorted(rules()):
            generator.anchors(resource, world)
            generator.ensure(resource, world)
