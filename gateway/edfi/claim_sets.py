"""Ed-Fi claim sets: which actions a client may take on a resource, and under which authorization
strategies, read from the ODS/API security metadata (schemas/edfi/security/ods/*.xml, applied in
file order as the ODS applies them) and the gateway's own claim sets in the same format
(schemas/edfi/security/gateway-claim-sets.xml).

A resource claim sits in a hierarchy (domains/people → student). A claim set grants an action on a
claim and everything below it; the strategies of an action are the claim set's overrides on the
nearest claim that grants it, else the defaults of the nearest claim in the lineage that has them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from gateway.edfi.definitions import Resource, edfi_schemas_dir

ACTIONS = ("Create", "Read", "Update", "Delete", "ReadChanges")
# What a client gets when none is named: the ODS sandbox's claim set.
DEFAULT_CLAIM_SET = "Ed-Fi Sandbox"
# What every client could do before clients had a claim set (gateway-claim-sets.xml).
LEGACY_CLAIM_SET = "Gateway Legacy"
CLAIM_PREFIX = "http://ed-fi.org/ods/identity/claims/"


@dataclass
class Claim:
    name: str
    parent: str | None = None
    defaults: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # claim set → action → overriding strategies (empty: the defaults apply)
    grants: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass(frozen=True)
class SecurityMetadata:
    claims: dict[str, Claim]
    claim_sets: tuple[str, ...]

    def lineage(self, claim_name: str) -> list[Claim]:
        out: list[Claim] = []
        name: str | None = claim_name
        while name is not None and name in self.claims:
            out.append(self.claims[name])
            name = self.claims[name].parent
        return out

    def strategies(self, claim_set: str, claim_name: str, action: str) -> tuple[str, ...] | None:
        """The strategies authorizing `action` on the claim for the claim set; None: not granted."""
        lineage = self.lineage(claim_name)
        granting = next((c for c in lineage if action in c.grants.get(claim_set, {})), None)
        if granting is None:
            return None
        overrides = granting.grants[claim_set][action]
        if overrides:
            return overrides
        return next((c.defaults[action] for c in lineage if action in c.defaults), ())


def security_dir() -> Path:
    return edfi_schemas_dir() / "security"


def _strategies(element: ET.Element | None) -> tuple[str, ...]:
    if element is None:
        return ()
    return tuple(s.attrib["name"] for s in element.findall("AuthorizationStrategy"))


def _apply(claims: dict[str, Claim], element: ET.Element, parent: str | None, rehome: bool) -> None:
    name = element.attrib["name"]
    claim = claims.get(name)
    if claim is None:
        claim = claims[name] = Claim(name, parent)
    elif rehome:
        claim.parent = parent
    for action in element.findall("DefaultAuthorization/Action"):
        claim.defaults[action.attrib["name"]] = _strategies(action.find("AuthorizationStrategies"))
    for claim_set in element.findall("ClaimSets/ClaimSet"):
        # A later file restating a claim set's actions on a claim replaces them (e.g. removes one).
        claim.grants[claim_set.attrib["name"]] = {
            action.attrib["name"]: _strategies(action.find("AuthorizationStrategyOverrides"))
            for action in claim_set.findall("Actions/Action")
        }
    for child in element.findall("Claims/Claim"):
        _apply(claims, child, name, rehome)


def load(files: list[Path]) -> SecurityMetadata:
    claims: dict[str, Claim] = {}
    for path in files:
        root = ET.parse(path).getroot()
        rehome = root.attrib.get("modifyHierarchy", "").strip().lower() == "true"
        for element in root.findall("Claims/Claim"):
            _apply(claims, element, None, rehome)
    names = sorted({cs for claim in claims.values() for cs in claim.grants})
    return SecurityMetadata(claims, tuple(names))


@cache
def metadata() -> SecurityMetadata:
    directory = security_dir()
    return load([*sorted((directory / "ods").glob("*.xml")), *sorted(directory.glob("*.xml"))])


def claim_sets() -> tuple[str, ...]:
    return metadata().claim_sets


def claim_name(res: Resource) -> str:
    """The resource claim of a served resource: the ODS names it after the entity, under the
    claims prefix or (the claims ODS 7 added, finance) under its ed-fi/ segment."""
    entity = res.entity[:1].lower() + res.entity[1:]
    name = CLAIM_PREFIX + entity
    if name not in metadata().claims and CLAIM_PREFIX + "ed-fi/" + entity in metadata().claims:
        return CLAIM_PREFIX + "ed-fi/" + entity
    return name


def strategies(claim_set: str, res: Resource, action: str) -> tuple[str, ...] | None:
    return metadata().strategies(claim_set, claim_name(res), action)
