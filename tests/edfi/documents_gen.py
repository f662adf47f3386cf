"""Valid Ed-Fi documents for any resource, generated from the definitions (gateway.edfi.definitions)
and the descriptor files, never written by hand per resource.

Key fields unify by name across references (schoolId, schoolYear, studentUniqueId, sessionName …):
a `World` holds one value per key name, so every reference of a generated document points at the
records the `Generator` creates first, through the API, dependencies first. Reference fields carry
their target's names (a nextYearSchoolReference holds a schoolId), so role-named flattened
properties resolve to their base name's value. Abstract references (educationOrganizationReference)
resolve to the world's school. A second world has other organizations, people and codes, for
authorization tests that compare two organizations."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from gateway.edfi import claim_sets
from gateway.edfi.claim_sets import LEGACY_CLAIM_SET
from gateway.edfi.definitions import Resource, registry
from gateway.edfi.descriptors import read_descriptor_file
from gateway.edfi.security import rules
from gateway.paths import DESCRIPTORS_DIR
from tests.edfi.conftest import EdFi

SCHOOL_YEAR = 2022  # a seeded school year type (descriptors/SchoolYearTypes.json)
DATE = "2021-09-01"
LATER = "2021-10-01"
DATE_TIME = "2021-09-01T08:00:00Z"
# The abstract entity a reference may name resolves to this target when it is one of them.
ABSTRACT_CHOICE = "schools"


@cache
def descriptor_values() -> dict[str, list[str]]:
    """Descriptor name → its official values (URIs), in the files' order."""
    out: dict[str, list[str]] = {}
    for path in sorted(DESCRIPTORS_DIR.glob("*.xml")):
        for row in read_descriptor_file(path):
            uri = f"{row['namespace']}#{row['code_value']}"
            out.setdefault(str(row["descriptor_name"]), []).append(uri)
    return out


def edorg_names() -> list[str]:
    from gateway.edfi.security import _authorization

    return list(_authorization()["securableElements"]["educationOrganizationIds"])


class World:
    """One value per key name: world 1 is LEA 255901 with school 255901001, world 2 LEA 255902
    with school 255902001 (the ids of the `district` fixture); other organizations, people and
    codes differ by world too."""

    def __init__(self, n: int):
        self.n = n
        self.lea = 255900 + n
        self.school = self.lea * 1000 + 1
        self.namespace = f"uri://ed-fi.org/gen{n}"
        self.edorgs: dict[str, int] = {
            "localEducationAgencyId": self.lea,
            "schoolId": self.school,
            "educationOrganizationId": self.school,
        }
        for i, name in enumerate(edorg_names()):
            self.edorgs.setdefault(name, 2559000 + n * 100 + i)

    def organization_ids(self) -> tuple[str, ...]:
        return tuple(str(v) for v in sorted(set(self.edorgs.values())))

    def value(self, name: str, spec: dict, alternative: bool = False) -> Any:
        """The world's value of a property named `name` (alternative: another valid one, for
        an update)."""
        if spec.get("descriptor") or spec.get("kind") == "descriptor":
            values = descriptor_values().get(descriptor_of(name, spec))
            if not values:  # no official value: the world's own (Generator posts it first)
                return f"{self.namespace}#{self.value('codeValue', {'type': 'string'})}"
            return values[1 % len(values)] if alternative else values[0]
        name = base_name(name)
        if name in self.edorgs and not alternative:
            return self.edorgs[name]
        if name == "namespace" and not alternative:
            return self.namespace
        kind, fmt = spec.get("type"), spec.get("format")
        if kind == "boolean":
            return alternative
        if kind == "integer":
            if name.endswith("chool" + "Year") or name == "schoolYear":
                return SCHOOL_YEAR + (1 if alternative else 0)
            low, high = spec.get("minimum", 1), spec.get("maximum", 2_000_000)
            value = max(low, min(high, self.n + (2 if alternative else 0)))
            if fmt != "int64":
                value = min(value, 2**31 - 1)
            return value
        if kind == "number":
            # within the OpenAPI's bounds and the range of the property's DECIMAL column
            column_high = float(spec["decimalRange"][1]) if "decimalRange" in spec else 100
            low, high = spec.get("minimum", 0), spec.get("maximum", min(100, column_high))
            return round(low + (high - low) * (0.5 if alternative else 0.25), 2)
        if fmt == "date":
            return LATER if alternative else DATE
        if fmt == "date-time":
            return DATE_TIME.replace("08:", "09:") if alternative else DATE_TIME
        text = f"{'Alt' if alternative else 'G'}{self.n}{name}"
        longest, shortest = spec.get("maxLength", 60), spec.get("minLength", 0)
        return text[:longest].ljust(shortest, "x")


