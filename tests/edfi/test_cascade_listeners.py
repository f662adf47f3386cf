"""Key-change cascades tell the write listeners (the mapping layer) about every dependent record
they rewrite, in the write's transaction, with the record's values after the change and its old
key values when its own key changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.edfi import service as service_module
from gateway.edfi.service import WriteEvent
from tests.edfi.conftest import session_body

SCHOOL = 255901001
COURSE = {
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
}


@pytest.fixture
def events():
    seen: list[tuple[WriteEvent, int]] = []

    def listener(session, event: WriteEvent) -> None:
        # the dependent row is already rewritten when the listener runs (same transaction)
        table = sa.table(
            {"courseOfferings": "course_offerings", "sections": "sections"}.get(
                event.resource, "sessions"
            ),
            sa.column("id"),
            sa.column("change_version"),
        )
        version = session.scalar(sa.select(table.c.change_version).where(table.c.id == event.id))
        seen.append((event, version))

    service_module.WRITE_LISTENERS.append(listener)
    yield seen
    service_module.WRITE_LISTENERS.remove(listener)


def test_a_session_key_change_notifies_its_offerings_and_sections(edfi, district, events):
    district()
    session_id = edfi.create("sessions", session_body(SCHOOL))
    edfi.create("courses", COURSE)
    offering_key = {
        "schoolId": SCHOOL,
        "schoolYear": 2022,
        "sessionName": "2021-2022 Fall Semester",
    }
    offering_id = edfi.create(
        "courseOfferings",
        {
            "localCourseCode": "ALG-1",
            "courseReference": {"courseCode": "ALG-1", "educationOrganizationId": SCHOOL},
            "schoolReference": {"schoolId": SCHOOL},
            "sessionReference": offering_key,
        },
    )
    section_id = edfi.create(
        "sections",
        {
            "sectionIdentifier": "ALG-1-01",
            "courseOfferingReference": {"localCourseCode": "ALG-1", **offering_key},
        },
    )
    second_id = edfi.create(
        "sections",
        {
            "sectionIdentifier": "ALG-1-02",
            "courseOfferingReference": {"localCourseCode": "ALG-1", **offering_key},
        },
    )
    events.clear()

    assert edfi.put("sessions", session_id, session_body(SCHOOL, "Fall 2021")).status_code == 204

    # every rewritten section is reported once, each with its own change version
    section_events = {e.id.hex: v for e, v in events if e.resource == "sections"}
    assert set(section_events) == {section_id, second_id}
    assert len(set(section_events.values())) == 2
    assert edfi.get(f"sections/{second_id}").get_json()["_etag"] == str(section_events[second_id])
    events[:] = [(e, v) for e, v in events if e.id.hex != second_id]
    by_resource = {e.resource: (e, v) for e, v in events}
    assert set(by_resource) == {"sessions", "courseOfferings", "sections"}
    assert len(events) == 3
    offering, offering_version = by_resource["courseOfferings"]
    assert offering.id.hex == offering_id and offering.action == "update"
    assert offering.values["sessionName"] == "Fall 2021"
    assert offering.old_key_values["sessionName"] == "2021-2022 Fall Semester"
    section, section_version = by_resource["sections"]
    assert section.id.hex == section_id
    assert section.values["sessionName"] == "Fall 2021"
    assert section.values["sectionIdentifier"] == "ALG-1-01"
    assert section.old_key_values["sessionName"] == "2021-2022 Fall Semester"
    # the listener saw the rewritten rows, whose versions match what a reader gets afterwards
    doc = edfi.get(f"sections/{section_id}").get_json()
    assert doc["courseOfferingReference"]["sessionName"] == "Fall 2021"
    assert doc["_etag"] == str(section_version)
    assert edfi.get(f"courseOfferings/{offering_id}").get_json()["_etag"] == str(offering_version)


def test_a_key_change_without_dependents_notifies_only_the_record(edfi, district, events):
    district()
    session_id = edfi.create("sessions", session_body(SCHOOL))
    events.clear()
    assert edfi.put("sessions", session_id, session_body(SCHOOL, "Fall 2021")).status_code == 204
    assert [e.resource for e, _v in events] == ["sessions"]
