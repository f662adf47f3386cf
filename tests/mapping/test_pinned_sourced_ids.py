"""sourcedIds are pinned (issue 17, point 10): the literals below were computed once, from the
key canonicalisation in use when they were written, and are never recomputed with the code's own
function. A change of canonicalisation (key order, date or number formatting, namespace, prefix)
would re-key every record a consumer has stored; these tests fail first."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.mapping.identifiers import sourced_id
from tests.mapping.conftest import LEA_ID, SCHOOL_ID, SECTION

PINNED = [
    ("students", {"studentUniqueId": "604822"}, "usr-d28be90f-c4ea-535b-a285-feac3cd991cd"),
    ("staffs", {"staffUniqueId": "207219"}, "usr-34e94eb6-8764-5f63-bdfa-e1422f05bd3b"),
    (
        "educationOrganizations",
        {"educationOrganizationId": 255901001},
        "org-eac83c67-3fcc-52f7-b2c2-b41978bbda5b",
    ),
    (
        "educationOrganizations",
        {"educationOrganizationId": 255901},
        "org-d7723a77-20ef-5e54-a9a0-aae82fbe804c",
    ),
    ("schoolYears", {"schoolYear": 2022}, "ses-bb9add55-e8e5-5076-85f8-b71d7ece0078"),
    (
        "sessions",
        {"schoolId": 255901001, "schoolYear": 2022, "sessionName": "2021-2022 Fall Semester"},
        "ses-66747110-0623-5d21-a06f-3fb72cee8a96",
    ),
    (
        "sections",
        {
            "localCourseCode": "ALG-1",
            "schoolId": 255901001,
            "schoolYear": 2022,
            "sectionIdentifier": "ALG-1-01",
            "sessionName": "2021-2022 Fall Semester",
        },
        "cls-795c8f21-8c01-5fc7-8c76-215919f574ec",
    ),
    (
        "courses",
        {"courseCode": "ALG-1", "educationOrganizationId": 255901},
        "crs-f9a968c6-9b0a-5a92-8bea-de3e31a1e8a5",
    ),
    (
        "gradebookEntries",
        {"gradebookEntryIdentifier": "HW-1", "namespace": "uri://gbisd.edu"},
        "li-513b2248-c602-5edc-9c7f-87e6520272f9",
    ),
    (  # a date in the key: ISO text
        "studentSectionAssociations",
        {
            "beginDate": dt.date(2021, 8, 23),
            "localCourseCode": "ALG-1",
            "schoolId": 255901001,
            "schoolYear": 2022,
            "sectionIdentifier": "S1",
            "sessionName": "Fall",
            "studentUniqueId": "604822",
        },
        "enr-a6f3807d-6f89-5b39-8858-302ee083641b",
    ),
]


@pytest.mark.parametrize(("resource", "key", "expected"), PINNED, ids=[p[2] for p in PINNED])
def test_known_natural_keys_keep_their_sourced_ids(resource, key, expected):
    assert sourced_id(resource, key) == expected
    # the key's field order is not part of it
    assert sourced_id(resource, dict(reversed(list(key.items())))) == expected


def test_the_second_candidate_is_pinned_too():
    """A record whose key changed while the first candidate is held takes the next one."""
    second = sourced_id("students", {"studentUniqueId": "604822"}, attempt=1)
    assert second == "usr-cebcadb5-c346-5393-a58b-7965806e931b"


def test_ed_fi_records_are_served_under_the_pinned_sourced_ids(rostered, oneroster):
    """End to end: what a consumer stores from the REST API is these literals."""
    assert (LEA_ID, SCHOOL_ID) == (255901, 255901001)
    assert SECTION["sectionIdentifier"] == "ALG-1-01"
    users = {u["sourcedId"] for u in oneroster("/users")["users"]}
    assert {
        "usr-d28be90f-c4ea-535b-a285-feac3cd991cd",
        "usr-34e94eb6-8764-5f63-bdfa-e1422f05bd3b",
    } <= users
    orgs = {o["sourcedId"] for o in oneroster("/orgs")["orgs"]}
    assert {
        "org-eac83c67-3fcc-52f7-b2c2-b41978bbda5b",
        "org-d7723a77-20ef-5e54-a9a0-aae82fbe804c",
    } <= orgs
    klass = oneroster("/classes/cls-795c8f21-8c01-5fc7-8c76-215919f574ec")["class"]
    assert [t["sourcedId"] for t in klass["terms"]] == ["ses-66747110-0623-5d21-a06f-3fb72cee8a96"]
