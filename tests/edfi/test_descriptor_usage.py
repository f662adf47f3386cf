"""DELETE of a descriptor value that stored records still use: 409 dependent-item-exists naming
where it is used (descriptor columns, and descriptor fields inside JSONB collections)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from gateway.edfi.definitions import registry
from gateway.edfi.usages import descriptor_usages
from tests.edfi.conftest import enrollment, school, student
from tests.edfi.test_resources import problem

GRADE_NS = "uri://ed-fi.org/GradeLevelDescriptor"
LANGUAGE_USE_NS = "uri://ed-fi.org/LanguageUseDescriptor"


def own_value(edfi, resource: str, namespace: str, code: str) -> str:
    body = {"namespace": namespace, "codeValue": code, "shortDescription": code}
    return edfi.create(resource, body)


def test_a_descriptor_used_by_a_column_cannot_be_deleted(edfi, district):
    district()
    edfi.create("students", student("760001"))
    grade_id = own_value(edfi, "gradeLevelDescriptors", GRADE_NS, "Grade Y")
    body = enrollment("760001", 255901001)
    body["entryGradeLevelDescriptor"] = f"{GRADE_NS}#Grade Y"
    ssa_id = edfi.create("studentSchoolAssociations", body)

    body = problem(
        edfi.delete("gradeLevelDescriptors", grade_id), 409, "data-conflict:dependent-item-exists"
    )
    assert "StudentSchoolAssociation" in body["detail"]
    assert body["errors"] == ["Used by StudentSchoolAssociation ($.entryGradeLevelDescriptor)."]
    assert edfi.get(f"gradeLevelDescriptors/{grade_id}").status_code == 200  # nothing deleted

    assert edfi.delete("studentSchoolAssociations", ssa_id).status_code == 204
    assert edfi.delete("gradeLevelDescriptors", grade_id).status_code == 204


def test_a_descriptor_used_inside_a_collection_cannot_be_deleted(edfi, district):
    district()
    grade_id = own_value(edfi, "gradeLevelDescriptors", GRADE_NS, "Grade Z")
    body = school(255901200, 255901, "Z School")
    body["gradeLevels"].append({"gradeLevelDescriptor": f"{GRADE_NS}#Grade Z"})
    school_id = edfi.create("schools", body)

    body = problem(
        edfi.delete("gradeLevelDescriptors", grade_id), 409, "data-conflict:dependent-item-exists"
    )
    assert body["errors"] == ["Used by School ($.gradeLevels[*].gradeLevelDescriptor)."]

    # the same value dropped from the collection frees it
    doc = edfi.get(f"schools/{school_id}").get_json()
    doc["gradeLevels"] = [
        g for g in doc["gradeLevels"] if not g["gradeLevelDescriptor"].endswith("Z")
    ]
    assert edfi.put("schools", school_id, doc).status_code == 204
    assert edfi.delete("gradeLevelDescriptors", grade_id).status_code == 204


def test_a_descriptor_used_two_collections_deep_cannot_be_deleted(edfi, district):
    use_id = own_value(edfi, "languageUseDescriptors", LANGUAGE_USE_NS, "Dream language")
    other_id = own_value(edfi, "languageUseDescriptors", LANGUAGE_USE_NS, "Unused language")
    edfi.create(
        "contacts",
        {
            "contactUniqueId": "C760001",
            "firstName": "Ann",
            "lastSurname": "Lee",
            "languages": [
                {
                    "languageDescriptor": "uri://ed-fi.org/LanguageDescriptor#gsw",
                    "uses": [{"languageUseDescriptor": f"{LANGUAGE_USE_NS}#Dream language"}],
                }
            ],
        },
    )
    body = problem(
        edfi.delete("languageUseDescriptors", use_id), 409, "data-conflict:dependent-item-exists"
    )
    assert body["errors"] == ["Used by Contact ($.languages[*].uses[*].languageUseDescriptor)."]
    # a value of the same descriptor that nothing uses is still deletable
    assert edfi.delete("languageUseDescriptors", other_id).status_code == 204


def test_usages_come_from_the_definitions():
    usages = descriptor_usages(registry())
    paths = {(u.resource.name, u.path) for u in usages["GradeLevelDescriptor"]}
    assert ("studentSchoolAssociations", "$.entryGradeLevelDescriptor") in paths
    assert ("schools", "$.gradeLevels[*].gradeLevelDescriptor") in paths
    nested = next(u for u in usages["LanguageUseDescriptor"] if u.resource.name == "contacts")
    assert nested.containment("v") == [{"uses": [{"languageUseDescriptor": "v"}]}]
    # descriptor key fields of references inside collections count as usages too
    plan = next(u for u in usages["GraduationPlanTypeDescriptor"] if u.steps)
    assert plan.containment("v") == [
        {"alternativeGraduationPlanReference": {"graduationPlanTypeDescriptor": "v"}}
    ]


def test_checks_on_student_grain_tables_are_index_served(db_session):
    """With sequential scans priced out, every check on a student-grain table must find an index
    (edfi_0002); a missing index would show as a Seq Scan."""
    reg = registry()
    usages = [
        u
        for us in descriptor_usages(reg).values()
        for u in us
        if "studentUniqueId" in u.resource.identity
    ]
    assert usages
    db_session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    for u in usages:
        # the predicate shapes usages.py sends: equality, or JSONB containment
        table, column = u.resource.table_name, u.column
        if u.leaf:
            where, value = f"{column} @> CAST(:v AS jsonb)", json.dumps(u.containment("uri://x#y"))
        else:
            where, value = f"{column} = :v", "uri://x#y"
        sql = f"EXPLAIN SELECT EXISTS (SELECT 1 FROM {table} WHERE {where})"
        plan = db_session.execute(sa.text(sql), {"v": value}).scalars().all()
        assert not any("Seq Scan" in line for line in plan), (u.path, plan)
