"""An importer limited to some organizations writes only inside them (the one org-reach rule)."""

from __future__ import annotations

from gateway.auth.access import compute_org_scope
from tests.csv.conftest import write_package
from tests.csv.district import district


def _two_schools():
    data = district()
    data["orgs"].append(
        {
            "sourcedId": "org-s2",
            "status": "active",
            "name": "North School",
            "type": "school",
            "parentSourcedId": "org-d1",
        }
    )
    data["users"].append(
        {**data["users"][0], "sourcedId": "u-n1", "username": "north1", "orgSourcedIds": "org-s2"}
    )
    return data


def test_school_client_writes_inside_its_school(tmp_path, app, db_session, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, _two_schools())).status == "applied"
    with app.app_context():
        scope = compute_org_scope(db_session, ("org-s1",))
    teacher = {
        **district()["users"][0],
        "familyName": "Smith-Jones",
        "dateLastModified": "2026-02-01T00:00:00Z",
    }
    report = do_import(write_package(second, {"users": [teacher]}, {"users": "delta"}), scope=scope)
    assert report.status == "applied", report.as_dict()
    assert rows("users", "family_name")["u-t1"] == ("Smith-Jones",)


def test_school_client_cannot_write_outside(tmp_path, app, db_session, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, _two_schools())).status == "applied"
    with app.app_context():
        scope = compute_org_scope(db_session, ("org-s1",))
    stamp = "2026-02-01T00:00:00Z"
    moved = {**_two_schools()["users"][-1], "orgSourcedIds": "org-s1", "dateLastModified": stamp}
    district_user = {
        **district()["users"][0],
        "sourcedId": "u-new",
        "username": "new",
        "orgSourcedIds": "org-d1",
        "dateLastModified": stamp,
    }
    report = do_import(
        write_package(second, {"users": [moved, district_user]}, {"users": "delta"}), scope=scope
    )
    assert report.status == "rejected"
    assert [str(i) for i in report.files["users.csv"].issues] == [
        "users.csv:2 sourcedId 'u-n1': the stored row is outside the organizations this "
        "client may import for",
        "users.csv:3 orgSourcedIds 'org-d1': outside the organizations this client may import for",
    ]
    assert rows("users", "org_ids")["u-n1"] == (["org-s2"],)


def test_school_client_bulk_removes_only_inside(tmp_path, app, db_session, do_import, rows):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert do_import(write_package(first, _two_schools())).status == "applied"
    with app.app_context():
        scope = compute_org_scope(db_session, ("org-s1",))
    keep = [u for u in district()["users"] if u["sourcedId"] != "u-p1"]
    keep = [{**u, "agentSourcedIds": ""} for u in keep]
    report = do_import(write_package(second, {"users": keep}), scope=scope, allow_deletions=True)
    assert report.status == "applied", report.as_dict()
    assert report.files["users.csv"].counts["deleted"] == 1
    statuses = rows("users", "status")
    assert statuses["u-p1"] == ("tobedeleted",)
    assert statuses["u-n1"] == ("active",)  # another school's user is not this client's to remove
