"""A client's reach comes from the operator, never from data it writes (issue 14, finding 1).

A client limited to LEA 255902 tries every way of widening its reach: an org whose identifier is
another district's id, an org re-parented or re-identified, an Ed-Fi school under another LEA. Each
attempt is refused with a clear error and leaves its reach as it was.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gateway.auth.access import compute_org_scope
from tests.csv.conftest import do_import, write_package  # noqa: F401  (fixture)
from tests.edfi import conftest as edfi_suite
from tests.edfi.conftest import lea, school

descriptors_loaded = edfi_suite.descriptors_loaded
edfi = edfi_suite.edfi
district = edfi_suite.district

STAMP = "2026-01-01T00:00:00Z"
TAKEN = "already the id of another education organization"


def org_of(db_session, identifier: str) -> str:
    return db_session.execute(
        text("SELECT sourced_id FROM organizations WHERE identifier = :i"), {"i": identifier}
    ).scalar_one()


def scope_of(app, db_session, *names: str):
    with app.app_context():
        return compute_org_scope(db_session, names)


def org_row(sourced_id: str, identifier: str, parent: str, kind: str = "school") -> dict:
    return {
        "sourcedId": sourced_id,
        "status": "active",
        "dateLastModified": STAMP,
        "name": "Evil",
        "type": kind,
        "identifier": identifier,
        "parentSourcedId": parent,
    }


@pytest.fixture
def limited(app, db_session, district):
    """The two-LEA district; the reach of a client of LEA 255902 before any attempt."""
    district()
    db_session.commit()  # a rejected import rolls back to here, as to a committed database
    return scope_of(app, db_session, "255902")


def import_orgs(tmp_path, do_import, scope, rows, mode="delta"):  # noqa: F811
    return do_import(write_package(tmp_path, {"orgs": rows}, {"orgs": mode}), scope=scope)


def refused(report) -> list[str]:
    """The report lines of a rejected import's orgs.csv."""
    assert report.status == "rejected", report.as_dict()
    return [str(i) for i in report.files["orgs.csv"].issues]


def test_the_finding_an_org_named_as_another_district_is_refused(
    tmp_path,
    app,
    db_session,
    edfi,
    limited,
    do_import,  # noqa: F811
):
    assert limited.covers_edfi(255902001) and not limited.covers_edfi(255901)
    own = org_of(db_session, "255902")
    report = import_orgs(tmp_path, do_import, limited, [org_row("evil-org", "255901", own)])
    assert refused(report) == [f"orgs.csv:2 identifier '255901': {TAKEN}"]
    assert scope_of(app, db_session, "255902") == limited
    assert edfi.get("schools?schoolId=255901").get_json() == []
    # nor the row's deletion: it never existed, and the reach never widened
    gone = {**org_row("evil-org", "255901", own), "status": "tobedeleted"}
    (tmp_path / "again").mkdir()
    import_orgs(tmp_path / "again", do_import, limited, [gone])
    assert scope_of(app, db_session, "255902") == limited


def test_a_school_id_of_another_district_is_refused_in_bulk_too(
    tmp_path,
    app,
    db_session,
    limited,
    do_import,  # noqa: F811
):
    own = org_of(db_session, "255902")
    school_org = org_of(db_session, "255902001")
    rows = [
        {**org_row(own, "255902", "", "district"), "name": "LEA 255902"},
        {**org_row(school_org, "255902001", own), "name": "School 255902001"},
        org_row("evil-org", "255901001", own),
    ]
    report = import_orgs(tmp_path, do_import, limited, rows, mode="bulk")
    assert refused(report) == [f"orgs.csv:4 identifier '255901001': {TAKEN}"]
    assert scope_of(app, db_session, "255902") == limited


def test_re_identifying_an_own_org_as_another_district_is_refused(
    tmp_path,
    app,
    db_session,
    limited,
    do_import,  # noqa: F811
):
    own = org_of(db_session, "255902")
    school_org = org_of(db_session, "255902001")
    row = {**org_row(school_org, "255901107", own), "name": "School 255902001"}
    report = import_orgs(tmp_path, do_import, limited, [row])
    assert refused(report) == [f"orgs.csv:2 identifier '255901107': {TAKEN}"]
    assert scope_of(app, db_session, "255902") == limited


def test_re_parenting_an_own_org_under_another_district_is_refused(
    tmp_path,
    app,
    db_session,
    limited,
    do_import,  # noqa: F811
):
    own, other = org_of(db_session, "255902"), org_of(db_session, "255901")
    school_org = org_of(db_session, "255902001")
    before_other = scope_of(app, db_session, "255901")
    row = {**org_row(school_org, "255902001", other), "name": "School 255902001"}
    report = import_orgs(tmp_path, do_import, limited, [row])
    assert refused(report) == [
        f"orgs.csv:2 parentSourcedId '{other}': outside the organizations this client may "
        "import for"
    ]
    assert scope_of(app, db_session, "255901") == before_other
    assert scope_of(app, db_session, "255902") == limited
    # a new org under its own district, with an id nobody holds, stays inside its reach
    (tmp_path / "ok").mkdir()
    report = import_orgs(tmp_path / "ok", do_import, limited, [org_row("new-s", "255902777", own)])
    assert report.status == "applied", report.as_dict()
    grown = scope_of(app, db_session, "255902")
    assert grown.covers_edfi(255902777) and not grown.covers_edfi(255901)
    assert grown.edfi_ids - limited.edfi_ids == {255902777}


