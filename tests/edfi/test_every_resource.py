"""Every Ed-Fi resource of the definitions, round-tripped with a generated document (issue 16):
POST, GET by id, GET by example on its identity, PUT of a non-key value, DELETE, /deletes; and one
authorization check per strategy, parametrized from the security data. Nothing here is written per
resource: documents come from tests/edfi/documents_gen.py, expectations from the data, and the
resources the gateway fails are listed with their reason in known_failures.json."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.edfi import claim_sets
from gateway.edfi.definitions import registry
from gateway.edfi.security import NAMESPACE, NO_FURTHER, RELATIONSHIPS, rules
from tests.edfi.conftest import EdFi
from tests.edfi.documents_gen import Generator, World, changed, creatable, document

SANDBOX = claim_sets.DEFAULT_CLAIM_SET
LEGACY = claim_sets.LEGACY_CLAIM_SET
RESOURCES = sorted(r.name for r in registry().resources.values() if not r.descriptor)
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)")
KNOWN_FAILURES: dict[str, str] = json.loads(
    (Path(__file__).with_name("known_failures.json")).read_text(encoding="utf-8")
)["roundTrip"]


def _known(name: str, known: dict[str, str]) -> Any:
    return pytest.mark.xfail(strict=True, reason=known[name]) if name in known else ()


def _params(names: list[str], known: dict[str, str]) -> list:
    return [pytest.param(n, marks=_known(n, known)) for n in names]


def flat_values(resource: str, body: dict) -> dict[str, Any]:
    """The document's flattened properties (query parameters): its scalars and reference fields."""
    out: dict[str, Any] = {}
    for prop in registry().resources[resource].properties:
        if prop["name"] not in body:
            continue
        if prop["kind"] in ("scalar", "descriptor"):
            out[prop["name"]] = body[prop["name"]]
        elif prop["kind"] == "reference":
            for f in prop["fields"]:
                out[f["flat"]] = body[prop["name"]][f["name"]]
    return out


def identity(resource: str, world: World) -> dict[str, Any]:
    """The identity (flattened) of the world's record of `resource`."""
    res = registry().resources[resource]
    body, _ = document(resource, world)
    keys = {f: v for f, v in flat_values(resource, body).items() if f in res.identity}
    assert set(keys) == set(res.identity), (resource, res.identity)
    return keys


def query(values: dict[str, Any]) -> dict[str, str]:
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items()}


def contains(sent: Any, got: Any, where: str = "$") -> None:
    """Everything sent comes back (the server adds ids, links, etags)."""
    if isinstance(sent, dict):
        assert isinstance(got, dict), where
        for key, value in sent.items():
            assert key in got, f"{where}.{key} missing"
            contains(value, got[key], f"{where}.{key}")
    elif isinstance(sent, list):
        assert isinstance(got, list) and len(got) == len(sent), where
        for i, (a, b) in enumerate(zip(sent, got, strict=True)):
            contains(a, b, f"{where}[{i}]")
    elif isinstance(sent, float) or isinstance(got, float):
        assert float(got) == pytest.approx(float(sent)), where
    elif isinstance(sent, str) and DATE_TIME.fullmatch(sent) and isinstance(got, str):
        assert datetime.fromisoformat(got) == datetime.fromisoformat(sent), where
    else:
        assert got == sent, where


def _id(response) -> str:
    return response.headers["Location"].rsplit("/", 1)[1]


@pytest.mark.parametrize("resource", _params(RESOURCES, KNOWN_FAILURES))
def test_round_trip(edfi, resource):
    res = registry().resources[resource]
    world = World(1)
    generator = Generator(edfi)
    body = generator.dependencies(resource, world)
    keys = identity(resource, world)
    if not creatable(res):
        # reference data the gateway seeds: no claim set creates it, every client reads it
        assert edfi.post(resource, body).status_code == 403
        found = edfi.get(resource, query_string=query(keys))
        assert found.status_code == 200 and len(found.get_json()) == 1, found.get_json()
        return

    posted = edfi.post(resource, body)
    assert posted.status_code == 201, posted.get_json()
    id_ = _id(posted)

    one = edfi.get(f"{resource}/{id_}")
    assert one.status_code == 200, one.get_json()
    contains(body, one.get_json())
    assert one.get_json()["id"] == id_

    by_example = edfi.get(resource, query_string=query(keys))
    assert by_example.status_code == 200, by_example.get_json()
    assert [d["id"] for d in by_example.get_json()] == [id_]

    update = changed(resource, body, world)
    if update is not None:
        new_body, name = update
        put = edfi.put(resource, id_, new_body)
        assert put.status_code == 204, put.get_json()
        after = edfi.get(f"{resource}/{id_}").get_json()
        contains({name: new_body[name]}, after)

    deleted = edfi.delete(resource, id_)
    assert deleted.status_code == 204, deleted.get_json()
    assert edfi.get(f"{resource}/{id_}").status_code == 404
    deletes = edfi.get(f"{resource}/deletes", query_string={"totalCount": "true"})
    assert deletes.status_code == 200, deletes.get_json()
    assert id_ in [d["id"] for d in deletes.get_json()]
    assert int(deletes.headers["Total-Count"]) == len(deletes.get_json())


