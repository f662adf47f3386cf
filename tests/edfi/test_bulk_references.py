"""Interchange bulk loads: a record referencing another record of the same resource in the same
load is accepted whatever the order of the two (the ODS loads a district's LEA hierarchy in one
interchange), unless that other record is itself rejected."""

from __future__ import annotations

from gateway.edfi.interchange import Record
from gateway.edfi.loader import LoadReport, load_records
from tests.edfi.conftest import lea


def child_of(lea_id: int, parent: int) -> dict:
    return {
        **lea(lea_id, f"LEA {lea_id}"),
        "parentLocalEducationAgencyReference": {"localEducationAgencyId": parent},
    }


def test_a_parent_later_in_the_same_load_resolves(edfi, db_session):
    records = [
        # a chain given child first: 255903 -> 255904 -> 255905
        Record("localEducationAgencies", child_of(255903, 255904), "lea #1"),
        Record("localEducationAgencies", child_of(255904, 255905), "lea #2"),
        Record("localEducationAgencies", lea(255905, "Region"), "lea #3"),
    ]
    report = LoadReport()
    load_records(db_session, records, report)
    assert report.rejected == []
    assert report.created["localEducationAgencies"] == 3
    [doc] = edfi.get(
        "localEducationAgencies", query_string={"localEducationAgencyId": 255903}
    ).get_json()
    assert doc["parentLocalEducationAgencyReference"]["localEducationAgencyId"] == 255904


def test_a_parent_rejected_or_absent_rejects_its_children(edfi, db_session):
    bad_parent = {**lea(255907, "Bad"), "localEducationAgencyCategoryDescriptor": "nope"}
    records = [
        Record("localEducationAgencies", child_of(255906, 255907), "child of bad"),
        Record("localEducationAgencies", bad_parent, "bad"),
        # rejected only because its parent (child of bad) is: found by repeating the check
        Record("localEducationAgencies", child_of(255908, 255906), "grandchild of bad"),
        Record("localEducationAgencies", child_of(255909, 999999), "orphan"),
        Record("localEducationAgencies", lea(255910, "Fine"), "fine"),
    ]
    report = LoadReport()
    load_records(db_session, records, report)
    reasons = {source: reason for source, _, reason in report.rejected}
    assert set(reasons) == {"child of bad", "bad", "grandchild of bad", "orphan"}
    assert reasons["child of bad"] == (
        "The referenced 'LocalEducationAgency' item does not exist (localEducationAgencyId=255907)."
    )
    assert reasons["grandchild of bad"] == (
        "The referenced 'LocalEducationAgency' item does not exist (localEducationAgencyId=255906)."
    )
    assert report.created["localEducationAgencies"] == 1
    assert (
        edfi.get(
            "localEducationAgencies", query_string={"localEducationAgencyId": 255906}
        ).get_json()
        == []
    )
