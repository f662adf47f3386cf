"""References inside collection items (a section's classPeriods[].classPeriodReference) resolve like
top-level ones: unresolved -> 409 naming the reference, its JSON path and key values; DELETE of the
target -> 409 dependent-item-exists; a key change of the target rewrites the items and tells the
write listeners.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from gateway.edfi import documents
from gateway.edfi import service as service_module
from gateway.edfi.bulk import BulkUpsert
from gateway.edfi.definitions import registry
from gateway.edfi.loader import DISTRICT_WIDE
from gateway.edfi.queries import CollectionReader
from gateway.edfi.security import Authorizer
from gateway.edfi.service import ResourceService, WriteEvent
from gateway.errors import DependentItemExists, UnresolvedReference
from tests.edfi.conftest import session_body

SCHOOL = 255901001
OFFERING = {
    "localCourseCode": "ALG-1",
    "schoolId": SCHOOL,
    "schoolYear": 2022,
    "sessionName": "2021-2022 Fall Semester",
}


@pytest.fixture(scope="module")
def with_class_periods():
    return registry()


@pytest.fixture
def svc(with_class_periods, db_session, edfi, district):
    reg = with_class_periods
    district()
    edfi.create("sessions", session_body(SCHOOL))
    edfi.create(
        "courses",
        {
            "courseCode": "ALG-1",
            "educationOrganizationReference": {"educationOrganizationId": SCHOOL},
            "courseTitle": "Algebra I",
            "numberOfParts": 1,
            "identificationCodes": [
                {
                    "courseIdentificationSystemDescriptor": "uri://ed-fi.org/"
                    "CourseIdentificationSystemDescriptor#LEA course code",
                    "identificationCode": "ALG-1",
                }
            ],
        },
    )
    edfi.create(
        "courseOfferings",
        {
            "localCourseCode": "ALG-1",
            "courseReference": {"courseCode": "ALG-1", "educationOrganizationId": SCHOOL},
            "schoolReference": {"schoolId": SCHOOL},
            "sessionReference": {k: v for k, v in OFFERING.items() if k != "localCourseCode"},
        },
    )
    return ResourceService(db_session, reg, Authorizer(reg, DISTRICT_WIDE))


@pytest.fixture
def events(svc):
    seen: list[WriteEvent] = []
    service_module.WRITE_LISTENERS.append(lambda _session, event: seen.append(event))
    yield seen
    service_module.WRITE_LISTENERS.pop()


def class_period(name: str) -> dict:
    return {"classPeriodName": name, "schoolReference": {"schoolId": SCHOOL}}


def section(*periods: str) -> dict:
    return {
        "sectionIdentifier": "ALG-1-01",
        "courseOfferingReference": OFFERING,
        "classPeriods": [
            {"classPeriodReference": {"classPeriodName": p, "schoolId": SCHOOL}} for p in periods
        ],
    }


def test_the_definitions_list_item_references_with_their_path(with_class_periods):
    sections = with_class_periods.resources["sections"]
    ref = next(r for r in sections.item_references if r.name == "classPeriodReference")
    assert ref.targets == ("classPeriods",)
    assert ref.path == "$.classPeriods[*].classPeriodReference"
    assert ref.column == "class_periods"
    # and load order puts class periods before the sections using them
    order = with_class_periods.resources
    assert order["classPeriods"].order < order["sections"].order


def test_an_unresolved_item_reference_is_409_naming_path_and_keys(svc, with_class_periods):
    reg = with_class_periods
    svc.upsert(reg.resources["classPeriods"], class_period("01 - Traditional"))
    with pytest.raises(UnresolvedReference) as caught:
        svc.upsert(reg.resources["sections"], section("01 - Traditional", "09 - Missing"))
    assert caught.value.status == 409
    assert caught.value.validation_errors == {
        "$.classPeriods[1].classPeriodReference": [
            "The referenced 'ClassPeriod' item does not exist "
            f"(classPeriodName=09 - Missing, schoolId={SCHOOL})."
        ]
    }
    assert "ClassPeriod" in caught.value.message
    sections = reg.resources["sections"].table
    assert svc.session.query(sections).count() == 0  # nothing written

    created, _id, _etag = svc.upsert(reg.resources["sections"], section("01 - Traditional"))
    assert created


def test_deleting_a_target_used_in_items_is_409(svc, with_class_periods):
    reg = with_class_periods
    periods = reg.resources["classPeriods"]
    _, used, _ = svc.upsert(periods, class_period("01 - Traditional"))
    _, unused, _ = svc.upsert(periods, class_period("02 - Traditional"))
    svc.upsert(reg.resources["sections"], section("01 - Traditional"))
    with pytest.raises(DependentItemExists) as caught:
        svc.delete(periods, str(used), None)
    assert caught.value.errors == ["Used by Section ($.classPeriods[*].classPeriodReference)."]
    svc.delete(periods, str(unused), None)  # same school, other name: not in use


def test_a_key_change_rewrites_the_items_and_tells_the_listeners(svc, with_class_periods, events):
    reg = with_class_periods
    periods, sections = reg.resources["classPeriods"], reg.resources["sections"]
    _, period_id, _ = svc.upsert(periods, class_period("01 - Traditional"))
    _, section_id, _ = svc.upsert(sections, section("01 - Traditional"))
    before = svc.get(sections, str(section_id))
    events.clear()

    svc.replace(periods, str(period_id), class_period("01 - Block"), None)

    after = svc.get(sections, str(section_id))
    stored = [{"classPeriodReference": {"classPeriodName": "01 - Block", "schoolId": SCHOOL}}]
    assert [
        {
            "classPeriodReference": {
                k: v for k, v in item["classPeriodReference"].items() if k != "link"
            }
        }
        for item in after["classPeriods"]
    ] == stored
    assert after["_etag"] != before["_etag"]
    by_resource = {e.resource: e for e in events}
    assert by_resource["sections"].id == section_id
    assert by_resource["sections"].action == "update"
    assert by_resource["sections"].values["classPeriods"] == stored
    assert by_resource["classPeriods"].old_key_values == {
        "classPeriodName": "01 - Traditional",
        "schoolId": SCHOOL,
    }


def test_bulk_loads_resolve_item_references_too(svc, with_class_periods):
    reg = with_class_periods
    svc.upsert(reg.resources["classPeriods"], class_period("01 - Traditional"))
    good = section("01 - Traditional")
    bad = {**section("01 - Traditional", "07 - Nowhere"), "sectionIdentifier": "ALG-1-02"}
    result = BulkUpsert(svc.session, reg).run(reg.resources["sections"], [bad, good])
    assert result.created == 1
    assert result.rejected == [
        (
            0,
            "The referenced 'ClassPeriod' item does not exist "
            f"(classPeriodName=07 - Nowhere, schoolId={SCHOOL}).",
        )
    ]


def test_item_references_carry_links_in_responses(svc, with_class_periods):
    reg = with_class_periods
    sections = reg.resources["sections"]
    _, period_id, _ = svc.upsert(reg.resources["classPeriods"], class_period("01 - Traditional"))
    _, section_id, _ = svc.upsert(sections, section("01 - Traditional"))
    link = {"rel": "ClassPeriod", "href": f"/ed-fi/classPeriods/{period_id.hex}"}
    doc = svc.get(sections, str(section_id))
    assert doc["classPeriods"][0]["classPeriodReference"]["link"] == link
    # the page serializer of collection reads does the same
    rows = svc.session.execute(sa.select(sections.table)).all()
    serialize = documents.Serializer(sections, list(sections.table.c.keys()))
    [page_doc] = [serialize(row, svc.links(sections, rows)) for row in rows]
    assert page_doc["classPeriods"][0]["classPeriodReference"]["link"] == link
    # and so do collection pages, whose documents the database builds
    page = CollectionReader(svc.session, reg, svc.auth).read(sections, {})
    [listed] = json.loads(page.body)
    assert listed["classPeriods"][0]["classPeriodReference"]["link"] == link
    # a document read back (links included) is accepted as a PUT body
    svc.replace(sections, str(section_id), doc, None)