@cache
def reference_field_names() -> frozenset[str]:
    """The names reference objects give their fields: their targets' key names."""
    return frozenset(
        f["name"]
        for res in registry().resources.values()
        for prop in res.properties
        if prop["kind"] == "reference"
        for f in prop["fields"]
    ) | frozenset(edorg_names())


def base_name(name: str) -> str:
    """A role-named key (programEducationOrganizationId, responsibleTeacherStaffUniqueId) takes
    its base key's value: the longest key name it ends with."""
    keys = reference_field_names()
    for i, c in enumerate(name):
        if i and c.isupper() and (c.lower() + name[i + 1 :]) in keys:
            return c.lower() + name[i + 1 :]
    return name


def descriptor_of(name: str, spec: dict) -> str:
    return spec.get("descriptor") or name[:1].upper() + name[1:]


def descriptor_resource(descriptor: str) -> str:
    """The resource serving a descriptor's values (GradeLevelDescriptor → gradeLevelDescriptors)."""
    return next(r.name for r in registry().resources.values() if r.entity == descriptor)


def target_of(ref: dict) -> str:
    """The served resource a reference property points at (abstract ones: the school)."""
    if ref["target"]:
        return ref["target"]
    targets = registry().storage["abstractTargets"][ref["entity"]]
    return ABSTRACT_CHOICE if ABSTRACT_CHOICE in targets else targets[0]


def authorizing_fields(resource: str) -> set[str]:
    """Fields through which a record reaches organizations: where the resource's authorization
    rule reads its organization (a gradebook entry's section's school) and where records are
    placed (a school's LEA, 'writeWithin'). References carrying one are included although
    optional, so limited clients reach the world's records."""
    rule = rules().get(resource, {})
    placed = {f for r in rules().values() for f in r.get("writeWithin", ())}
    return placed | ({rule["edorg"]} if "edorg" in rule else set())


def _wanted(prop: dict, required: set[str], top: bool, resource: str) -> bool:
    if prop["name"] in required or prop.get("identity"):
        return True
    if prop["kind"] == "reference":
        flats = {f["flat"] for f in prop["fields"]}
        return top and bool(flats & authorizing_fields(resource))
    # optional scalars and descriptors of the resource itself: coverage, and something to update
    return top and prop["kind"] in ("scalar", "descriptor")


def _unofficial(name: str, spec: dict, refs: list[str]) -> None:
    """A descriptor without official values: its resource joins what the document needs."""
    if spec.get("descriptor") or spec.get("kind") == "descriptor":
        descriptor = descriptor_of(name, spec)
        if not descriptor_values().get(descriptor):
            refs.append(descriptor_resource(descriptor))


def _build(
    world: World, resource: str, props: list[dict], required: set[str], top: bool, refs: list
) -> dict:
    body: dict[str, Any] = {}
    for prop in props:
        if not _wanted(prop, required, top, resource):
            continue
        kind, name = prop["kind"], prop["name"]
        if kind in ("scalar", "descriptor"):
            body[name] = world.value(name, prop)
            _unofficial(prop["name"], prop, refs)
        elif kind == "reference":
            refs.append(target_of(prop))
            body[name] = {f["name"]: world.value(f["name"], f) for f in prop["fields"]}
            for f in prop["fields"]:
                _unofficial(f["name"], f, refs)
        elif kind == "collection":
            item = prop["item"]
            wanted = set(item.get("required", ()))
            body[name] = [_build(world, resource, item["properties"], wanted, False, refs)]
        elif kind == "object":
            shape = prop["shape"]
            wanted = set(shape.get("required", ()))
            body[name] = _build(world, resource, shape["properties"], wanted, False, refs)
    return body


