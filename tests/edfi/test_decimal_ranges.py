"""Decimal values within their column's range, as the ODS/API checks them: the precision and scale
of the DS 5.2 table script (schemas/edfi/decimal-precision.json) bound every number property the
OpenAPI leaves unbounded, refused with the ODS/API's words at the value's JSON path."""

from __future__ import annotations

import json

from gateway.edfi.definitions import edfi_schemas_dir, registry
from tests.edfi.test_ods_wire import _errors

STAFF = {
    "staffUniqueId": "x1",
    "firstName": "Jane",
    "lastSurname": "Doe",
    "sexDescriptor": "uri://ed-fi.org/SexDescriptor#Female",
}


def test_a_decimal_beyond_its_precision_is_refused_as_the_ods_suite_expects(edfi):
    # the ODS/API's own test suite: DECIMAL(5, 2)
    body = {**STAFF, "yearsOfPriorProfessionalExperience": 1000}
    assert _errors(edfi.post("staffs", body)) == {
        "$.yearsOfPriorProfessionalExperience": [
            "YearsOfPriorProfessionalExperience must be between -999.99 and 999.99."
        ]
    }
    body = {**STAFF, "yearsOfPriorTeachingExperience": -999.991}
    assert _errors(edfi.post("staffs", body)) == {
        "$.yearsOfPriorTeachingExperience": [
            "YearsOfPriorTeachingExperience must be between -999.99 and 999.99."
        ]
    }
    assert edfi.get("staffs", query_string={"staffUniqueId": "x1"}).get_json() == []


def test_a_decimal_at_its_bounds_is_accepted(edfi):
    body = {
        **STAFF,
        "yearsOfPriorProfessionalExperience": 999.99,
        "yearsOfPriorTeachingExperience": -999.99,
    }
    created = edfi.post("staffs", body)
    assert created.status_code == 201, created.get_json()
    [doc] = edfi.get("staffs", query_string={"staffUniqueId": "x1"}).get_json()
    assert doc["yearsOfPriorProfessionalExperience"] == 999.99
    assert doc["yearsOfPriorTeachingExperience"] == -999.99
    # sent as text, converted as the ODS/API's JSON reader converts it, then checked
    refused = edfi.post("staffs", {**STAFF, "yearsOfPriorProfessionalExperience": "1000.5"})
    assert list(_errors(refused)) == ["$.yearsOfPriorProfessionalExperience"]


def test_a_decimal_in_a_collection_item_is_refused_at_its_path(edfi):
    """DECIMAL(18, 4) of edfi.StudentAcademicRecordGradePointAverage; the OpenAPI's minimum of
    0 stays, the column bounds the rest."""
    record = {
        "educationOrganizationReference": {"educationOrganizationId": 255901},
        "schoolYearTypeReference": {"schoolYear": 2022},
        "studentReference": {"studentUniqueId": "604821"},
        "termDescriptor": "uri://ed-fi.org/TermDescriptor#Fall Semester",
        "gradePointAverages": [
            {
                "gradePointAverageTypeDescriptor": (
                    "uri://ed-fi.org/GradePointAverageTypeDescriptor#Unweighted"
                ),
                "gradePointAverageValue": 3.5,
            },
            {
                "gradePointAverageTypeDescriptor": (
                    "uri://ed-fi.org/GradePointAverageTypeDescriptor#Weighted"
                ),
                "gradePointAverageValue": 100000000000000,
                "maxGradePointAverageValue": 99999999999999.99,
            },
        ],
    }
    assert _errors(edfi.post("studentAcademicRecords", record)) == {
        "$.gradePointAverages[1].gradePointAverageValue": [
            "GradePointAverageValue must be between -99999999999999.9999 and 99999999999999.9999."
        ]
    }
    # the OpenAPI's own minimum is kept, in its own words
    record["gradePointAverages"][1]["gradePointAverageValue"] = -1
    assert _errors(edfi.post("studentAcademicRecords", record)) == {
        "$.gradePointAverages[1].gradePointAverageValue": [
            "gradePointAverageValue must be at least 0."
        ]
    }


def _number_properties():
    """(resource, entity, property, definition) of every number property, items included."""

    def walk(res, props, entity):
        for p in props:
            if p["kind"] == "collection":
                yield from walk(res, p["item"]["properties"], p["item"]["entity"])
            elif p["kind"] == "object":
                yield from walk(res, p["shape"]["properties"], p["shape"]["entity"])
            elif p["kind"] == "scalar" and p.get("type") == "number":
                yield res.name, entity, p["name"], p

    for res in registry().resources.values():
        yield from walk(res, res.properties, res.entity)


def test_the_transcription_is_whole_and_every_number_has_its_column():
    """The data file holds as many DECIMAL columns as were counted page by page in the script,
    and every number property of the definitions is a DECIMAL or a MONEY column of it: each
    DECIMAL one carries its range, the MONEY ones none."""
    doc = json.loads((edfi_schemas_dir() / "decimal-precision.json").read_text())
    columns = doc["decimalColumns"]
    counted = doc["_source"]["transcription"]
    assert len(columns) == sum(counted["decimalColumnsPerPage"].values())
    assert len(columns) == counted["decimalColumns"] == 79
    decimal = {(c["table"], c["column"]): c for c in columns}
    money = {(c["table"], c["column"]) for c in doc["moneyColumns"]}
    assert len(decimal) == len(columns) and not decimal.keys() & money
    seen = set()
    for resource, entity, name, prop in _number_properties():
        key = (entity, name[:1].upper() + name[1:])
        seen.add(key)
        assert key in decimal or key in money, (resource, key)
        if key in money:
            assert "decimalRange" not in prop, (resource, key)
            continue
        p, s = decimal[key]["precision"], decimal[key]["scale"]
        high = "9" * (p - s) + ("." + "9" * s if s else "")
        assert prop["decimalRange"] == [f"-{high}", high], (resource, key)
    # the one DECIMAL column no DS 5.0 resource has (studentTransportations came with DS 5.1)
    assert set(decimal) - seen == {("StudentTransportationStudentBusDetails", "Mileage")}
    assert money <= seen