# --- one authorization check per strategy ------------------------------------------------------


def _strategies(claim_set: str, resource: str, action: str) -> tuple[str, ...]:
    return claim_sets.strategies(claim_set, registry().resources[resource], action) or ()


def _by(claim_set: str, action: str, test) -> list[str]:
    return [r for r in RESOURCES if any(test(s) for s in _strategies(claim_set, r, action))]


# Relationship-authorized reads (the client's claim set: the legacy one) of records reaching
# organizations by their rule (security.rules()) …
RELATED = [r for r in _by(LEGACY, "Read", lambda s: s.startswith(RELATIONSHIPS)) if r in rules()]
# records relationships look nothing at but carrying a namespace: that namespace is theirs
NAMESPACE_ONLY = [
    r
    for r in _by(LEGACY, "Read", lambda s: s.startswith(RELATIONSHIPS))
    if r not in rules() and "namespace" in registry().resources[r].columns
]
NAMESPACED = [r for r in _by(SANDBOX, "Create", lambda s: s == NAMESPACE)] + [
    r for r in _by(SANDBOX, "Create", lambda s: s.startswith(RELATIONSHIPS)) if r in NAMESPACE_ONLY
]
# … and reads that ask nothing of the record: NoFurtherAuthorizationRequired, or relationships
# where the record names no organization nor person (a finance dimension)
UNCONDITIONAL = [(r, SANDBOX) for r in _by(SANDBOX, "Read", lambda s: s == NO_FURTHER)] + [
    (r, LEGACY)
    for r in _by(LEGACY, "Read", lambda s: s.startswith(RELATIONSHIPS))
    if r not in rules() and r not in NAMESPACE_ONLY
]
KNOWN_AUTHORIZATION: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).with_name("known_failures.json")).read_text(encoding="utf-8")
)["authorization"]


def _two_worlds(edfi: EdFi, resource: str) -> tuple[Generator, str | None, str | None]:
    generator = Generator(edfi)
    ids = []
    for n in (1, 2):
        world = World(n)
        generator.anchors(resource, world)
        ids.append(generator.ensure(resource, world))
    return generator, ids[0], ids[1]


def _limited_to(edfi: EdFi, auth_headers, world: World, **options) -> EdFi:
    return EdFi(
        edfi.client,
        auth_headers(edorgs=world.organization_ids(), name=f"world{world.n}", **options),
    )


@pytest.mark.parametrize("resource", _params(RELATED, KNOWN_AUTHORIZATION["relationships"]))
def test_a_client_of_another_organization_cannot_read_the_record(edfi, auth_headers, resource):
    _, first, second = _two_worlds(edfi, resource)
    other = _limited_to(edfi, auth_headers, World(2))
    assert other.get(f"{resource}/{first}").status_code == 403
    mine = other.get(f"{resource}/{second}")
    assert mine.status_code == 200, mine.get_json()
    listed = other.get(resource, query_string={"limit": 500})
    assert listed.status_code == 200, listed.get_json()
    assert [d["id"] for d in listed.get_json()] == [second]


@pytest.mark.parametrize("resource", _params(NAMESPACED, KNOWN_AUTHORIZATION["namespace"]))
def test_a_client_of_another_namespace_cannot_create(edfi, auth_headers, resource):
    world = World(1)
    body = Generator(edfi).dependencies(resource, world)
    assert flat_values(resource, body)["namespace"] == world.namespace
    outsider = EdFi(
        edfi.client, auth_headers(namespace="uri://other.example", claim_set=SANDBOX, name="o")
    )
    refused = outsider.post(resource, body)
    assert refused.status_code == 403, refused.get_json()
    insider = EdFi(edfi.client, auth_headers(namespace=world.namespace, claim_set=SANDBOX))
    assert insider.post(resource, body).status_code == 201


@pytest.mark.parametrize(
    ("resource", "claim_set"),
    [
        pytest.param(r, c, id=f"{r}-{c}", marks=_known(r, KNOWN_AUTHORIZATION["noFurther"]))
        for r, c in UNCONDITIONAL
    ],
)
def test_any_client_of_the_claim_set_reads_it(edfi, auth_headers, resource, claim_set):
    _, first, _ = _two_worlds(edfi, resource)
    other = _limited_to(edfi, auth_headers, World(2), claim_set=claim_set)
    if first is None:  # seeded reference data
        found = other.get(resource, query_string=query(identity(resource, World(1))))
        assert found.status_code == 200 and len(found.get_json()) == 1, found.get_json()
        return
    response = other.get(f"{resource}/{first}")
    assert response.status_code == 200, response.get_json()