def document(resource: str, world: World) -> tuple[dict, list[str]]:
    """A valid document of `resource` in `world`, and the resources its references point at."""
    defn = registry().resources[resource]
    refs: list[str] = []
    body = _build(world, resource, defn.properties, set(defn.required), True, refs)
    return body, list(dict.fromkeys(refs))


def _changeable(prop: dict) -> bool:
    if prop["kind"] == "descriptor":
        return len(_descriptor_values_of(prop)) > 1
    return prop["kind"] == "scalar"


def updatable(resource: str) -> tuple[dict, dict | None] | None:
    """A non-key value to change: a top-level scalar or descriptor (the property, None), else one
    of the first item of a required collection (the collection, the item's property), else an
    optional collection of plain values to add an item to (the collection, None); None when the
    resource has nothing but its key (and references)."""
    defn = registry().resources[resource]
    for prop in defn.properties:
        if not prop.get("identity") and _changeable(prop):
            return prop, None
    for prop in defn.properties:
        if prop["kind"] == "collection" and prop["name"] in defn.required:
            item = prop["item"]
            for inner in item["properties"]:
                if inner["name"] in item.get("required", ()) and _changeable(inner):
                    return prop, inner
    for prop in defn.properties:  # an optional collection of plain values: one item added
        if prop["kind"] == "collection" and all(map(_changeable, prop["item"]["properties"])):
            return prop, None
    return None


def _descriptor_values_of(prop: dict) -> list[str]:
    return descriptor_values().get(descriptor_of(prop["name"], prop), [])


def changed(resource: str, body: dict, world: World) -> tuple[dict, str] | None:
    """The body with one non-key value changed, and the top-level property holding it (None:
    nothing to change)."""
    found = updatable(resource)
    if found is None:
        return None
    prop, inner = found
    out = copy.deepcopy(body)
    if prop["kind"] == "collection" and inner is None:
        item = prop["item"]
        added = _build(
            world, resource, item["properties"], set(item.get("required", ())), False, []
        )
        out[prop["name"]] = [added]
    elif inner is None:
        out[prop["name"]] = world.value(prop["name"], prop, alternative=True)
    else:
        out[prop["name"]][0][inner["name"]] = world.value(inner["name"], inner, alternative=True)
    assert out[prop["name"]] != body.get(prop["name"]), prop
    return out, prop["name"]


def creatable(res: Resource, claim_set: str = LEGACY_CLAIM_SET) -> bool:
    """Whether a claim set grants Create (schoolYearTypes: reference data the gateway seeds)."""
    return claim_sets.strategies(claim_set, res, "Create") is not None


class Generator:
    """Creates generated records through the API, each with what it references first; remembers
    what it made per (resource, world)."""

    def __init__(self, api: EdFi):
        self.api = api
        self.made: dict[tuple[str, int], str | None] = {}

    def ensure(self, resource: str, world: World, path: tuple[str, ...] = ()) -> str | None:
        """The id of the world's record of `resource`, created (with its dependencies) if
        needed; None for reference data the API does not create."""
        key = (resource, world.n)
        if key in self.made:
            return self.made[key]
        res = registry().resources[resource]
        if not creatable(res):
            self.made[key] = None
            return None
        body, targets = document(resource, world)
        for target in targets:
            if target != resource and target not in path:
                self.ensure(target, world, (*path, resource))
        response = self.api.post(resource, body)
        assert response.status_code in (200, 201), (resource, body, response.get_json())
        self.made[key] = response.headers["Location"].rsplit("/", 1)[1]
        return self.made[key]

    def dependencies(self, resource: str, world: World) -> dict:
        """Create everything the world's document of `resource` references; return the body."""
        body, targets = document(resource, world)
        for target in targets:
            if target != resource:
                self.ensure(target, world, (resource,))
        return body

    def anchors(self, resource: str, world: World) -> None:
        """The records relating the world's people to its organizations, following the
        resource's authorization paths (a student's school association …), those of the
        elements it must relate through as well (`also`) included."""
        rule = rules().get(resource, {})
        paths = [*rule.get("via", [])]
        for extra in rule.get("also", []):
            paths += extra.get("via", [])
        for path in paths:
            for hop in path:
                self.ensure(hop["resource"], world)
