"""The OneRoster side follows the client's reach as the operator set it: every organization only
with the explicit flag; a client made with no organization sees none."""

from __future__ import annotations

from tests.oneroster.conftest import ids


def test_no_organization_reaches_none_and_the_flag_reaches_all(roster, get, auth_headers):
    everything = ids(get("/orgs", headers=auth_headers(name="all")), "orgs")
    assert everything
    # auth_headers(edorgs=()) passes the explicit flag; without it the client reaches nothing
    none = auth_headers(name="none", all_organizations=False)
    assert ids(get("/orgs", headers=none), "orgs") == []
    assert ids(get("/users", headers=none), "users") == []
