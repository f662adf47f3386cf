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


def test_a_limited_importer_changes_only_shared_records_no_other_organization_uses(
    tmp_path, app, db_session, do_import, rows
):
    """Issue 14, finding 5: cat-1 is named by a lineItem of org-s1's class, so org-s2's importer
    may re-send it unchanged or add categories, but not rename or delete it; org-s1's may."""
    first = tmp_path / "a"
    first.mkdir()
    assert do_import(write_package(first, _two_schools())).status == "applied"
    with app.app_context():
        north, own = (
            compute_org_scope(db_session, ("org-s2",)),
            compute_org_scope(db_session, ("org-s1",)),
        )
    category = district()["categories"][0]
    renamed = {**category, "title": "Renamed", "dateLastModified": "2026-02-01T00:00:00Z"}
    gone = {**category, "status": "tobedeleted", "dateLastModified": "2026-02-01T00:00:00Z"}
    for n, row in enumerate((renamed, gone)):
        where = tmp_path / f"b{n}"
        where.mkdir()
        report = do_import(
            write_package(where, {"categories": [row]}, {"categories": "delta"}), scope=north
        )
        assert report.status == "rejected"
        assert [str(i) for i in report.files["categories.csv"].issues] == [
            "categories.csv:2 sourcedId 'cat-1': this category is shared with other "
            "organizations' records; only a client that reaches every organization may change "
            "or delete it"
        ]
    assert rows("categories", "title", "status")["cat-1"] == ("Homework", "active")
    new = {**category, "sourcedId": "cat-9", "title": "Labs"}
    (tmp_path / "c").mkdir()
    report = do_import(
        write_package(tmp_path / "c", {"categories": [category, new]}, {"categories": "delta"}),
        scope=north,
    )
    assert report.status == "applied", report.as_dict()
    (tmp_path / "d").mkdir()
    report = do_import(
        write_package(tmp_path / "d", {"categories": [renamed]}, {"categories": "delta"}),
        scope=own,
    )
    assert report.status == "applied", report.as_dict()
    assert rows("categories", "title")["cat-1"] == ("Renamed",)
