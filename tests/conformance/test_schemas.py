"""The OneRoster data files agree with the product's OneRoster 1.1 contract (shipped beside the
schemas), and the schemas are valid."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from conformance.schemas import ONEROSTER_DIR, oneroster_data, oneroster_validator

CONTRACT = ONEROSTER_DIR / "oneroster-1.1-contract.md"


def _contract() -> str:
    return CONTRACT.read_text(encoding="utf-8")


def test_the_55_rest_paths_are_the_contracts():
    text = _contract()
    table = [line for line in text.splitlines() if line.startswith("| `/")]
    paths = {p for line in table for p in re.findall(r"`(/[^`]*)`", line)}
    gradebook = re.search(r"^Gradebook: (.*)$", text, re.M)[1]
    for collection in re.findall(r"`(/[a-zA-Z]+)`", gradebook):
        paths |= {collection, collection + "/{id}"}
    data = oneroster_data("rest-endpoints.json")
    ours = (
        {c["path"] for c in data["collections"]}
        | {c["path"] + "/{id}" for c in data["collections"]}
        | {n["path"] for n in data["nested"]}
    )
    assert len(paths) == 55
    assert ours == paths


def test_csv_columns_are_the_contracts_in_order():
    rows = re.findall(r"^\| (\w+)\.csv \| ([^|]+) \|$", _contract(), re.M)
    spec = oneroster_data("csv.json")
    common = [c["name"] for c in spec["common"]]
    assert {f: [c.strip() for c in cols.split(",")] for f, cols in rows} == {
        f: common + [c["name"] for c in cols] for f, cols in spec["files"].items()
    }


@pytest.mark.parametrize("path", sorted(ONEROSTER_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_schema_is_valid_json_schema(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    if "$schema" in doc:
        jsonschema.Draft202012Validator.check_schema(doc)
        assert doc["$id"] == "urn:oneroster-v1p1:" + path.stem


def test_entity_schemas_require_what_the_contract_marks():
    text = _contract()
    for entity in (
        "org",
        "user",
        "class",
        "course",
        "enrollment",
        "academicSession",
        "lineItem",
        "result",
        "category",
    ):
        line = re.search(rf"^- \*\*{entity}\*\*: (.*(?:\n  .*)*)", text, re.M)[1]
        marked = set(re.findall(r"(\w+)\*", line))
        schema = oneroster_validator(entity).schema
        assert set(schema["required"]) == marked, entity


def test_a_valid_user_passes_and_a_wrong_one_fails():
    user = {
        "sourcedId": "u1",
        "status": "active",
        "dateLastModified": "2026-01-15T10:01:02.123Z",
        "username": "dcohen",
        "givenName": "דוד",
        "familyName": "כהן",
        "role": "student",
        "orgs": [
            {"href": "https://x.test/ims/oneroster/v1p1/orgs/s1", "sourcedId": "s1", "type": "org"}
        ],
        "grades": ["09"],
        "enabledUser": "true",  # the 1.1 JSON binding's booleans are strings
    }
    validator = oneroster_validator("user")
    assert list(validator.iter_errors(user)) == []
    wrong = {**user, "enabledUser": True, "dateLastModified": "2026-01-15T10:01:02Z"}
    assert {e.path[0] for e in validator.iter_errors(wrong)} == {"enabledUser", "dateLastModified"}
    # optional fields are omitted, never null
    assert {e.path[0] for e in validator.iter_errors({**user, "email": None})} == {"email"}


def _field(column: str) -> str:
    """CSV column → entity field: orgSourcedIds → orgs, classSourcedId → class."""
    if column.endswith("SourcedIds"):
        return column.removesuffix("SourcedIds") + "s"
    return column.removesuffix("SourcedId")


def test_csv_required_columns_are_the_contracts_required_fields():
    """A column is required when the contract marks its entity's field required."""
    text = _contract()
    entities = {
        "academicSessions": "academicSession",
        "orgs": "org",
        "courses": "course",
        "classes": "class",
        "users": "user",
        "enrollments": "enrollment",
        "lineItems": "lineItem",
        "results": "result",
        "categories": "category",
        "resources": "resource",
    }
    spec = oneroster_data("csv.json")
    for file, entity in entities.items():
        line = re.search(rf"^- \*\*{entity}\*\*: (.*(?:\n  .*)*)", text, re.M)[1]
        marked = set(re.findall(r"(\w+)\*", line))
        required = {_field(c["name"]) for c in spec["files"][file] if c.get("required") is True}
        assert required == marked, file