def test_an_unrestricted_import_may_not_give_a_school_an_leas_id(
    tmp_path,
    app,
    db_session,
    edfi,
    district,
    do_import,  # noqa: F811
):
    """Whoever imports, one id names one education organization of one kind."""
    district()
    db_session.commit()
    own = org_of(db_session, "255902")
    report = import_orgs(tmp_path, do_import, None, [org_row("evil-org", "255901", own)])
    assert refused(report) == [f"orgs.csv:2 identifier '255901': {TAKEN}"]
    assert edfi.get("schools?schoolId=255901").get_json() == []


# --- Ed-Fi -------------------------------------------------------------------------------------


@pytest.fixture
def limited_edfi(edfi, auth_headers, district):
    ids = district()
    return edfi.with_headers(auth_headers(edorgs=("255902",))), ids


def test_edfi_school_under_an_lea_outside_reach_is_refused(limited_edfi, edfi, app, db_session):
    api, ids = limited_edfi
    before = scope_of(app, db_session, "255902")
    r = api.put("schools", ids[255902001], school(255902001, 255901, "Moved"))
    assert r.status_code == 403, r.get_json()
    stored = edfi.get(f"schools/{ids[255902001]}").get_json()
    assert stored["localEducationAgencyReference"]["localEducationAgencyId"] == 255902
    r = api.post("schools", school(255902001, 255901, "Moved"))
    assert r.status_code == 403, r.get_json()
    assert scope_of(app, db_session, "255902") == before
    assert scope_of(app, db_session, "255901").edfi_ids == {255901, 255901001, 255901107}
    # inside its reach the school is written as usual
    assert api.post("schools", school(255902001, 255902, "Renamed")).status_code == 200


def test_edfi_school_under_an_lea_that_does_not_exist_is_409_as_in_the_ods(limited_edfi, edfi):
    """Placing a school under an LEA nobody has is refused for the missing reference (409, the
    ODS/API's answer); under another district's LEA it stays 403 and nothing is written."""
    api, ids = limited_edfi
    r = api.post("schools", school(255902777, 999999))
    body = r.get_json()
    assert r.status_code == 409, body
    assert body["type"] == "urn:ed-fi:api:data-conflict:unresolved-reference"
    assert "LocalEducationAgency" in body["detail"]
    r = api.put("schools", ids[255902001], school(255902001, 999999))
    assert r.status_code == 409, r.get_json()
    assert api.post("schools", school(255902777, 255901)).status_code == 403
    assert edfi.get("schools?schoolId=255902777").get_json() == []


def test_edfi_ids_that_collide_are_refused_for_every_client(limited_edfi, edfi):
    api, _ids = limited_edfi
    r = api.post("schools", school(255901, 255902))
    assert r.status_code in (403, 409), r.get_json()
    r = edfi.post("schools", school(255901, 255902))
    assert r.status_code == 409, r.get_json()
    assert edfi.get("schools?schoolId=255901").get_json() == []


def test_edfi_lea_outside_reach_is_refused(limited_edfi, edfi):
    api, _ids = limited_edfi
    r = api.post("localEducationAgencies", lea(255903, "Mine now"))
    assert r.status_code == 403, r.get_json()
    assert edfi.get("localEducationAgencies?localEducationAgencyId=255903").get_json() == []


# --- OneRoster REST ----------------------------------------------------------------------------


def test_oneroster_rest_writes_no_orgs(client, auth_headers, limited, app, db_session):
    """REST writes only gradebook records: no verb places or names an org."""
    headers = auth_headers(edorgs=("255902",))
    own = org_of(db_session, "255902")
    body = {"org": {"name": "Evil", "type": "school", "identifier": "255901"}}
    for verb in (client.put, client.post, client.patch):
        for path in ("/ims/oneroster/v1p1/orgs/evil-org", f"/ims/oneroster/v1p1/orgs/{own}"):
            response = verb(path, json=body, headers=headers)
            assert response.status_code in (404, 405), (verb, path, response.status_code)
            assert "imsx_codeMajor" in response.get_json()
    assert scope_of(app, db_session, "255902") == limited


def test_an_org_an_older_release_let_in_does_not_widen_reach(app, db_session, limited):
    """A database attacked before this rule still holds the org: its identifier, another kind's
    id, counts for no reach (and `gateway mapping verify` lists it)."""
    db_session.execute(
        text(
            "INSERT INTO organizations (sourced_id, status, name, type, identifier, parent_id, "
            "origin) VALUES ('evil-org', 'active', 'Evil', 'school', '255901', :parent, "
            "'oneroster-csv')"
        ),
        {"parent": org_of(db_session, "255902")},
    )
    grown = scope_of(app, db_session, "255902")
    assert not grown.covers_edfi(255901) and not grown.covers_edfi(255901001)
    assert grown.edfi_ids == limited.edfi_ids


def test_edfi_bulk_job_places_a_school_only_under_an_lea_in_reach(
    client, auth_headers, limited_edfi, edfi, app
):
    from tests.edfi.test_bulk_jobs import ndjson, submit, zipped

    previous = app.config.get("CSV_IMPORT_MODE")
    app.config["CSV_IMPORT_MODE"] = "sync"  # the job runs inside the request's transaction
    try:
        api, ids = limited_edfi
        package = zipped({"schools.ndjson": ndjson(school(255902001, 255901, "Moved"))})
        job = submit(client, api.headers, package, "move.zip").get_json()
    finally:
        app.config["CSV_IMPORT_MODE"] = previous
    assert job["status"] == "rejected", job
    (refused,) = job["report"]["rejected"]
    assert refused["source"] == "schools.ndjson line 1"
    stored = edfi.get(f"schools/{ids[255902001]}").get_json()
    assert stored["localEducationAgencyReference"]["localEducationAgencyId"] == 255902
