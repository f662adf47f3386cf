"""OwnershipBased authorization (the ODS/API's record ownership): a record carries the ownership
token of the client that created it; under a claim set naming OwnershipBased a client acts only on
records whose token is one of its own (the harness's "Ownership Based Test", people domain)."""

from __future__ import annotations

from tests.edfi.conftest import EdFi, student
from tests.edfi.test_resources import problem

CLAIM_SET = "Ownership Based Test"
MISMATCH = "security:authorization:ownership:access-denied:ownership-mismatch"
NOT_OWNED = (
    "Access to the requested data could not be authorized. The item is not owned by the caller."
)


def _clients(edfi, auth_headers) -> tuple[EdFi, EdFi]:
    # as the harness's 255901-A and 255901-B: B may act on A's records too, not the reverse
    one = EdFi(
        edfi.client,
        auth_headers(edorgs=("255901",), name="A", claim_set=CLAIM_SET, ownership_token="One"),
    )
    two = EdFi(
        edfi.client,
        auth_headers(
            edorgs=("255901",),
            name="B",
            claim_set=CLAIM_SET,
            ownership_token="Two",
            ownership_tokens=("One",),
        ),
    )
    return one, two


def test_a_client_acts_on_the_records_its_tokens_own(edfi, district, auth_headers):
    district()
    one, two = _clients(edfi, auth_headers)
    first = one.create("students", student("730001"))
    second = two.create("students", student("730002"))
    # unowned: written by a client without a token
    unowned = edfi.create("students", student("730003"))
    assert one.get(f"students/{first}").status_code == 200
    assert two.get(f"students/{first}").status_code == 200
    assert two.get(f"students/{second}").status_code == 200
    for refused in (one.get(f"students/{second}"), one.get(f"students/{unowned}")):
        body = problem(refused, 403, MISMATCH)
        assert body["detail"] == NOT_OWNED
    assert [s["studentUniqueId"] for s in one.get("students").get_json()] == ["730001"]
    assert sorted(s["studentUniqueId"] for s in two.get("students").get_json()) == [
        "730001",
        "730002",
    ]
    # nor may A update (POST or PUT) or delete what B owns
    problem(one.post("students", student("730002", first="Changed")), 403, MISMATCH)
    problem(one.put("students", second, student("730002", first="Changed")), 403, MISMATCH)
    problem(one.delete("students", second), 403, MISMATCH)
    # B updates A's record: it stays A's (an update never changes the owner)
    assert two.put("students", first, student("730001", first="Renamed")).status_code == 204
    assert one.get(f"students/{first}").get_json()["firstName"] == "Renamed"
    assert two.delete("students", first).status_code == 204


def test_a_client_without_a_token_owns_nothing_under_the_strategy(edfi, district, auth_headers):
    district()
    bare = EdFi(edfi.client, auth_headers(edorgs=("255901",), name="bare", claim_set=CLAIM_SET))
    created = bare.create("students", student("730010"))
    problem(bare.get(f"students/{created}"), 403, MISMATCH)
    assert bare.get("students").get_json() == []
