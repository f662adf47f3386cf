"""The users' pass reads records from query rows by position and selects only the fields the
people translations read: both must give what record_of and the full records give."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from gateway.mapping import store
from gateway.mapping.to_edfi import per_record as reverse
from gateway.mapping.to_edfi import translate as to_edfi

ORGS = {
    "org-s1": {"sourcedId": "org-s1", "type": "school", "identifier": "255901001"},
    "org-d1": {"sourcedId": "org-d1", "type": "district", "identifier": "255901"},
}
AGENTS = {"u-s1": {"role": "student", "identifier": "604822"}}


def lookup(entity: str, sourced_id: str) -> dict[str, Any] | None:
    return (ORGS if entity == "org" else AGENTS).get(sourced_id)


def _stored_row(entity: str) -> dict[str, Any]:
    """A row of `entity`'s table with a distinct value in every column."""
    row: dict[str, Any] = {}
    for n, column in enumerate(store.entity(entity).table.c):
        try:
            kind = column.type.python_type
        except NotImplementedError:
            kind = object
        if kind is datetime:
            row[column.name] = datetime(2026, 1, 15, 10, 1, n, 123000, tzinfo=UTC)
        elif kind is date:
            row[column.name] = date(2010, 3, 1 + n % 28)
        elif kind is bool:
            row[column.name] = n % 2 == 0
        elif kind in (list, dict, object):
            row[column.name] = [f"v{n}"]
        else:
            row[column.name] = f"v{n}"
    return row


@pytest.mark.parametrize("entity", ["user", "demographics", "class", "org", "academicSession"])
def test_a_record_read_by_position_is_the_record_of_the_row(entity):
    row = _stored_row(entity)
    columns = ["unrelated", *reversed(row)]  # any order, with columns of other tables
    values = ["x", *(row[c] for c in columns[1:])]
    assert reverse.record_reader(entity, columns)(values) == reverse.record_of(entity, row)

    prefixed = [f"p.{c}" for c in columns]
    assert reverse.record_reader(entity, prefixed, "p.")(values) == reverse.record_of(entity, row)

    # columns left out read as None, as record_of gives them for a row without them
    some = columns[: len(columns) // 2]
    kept = {c: row[c] for c in some if c in row}
    read = reverse.record_reader(entity, some)(values[: len(some)])
    assert read == reverse.record_of(entity, kept)
    assert any(v is None for v in read.values())


def _user(role: str) -> dict[str, Any]:
    """A user record with a value in every field, as a stored row gives it."""
    record = reverse.record_of("user", _stored_row("user"))
    record.update(
        role=role,
        identifier="604822",
        username="lwoods",
        givenName="Lisa",
        familyName="Woods",
        middleName="Ann",
        email="l@example.org",
        phone="555-0100",
        sms="555-0101",
        orgs=["org-s1", "org-d1"],
        grades=["09"],
        agents=["u-s1"],
    )
    assert all(v is not None for v in record.values())
    return record


def _only(record: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: (v if k in fields else None) for k, v in record.items()}


def _people(user: dict[str, Any], demographics: dict[str, Any] | None) -> list[Any]:
    dates = {"org-s1": "2025-08-20", "org-d1": "2025-08-01"}
    return [
        to_edfi.student(user, demographics),
        to_edfi.student_education_organization_associations(user, demographics, lookup),
        to_edfi.student_school_associations(user, dates, lookup),
        to_edfi.staff(user),
        to_edfi.staff_assignments(user, dates, lookup),
        to_edfi.contact(user),
        to_edfi.student_contact_associations(user, lookup),
    ]


@pytest.mark.parametrize("role", ["student", "teacher", "administrator", "parent", "guardian"])
def test_the_people_translations_read_only_the_fields_they_declare(role):
    user = _user(role)
    demographics = reverse.record_of("demographics", _stored_row("demographics"))
    demographics.update(sex="female", asian=True, white=True, hispanicOrLatinoEthnicity=True)
    demographics.update(countryOfBirthCode="US", stateOfBirthAbbreviation="TX")
    full = _people(user, demographics)
    assert any(full)
    declared = _people(
        _only(user, to_edfi.PERSON_FIELDS),
        _only(demographics, to_edfi.demographics_fields()),
    )
    assert declared == full
