"""Ed-Fi interchange XML -> the API's JSON shape, driven by the resource definitions.

The XML differs from the JSON in regular ways, handled generically here: descriptor elements
drop the "Descriptor" suffix (<Term> -> termDescriptor), collections repeat a singular element
(<Address> -> addresses[]), groupings wrap properties (<Name><FirstName>, <BirthData>), references
nest identities (<SchoolReference><SchoolIdentity><SchoolId>) or point at another element's `id`
attribute (<ContactReference ref="PRNT_1"/>), and school years are written "2021-2022".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.edfi.definitions import Registry

SCHOOL_YEAR_SPAN = re.compile(r"^\d{4}-(\d{4})$")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def singular(name: str) -> str:
    low = name.lower()
    if low.endswith("ies"):
        return low[:-3] + "y"
    if low.endswith(("sses", "ches", "shes", "xes")):
        return low[:-2]
    return low[:-1] if low.endswith("s") else low


def first_word_stripped(tag: str) -> str:
    """AvailableCredits -> available: the wrapper's prefix for its children's property names."""
    words = re.findall(r"[A-Z][a-z0-9]*", tag)
    return "".join(words[:-1]).lower()


def leaves(elem: ET.Element) -> dict[str, str]:
    """Every leaf under `elem` by lower-cased tag (first occurrence wins)."""
    out: dict[str, str] = {}
    for node in elem.iter():
        if len(node) == 0 and node is not elem:
            out.setdefault(local(node.tag).lower(), (node.text or "").strip())
    return out


def convert_scalar(text: str, spec: dict) -> Any:
    t = spec.get("type")
    if t == "integer":
        span = SCHOOL_YEAR_SPAN.match(text)
        return int(span.group(1)) if span else int(text)
    if t == "number":
        return float(text)
    if t == "boolean":
        return text.lower() in ("true", "1")
    return text


@dataclass
class Record:
    resource: str
    body: dict[str, Any]
    source: str  # "File.xml: Element #n" for reports


class InterchangeReader:
    def __init__(self, registry: Registry):
        self.registry = registry
        self.by_element = {r.entity: r for r in registry.resources.values()}
        self.ids: dict[str, dict[str, str]] = {}

    def index_ids(self, path: Path) -> None:
        """First pass: remember the identity leaves of every element carrying an `id` attribute."""
        depth = 0
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                depth += 1
                continue
            depth -= 1
            if depth == 1:
                if "id" in elem.attrib:
                    self.ids[elem.attrib["id"]] = leaves(elem)
                elem.clear()

    def records(self, path: Path) -> Iterator[Record | tuple[str, str]]:
        """Second pass: each top-level element of a served resource as a Record; others as
        (element name, source) so the caller can report what it skipped."""
        depth = 0
        counts: dict[str, int] = {}
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue
            name = local(elem.tag)
            counts[name] = counts.get(name, 0) + 1
            source = f"{path.name}: {name} #{counts[name]}"
            res = self.by_element.get(name)
            if res is None:
                yield (name, source)
            else:
                yield Record(res.name, self.convert(elem, res.properties), source)
            elem.clear()

    # --- element -> JSON ------------------------------------------------------------------------
    def convert(self, elem: ET.Element, props: list[dict], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        self._fill(elem, props, out, prefix)
        return out

    def _fill(self, elem: ET.Element, props: list[dict], out: dict[str, Any], prefix: str) -> None:
        direct: dict[str, dict] = {}
        ref_fields: dict[str, tuple[dict, dict]] = {}
        for p in props:
            low = p["name"].lower()
            direct[low] = p
            if p["kind"] == "descriptor":
                direct.setdefault(low[: -len("descriptor")], p)
            if p["kind"] == "reference" and len(p["fields"]) == 1:
                ref_fields[p["fields"][0]["name"].lower()] = (p, p["fields"][0])
        for child in elem:
            tag = local(child.tag)
            low = tag.lower()
            prop = direct.get(low) or (direct.get(prefix + low) if prefix else None)
            if prop is not None and not (prop["kind"] in ("scalar", "descriptor") and len(child)):
                self._set(out, prop, child)
                continue
            if low in ref_fields and not len(child):
                # a one-key reference written as its bare key
                # (<SchoolYear> -> schoolYearTypeReference)
                ref, field = ref_fields[low]
                out.setdefault(ref["name"], {})[field["name"]] = self._scalar(
                    (child.text or "").strip(), field
                )
                continue
            collection, item_prop = self._collection_for(low, props)
            if collection is not None:
                item = (
                    {item_prop["name"]: self._value(item_prop, child)}
                    if item_prop
                    else self.convert(child, collection["item"]["properties"])
                )
                out.setdefault(collection["name"], []).append(item)
                continue
            if len(child):
                # a grouping element (<Name>, <BirthData>, <AvailableCredits>): its children are
                # properties of this same object, sometimes prefixed by the group's name
                self._fill(child, props, out, first_word_stripped(tag))

    def _collection_for(self, low: str, props: list[dict]) -> tuple[dict | None, dict | None]:
        for p in props:
            if p["kind"] != "collection":
                continue
            item_props = p["item"]["properties"]
            for ip in item_props:
                # a collection of single values: <GradeLevel> -> gradeLevels[{gradeLevelDescriptor}]
                if ip["name"].lower() in (low, low + "descriptor") and len(item_props) <= 2:
                    return p, ip
        for p in props:
            if p["kind"] == "collection" and low.endswith(singular(p["name"])):
                return p, None
        return None, None

    def _set(self, out: dict[str, Any], prop: dict, child: ET.Element) -> None:
        value = self._value(prop, child)
        if value is not None:
            out[prop["name"]] = value

    def _value(self, prop: dict, child: ET.Element) -> Any:
        kind = prop["kind"]
        if kind == "reference":
            return self._reference(prop, child)
        if kind == "object":
            return self.convert(child, prop["shape"]["properties"])
        if kind == "collection":
            return [self.convert(child, prop["item"]["properties"])]
        text = (child.text or "").strip()
        if kind == "descriptor":
            return text
        return self._scalar(text, prop)

    @staticmethod
    def _scalar(text: str, spec: dict) -> Any:
        try:
            return convert_scalar(text, spec)
        except ValueError:
            return text  # let validation name the bad value

    def _reference(self, prop: dict, child: ET.Element) -> dict[str, Any]:
        found = self.ids.get(child.attrib["ref"], {}) if "ref" in child.attrib else leaves(child)
        ref: dict[str, Any] = {}
        for f in prop["fields"]:
            low = f["name"].lower()
            text = found.get(low)
            if text is None and low.endswith("descriptor"):
                text = found.get(low[: -len("descriptor")])
            if text is None:
                continue
            try:
                ref[f["name"]] = text if f.get("descriptor") else convert_scalar(text, f)
            except ValueError:
                ref[f["name"]] = text
        return ref
