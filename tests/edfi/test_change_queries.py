"""Change versions, /deletes, /keyChanges and availableChangeVersions across writes."""

from __future__ import annotations

from tests.edfi.conftest import enrollment, school, student


def newest(edfi) -> int:
    r = edfi.client.get("/changeQueries/v1/availableChangeVersions", headers=edfi.headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["oldestChangeVersion"] == 0
    return body["newestChangeVersion"]


def test_min_change_version_returns_what_changed_since(edfi, district):
    ids = district()
    mark = newest(edfi)
    assert (
        edfi.put("schools", ids[255901107], school(255901107, 255901, "Changed")).status_code == 204
    )
    changed = edfi.get("schools", query_string={"minChangeVersion": mark + 1}).get_json()
    assert [d["schoolId"] for d in changed] == [255901107]
    assert newest(edfi) > mark
    before = edfi.get("schools", query_string={"maxChangeVersion": mark}).get_json()
    assert sorted(d["schoolId"] for d in before) == [255901001, 255902001]


def test_deletes_report_tombstones_with_key_values(edfi, district):
    district()
    sid = edfi.create("students", student("710001"))
    mark = newest(edfi)
    assert edfi.delete("students", sid).status_code == 204
    deletes = edfi.get("students/deletes", query_string={"minChangeVersion": mark + 1}).get_json()
    assert len(deletes) == 1
    assert deletes[0]["id"] == sid
    assert deletes[0]["keyValues"] == {"studentUniqueId": "710001"}
    assert deletes[0]["changeVersion"] > mark
    assert (
        edfi.get("students/deletes", query_string={"minChangeVersion": newest(edfi) + 1}).get_json()
        == []
    )


def test_key_changes_report_old_and_new_keys(edfi, district):
    district()
    edfi.create("students", student("710002"))
    ssa = edfi.create("studentSchoolAssociations", enrollment("710002", 255901001))
    mark = newest(edfi)
    assert (
        edfi.put(
            "studentSchoolAssociations", ssa, enrollment("710002", 255901001, "2021-10-01")
        ).status_code
        == 204
    )
    changes = edfi.get(
        "studentSchoolAssociations/keyChanges", query_string={"minChangeVersion": mark + 1}
    ).get_json()
    assert len(changes) == 1
    change = changes[0]
    assert change["id"] == ssa
    assert change["oldKeyValues"]["entryDate"] == "2021-08-23"
    assert change["newKeyValues"] == {
        "entryDate": "2021-10-01",
        "schoolId": 255901001,
        "studentUniqueId": "710002",
    }


def test_several_key_changes_of_a_record_are_one_entry(edfi, district):
    """As the ODS/API: from the first old key to the last new key, at the last change version;
    a window starting between the changes sees only the later one."""
    district()
    edfi.create("students", student("710004"))
    ssa = edfi.create("studentSchoolAssociations", enrollment("710004", 255901001))
    mark = newest(edfi)
    put = edfi.put("studentSchoolAssociations", ssa, enrollment("710004", 255901001, "2021-09-01"))
    assert put.status_code == 204
    between = newest(edfi)
    put = edfi.put("studentSchoolAssociations", ssa, enrollment("710004", 255901107, "2021-09-02"))
    assert put.status_code == 204
    r = edfi.get(
        "studentSchoolAssociations/keyChanges",
        query_string={"minChangeVersion": mark + 1, "totalCount": "true"},
    )
    [change] = r.get_json()
    assert r.headers["Total-Count"] == "1"
    assert change["id"] == ssa and change["changeVersion"] > between
    assert change["oldKeyValues"]["entryDate"] == "2021-08-23"
    assert change["newKeyValues"]["entryDate"] == "2021-09-02"
    assert change["newKeyValues"]["schoolId"] == 255901107
    [later] = edfi.get(
        "studentSchoolAssociations/keyChanges", query_string={"minChangeVersion": between + 1}
    ).get_json()
    assert later["oldKeyValues"]["entryDate"] == "2021-09-01"


def test_update_raises_the_record_change_version(edfi, district):
    district()
    sid = edfi.create("students", student("710003"))
    mark = newest(edfi)
    assert edfi.get("students", query_string={"minChangeVersion": mark + 1}).get_json() == []
    edfi.post("students", student("710003", first="Other"))
    assert [
        d["id"]
        for d in edfi.get("students", query_string={"minChangeVersion": mark + 1}).get_json()
    ] == [sid]
