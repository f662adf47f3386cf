"""Ed-Fi JSON documents <-> flattened column values, driven by the resource definitions.

`validate` turns a request body into {flat name: python value} or raises ValidationFailed with
`validationErrors` keyed by JSON path; `to_document` turns a stored row back into the API's shape.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from gateway.edfi import nested
from gateway.edfi.definitions import Column, Reference, Resource
from gateway.errors import ValidationFailed

SERVER_FIELDS = ("_etag", "_lastModifiedDate", "link", "_ext")
VALIDATION_DETAIL = "Data validation failed. See 'validationErrors' for details."


class Problems:
    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = defaultdict(list)
        # (descriptor name, uri, json path) checked against the descriptors table in one query
        self.descriptors: list[tuple[str, str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.by_path[path].append(message)

    def raise_if_any(self) -> None:
        if self.by_path:
            raise ValidationFailed(VALIDATION_DETAIL, validation_errors=dict(self.by_path))


INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
# .NET's default date (DateTime.MinValue), which ODS clients send for "no date": the ODS/API takes
# it as not sent
DOTNET_DEFAULT_DATE = re.compile(r"0?1/0?1/0001|0001-01-01(T00:00:00(\.0+)?Z?)?")


def without_trailing_commas(text: str) -> str:
    """`text` without the commas that directly follow a value and precede a closing brace or
    bracket (outside strings), which the ODS/API's JSON reader accepts. Nothing else changes:
    a comma after an opening bracket or another comma is left, for the parser to refuse."""
    out: list[str] = []
    in_string = escaped = False
    last = ""  # the last significant character outside strings
    for i, ch in enumerate(text):
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                last = '"'
            continue
        if ch == '"':
            in_string = True
        elif ch == "," and last not in ("", ",", "[", "{", ":"):
            rest = text[i + 1 :].lstrip()
            if rest[:1] in ("}", "]"):
                continue
        if not ch.isspace():
            last = ch
        out.append(ch)
    return "".join(out)


def not_sent(value: Any, prop: dict) -> bool:
    """A value the ODS/API takes as absent: null, or the default date for a date."""
    if value is None:
        return True
    return (
        prop.get("format") == "date"
        and isinstance(value, str)
        and DOTNET_DEFAULT_DATE.fullmatch(value.strip()) is not None
    )


def coerce(value: Any, spec: dict) -> Any:
    """A JSON scalar of another type converted as the ODS/API's JSON reader converts it: numbers
    and booleans sent as strings ("255901001", "true"), numbers where text is expected. A value
    that does not convert is returned as sent, for scalar_value to refuse."""
    t = spec.get("type")
    if isinstance(value, str):
        text = value.strip()
        if t == "integer" and INTEGER_TEXT.fullmatch(text):
            return int(text)
        if t == "number":
            try:
                number = float(text)
            except ValueError:
                return value
            return number if math.isfinite(number) else value
        if t == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    if (
        t == "string"
        and spec.get("format") not in ("date", "date-time")
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ):
        return str(value)
    return value


def scalar_value(value: Any, spec: dict, path: str, problems: Problems) -> Any:
    """Check one JSON scalar against its OpenAPI spec; return the python value to store."""
    value = coerce(value, spec)
    t, fmt = spec.get("type"), spec.get("format")
    name = path.rsplit(".", 1)[-1]
    if t == "string":
        if not isinstance(value, str):
            problems.add(path, f"{name} must be a string.")
            return None
        if fmt == "date":
            try:
                return date.fromisoformat(value)
            except ValueError:
                problems.add(path, f"{name} must be a date (yyyy-mm-dd).")
                return None
        if fmt == "date-time":
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                problems.add(path, f"{name} must be a date-time.")
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if "\x00" in value:
            problems.add(path, f"{name} must not contain NUL characters.")
            return None
        low, high = spec.get("minLength") or 0, spec.get("maxLength")
        if (high is not None and len(value) > high) or len(value) < low:
            # the ODS/API's words; a minimum of 1 it no longer states (DS 5.1 removed it)
            if low > 1 and high is not None:
                rule = f"must be between {low} and {high} characters in length."
            elif high is not None and len(value) > high:
                rule = f"must be at most {high} characters in length."
            else:
                rule = f"must be at least {low} characters in length."
            problems.add(path, f"{title(name)} {rule}")
        return value
    if t == "integer":
        if isinstance(value, (float, str)):  # the ODS/API's (JSON reader's) words
            problems.add(path, f"Input string '{value}' is not a valid integer.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            problems.add(path, f"{name} must be an integer.")
            return None
        limit = 2**63 if fmt == "int64" else 2**31
        if not -limit <= value < limit:
            problems.add(path, f"{name} is out of range.")
    elif t == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            problems.add(path, f"{name} must be a number.")
            return None
    elif t == "boolean":
        if not isinstance(value, bool):
            problems.add(path, f"{name} must be a boolean.")
            return None
    if t in ("integer", "number"):
        if "minimum" in spec and value < spec["minimum"]:
            problems.add(path, f"{name} must be at least {spec['minimum']}.")
        if "maximum" in spec and value > spec["maximum"]:
            problems.add(path, f"{name} must be at most {spec['maximum']}.")
        if "decimalRange" in spec and not _within_column(value, spec):
            low, high = spec["decimalRange"]
            problems.add(path, f"{title(name)} must be between {low} and {high}.")
    return value


def _within_column(value: int | float, spec: dict) -> bool:
    """A number within the range its DECIMAL column holds (the DS 5.2 table script's precision
    and scale, build_definitions.decimal_range), on the sides the OpenAPI leaves unbounded:
    where it states a minimum or maximum, that one is checked instead, in its own words."""
    low, high = spec["decimalRange"]
    number = Decimal(repr(value))  # the value as sent (999.99), not its binary approximation
    if "minimum" not in spec and number < Decimal(low):
        return False
    return "maximum" in spec or number <= Decimal(high)


def descriptor_value(value: Any, descriptor: str | None, path: str, problems: Problems) -> Any:
    name = path.rsplit(".", 1)[-1]
    if not isinstance(value, str):
        problems.add(path, f"{name} must be a string.")
        return None
    if len(value) > 306 or "\x00" in value:
        problems.add(path, f"{name} must be a descriptor URI of at most 306 characters.")
        return None
    if descriptor:
        problems.descriptors.append((descriptor, value, path))
    return value


_STEP = re.compile(r"\.([^.\[]+)|\[([0-9]+)\]")


def replace_at(res: Resource, values: dict[str, Any], path: str, value: Any) -> None:
    """Set the value `validate` returned for the JSON path of the body (e.g. `$.gradeLevels[0]
    .gradeLevelDescriptor`, `$.studentReference.studentUniqueId`)."""
    steps = [(m.group(1), m.group(2)) for m in _STEP.finditer(path, 1)]
    first = steps[0][0]
    prop = next(p for p in res.properties if p["name"] == first)
    if prop["kind"] == "reference":  # a top-level reference's fields are flattened
        values[next(f["flat"] for f in prop["fields"] if f["name"] == steps[1][0])] = value
        return
    node: Any = values
    for key, index in steps[:-1]:
        node = node[int(index)] if index is not None else node[key]
    key, index = steps[-1]
    node[int(index) if index is not None else key] = value


def title(name: str) -> str:
    """A property name as the ODS/API's messages spell it (`city` → `City`)."""
    return name[:1].upper() + name[1:]


def identifying_value(
    value: Any, spec: dict, path: str, problems: Problems, top_level: bool = False
) -> None:
    """The ODS/API's rules for a value that identifies its record or collection item: no
    leading or trailing spaces; a record's identifying number is not the default 0."""
    if not spec.get("identity") or value is None:
        return
    if isinstance(value, str) and value != value.strip():
        problems.add(path, f"{title(spec['name'])} cannot contain leading or trailing spaces.")
    elif top_level and spec.get("type") == "integer" and value == 0:
        problems.add(path, f"{title(spec['name'])} value must be different than 0.")


def _plain_text(spec: dict) -> bool:
    return spec.get("type") == "string" and spec.get("format") not in ("date", "date-time")


def canonical(body: dict, names: Any) -> dict:
    """The body with property names in the definition's letter case: the ODS/API reads JSON
    property names case-insensitively (`ContactUniqueId` is `contactUniqueId`)."""
    exact, by_lower = _spellings(tuple(names))
    if all(key in exact or key.lower() not in by_lower for key in body):
        return body
    return {by_lower.get(key.lower(), key): value for key, value in body.items()}


@lru_cache(maxsize=4096)
def _spellings(names: tuple[str, ...]) -> tuple[frozenset[str], dict[str, str]]:
    """A definition's property names, and each by its lower case (read for every document)."""
    by_lower = {name.lower(): name for name in names}
    return frozenset(by_lower.values()), by_lower


def _shape(shape: dict, body: Any, path: str, problems: Problems) -> Any:
    """Validate a collection item or common type; return it with only known properties."""
    if not isinstance(body, dict):
        problems.add(path, "must be an object.")
        return None
    body = canonical(body, (p["name"] for p in shape["properties"]))
    out: dict[str, Any] = {}
    # a property the object does not have is ignored, as the ODS/API ignores it (its own test
    # suite posts schools with an academicSubjectDescriptor)
    for prop in shape["properties"]:
        name = prop["name"]
        value = body.get(name)
        p = f"{path}.{name}"
        if not_sent(value, prop):
            if name in shape["required"]:
                problems.add(p, f"{title(name)} is required.")
            continue
        kind = prop["kind"]
        if kind == "scalar":
            v = scalar_value(value, prop, p, problems)
            identifying_value(v, prop, p, problems)
            out[name] = coerce(value, prop) if v is not None else None
        elif kind == "descriptor":
            out[name] = descriptor_value(value, prop.get("descriptor"), p, problems)
        elif kind == "reference":
            # stored as JSON: keep the client's JSON values, not the converted ones
            if isinstance(value, dict):
                value = canonical(value, (f["name"] for f in prop["fields"]))
            fields = _reference_fields(prop, value, p, problems) or {}
            specs = {f["name"]: f for f in prop["fields"]}
            out[name] = {f: coerce(value[f], specs[f]) for f in fields}
        elif kind == "collection":
            out[name] = _collection(prop, value, p, problems)
        else:
            out[name] = _shape(prop["shape"], value, p, problems)
    return out


def _collection(prop: dict, value: Any, path: str, problems: Problems) -> list | None:
    if not isinstance(value, list):
        problems.add(path, f"{prop['name']} must be an array.")
        return None
    items = [_shape(prop["item"], item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    _refuse_duplicates(prop["item"], items, path, problems)
    return items


def _refuse_duplicates(item: dict, items: list, path: str, problems: Problems) -> None:
    """Two items of a collection with the same identifying values (those the standard marks as
    identifying, else the required ones) are one item given twice: 400, as the ODS/API words it
    ("The 2nd item of the SchoolGradeLevels has the same identifying values as another item
    earlier in the list."). Text compares in any letter case, as descriptor values do."""
    keys = [p["name"] for p in item["properties"] if p.get("identity")] or list(item["required"])
    if not keys:
        return
    seen: set[str] = set()
    for i, found in enumerate(items):
        if not isinstance(found, dict):
            continue
        key = json.dumps([found.get(k) for k in keys], sort_keys=True, default=str).lower()
        if key in seen:
            problems.add(
                path,
                f"The {_ordinal(i + 1)} item of the {_plural(item.get('entity', ''))} has the "
                "same identifying values as another item earlier in the list.",
            )
            # the first is enough: 20,000 copies of an item must not answer 20,000 messages
            return
        seen.add(key)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(name: str) -> str:
    if name.endswith("y") and name[-2:-1] not in ("a", "e", "i", "o", "u"):
        return name[:-1] + "ies"
    return name + ("es" if name.endswith(("s", "x", "ch", "sh")) else "s")


def _reference_fields(prop: dict, value: Any, path: str, problems: Problems) -> dict | None:
    if not isinstance(value, dict):
        problems.add(path, f"{prop['name']} must be an object.")
        return None
    value = canonical(value, (f["name"] for f in prop["fields"]))
    missing = [title(f["name"]) for f in prop["fields"] if value.get(f["name"]) is None]
    if missing:  # the ODS/API's words
        problems.add(
            path, f"{title(prop['name'])} is missing the following properties: {', '.join(missing)}"
        )
    out = {}
    for f in prop["fields"]:
        fp = f"{path}.{f['name']}"
        if value.get(f["name"]) is None:
            continue
        if f.get("descriptor"):
            out[f["name"]] = descriptor_value(value[f["name"]], f["descriptor"], fp, problems)
        else:
            converted = scalar_value(value[f["name"]], f, fp, problems)
            out[f["name"]] = converted
    return out


def validate(res: Resource, body: Any, problems: Problems) -> dict[str, Any]:
    """Body -> {flat name: value}; collections and common types stay JSON."""
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object.")
    names = [p["name"] for p in res.properties]
    body = canonical(body, [*names, *SERVER_FIELDS, "id", res.descriptor_id_property or "id"])
    values: dict[str, Any] = {}
    unified: dict[str, list[tuple[str, Any]]] = {}  # flat key field -> (JSON path, value) given
    own: dict[str, Any] = {}  # the resource's own scalars, which unify with its references' too
    # properties the resource does not have are ignored, as the ODS/API ignores them
    for prop in res.properties:
        name, kind = prop["name"], prop["kind"]
        path = f"$.{name}"
        value = body.get(name)
        if value == "" and kind == "scalar" and name not in res.required and _plain_text(prop):
            value = None  # the ODS/API takes an optional string sent empty as not sent
        if kind == "scalar" and not_sent(value, prop):
            value = None
        if value is None or (kind == "collection" and value == [] and name in res.required):
            if name in res.required:
                # an embedded object is named by its type, as the ODS/API names it
                named = prop["shape"]["entity"] if kind == "object" else title(name)
                problems.add(path, f"{named} is required.")
            if kind in ("collection",):
                values[name] = []
            continue
        if kind == "scalar" and value == "" and not _plain_text(prop):
            # an empty date or number: the ODS/API cannot convert it
            problems.add(path, "The supplied value is invalid.")
        elif kind == "scalar" and value == "" and name in res.required:
            problems.add(path, f"{title(name)} is required and should not be left empty.")
        elif kind == "scalar":
            values[name] = scalar_value(value, prop, path, problems)
            identifying_value(values[name], prop, path, problems, top_level=True)
            if values[name] is not None:
                own[name] = values[name]
        elif kind == "descriptor":
            values[name] = descriptor_value(value, prop.get("descriptor"), path, problems)
        elif kind == "collection":
            values[name] = _collection(prop, value, path, problems)
        elif kind == "object":
            values[name] = _shape(prop["shape"], value, path, problems)
        else:
            fields = _reference_fields(prop, value, path, problems) or {}
            for f in prop["fields"]:
                if f["name"] not in fields:
                    continue
                flat, v = f["flat"], fields[f["name"]]
                if v is None:
                    continue
                # key unification: references sharing a key field must agree on its value
                unified.setdefault(flat, []).append((f"{path}.{f['name']}", v))
                if values.get(flat) is None:
                    values[flat] = v
    _unify_items_with_parent(res, values, problems)
    for flat, given in unified.items():
        if flat in own:
            given.insert(0, (f"$.{flat}", own[flat]))
        distinct = list(dict.fromkeys(v for _p, v in given))
        if len(distinct) > 1:  # the ODS/API's words, at every reference involved
            # every place's value, as the ODS/API lists them (a value given twice, twice)
            shown = ", ".join(f"'{json_value(v)}'" for _p, v in given)
            for ref_path, _v in given:
                problems.add(
                    ref_path,
                    f"All values supplied for '{flat}' must match. Review all references and "
                    f"align the following conflicting values: {shown}",
                )
    return values


# A collection item's reference naming the school of the record that holds it: the same school
# (a bell schedule's or a section's class periods, a session's academic weeks and grading
# periods), as the ODS/API unifies them with the parent's key.
CONTEXTUAL_KEYS = ("schoolId",)


def _unify_items_with_parent(res: Resource, values: dict[str, Any], problems: Problems) -> None:
    for prop in res.properties:
        items = values.get(prop["name"]) if prop["kind"] == "collection" else None
        if not items:
            continue
        references = [p for p in prop["item"]["properties"] if p["kind"] == "reference"]
        for key in CONTEXTUAL_KEYS:
            parent = values.get(key)
            if parent is None:
                continue
            for ref in references:
                if not any(f["name"] == key for f in ref["fields"]):
                    continue
                for i, item in enumerate(items):
                    given = (item or {}).get(ref["name"]) if isinstance(item, dict) else None
                    mine = given.get(key) if isinstance(given, dict) else None
                    if mine is None or mine == parent:
                        continue
                    problems.add(
                        f"$.{prop['name']}[{i}].{ref['name']}.{key}",
                        f"All values supplied for '{key}' must match. Review all references "
                        "(including those higher up in the resource's data) and align the "
                        f"following conflicting values: '{json_value(parent)}', "
                        f"'{json_value(mine)}'",
                    )


def resource_id(value: Any) -> str:
    """A record's id as the ODS/API writes it: 32 lowercase hex characters, no hyphens."""
    return value.hex if isinstance(value, uuid.UUID) else uuid.UUID(str(value)).hex


def parse_id(value: str) -> uuid.UUID | None:
    """An id from a client: the ODS form (32 hex characters) or a hyphenated UUID."""
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def format_timestamp(value: datetime) -> str:
    # e.g. 2026-01-13T02:11:20.556Z
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def key_values(res: Resource, row: Any) -> dict[str, Any]:
    return {flat: json_value(row[res.columns[flat].name]) for flat in res.identity}


def etag_of(row: Any) -> str:
    """A row written outside this API (e.g. by a projection) may lack an etag: its change
    version, which also changes on every write, stands in."""
    return row["_etag"] or str(row["change_version"])


def to_document(res: Resource, row: Any, links: dict[str, dict] | None = None) -> dict[str, Any]:
    """A stored row (mapping of column -> value) as the Ed-Fi JSON document."""
    doc: dict[str, Any] = {"id": resource_id(row["id"])}
    if res.descriptor_id_property:
        doc[res.descriptor_id_property] = row["descriptor_id"]
    for prop in res.properties:
        kind, name = prop["kind"], prop["name"]
        if kind == "reference":
            values = {f["name"]: row[res.columns[f["flat"]].name] for f in prop["fields"]}
            if any(v is None for v in values.values()):
                continue
            ref = {k: json_value(v) for k, v in values.items()}
            link = (links or {}).get(name, {}).get(tuple(values.values()))
            if link:
                ref["link"] = link
            doc[name] = ref
            continue
        value = row[res.columns[name].name]
        if value is None:
            if kind == "collection":
                doc[name] = []
            continue
        doc[name] = json_value(value)
    doc["_etag"] = etag_of(row)
    doc["_lastModifiedDate"] = format_timestamp(row["_last_modified_date"])
    add_item_links(res.item_references, doc, links)
    return doc


def add_item_links(refs: list[Reference], doc: dict[str, Any], links: dict | None) -> None:
    """Links on the reference objects inside collection items, as on top-level ones."""
    for ref in refs:
        found = (links or {}).get(ref.path)
        if not found:
            continue
        for _path, obj in nested.reference_objects(doc.get(ref.steps[0][0]), ref):
            link = found.get(nested.reference_key(ref, obj))
            if link:
                obj["link"] = link


def _converter(column: Column) -> Callable[[Any], Any] | None:
    fmt = column.spec.get("format")
    if column.kind == "scalar" and fmt == "date":
        return date.isoformat
    if column.kind == "scalar" and fmt == "date-time":
        return format_timestamp
    return None


class Serializer:
    """to_document for pages: a per-resource plan over row tuples of `select(table)`, so a large
    page costs one pass of index lookups per row instead of name lookups per property."""

    def __init__(self, res: Resource, columns: list[str]):
        pos = {name: i for i, name in enumerate(columns)}
        self.id_i, self.etag_i, self.modified_i = (
            pos["id"],
            pos["_etag"],
            pos["_last_modified_date"],
        )
        self.version_i = pos["change_version"]
        self.descriptor_id = (
            (res.descriptor_id_property, pos["descriptor_id"])
            if res.descriptor_id_property
            else None
        )
        self.item_refs = [ref for ref in res.item_references if ref.targets]
        self.steps: list[tuple] = []
        for prop in res.properties:
            name = prop["name"]
            if prop["kind"] == "reference":
                fields = []
                for f in prop["fields"]:
                    column = res.columns[f["flat"]]
                    fields.append((f["name"], pos[column.name], _converter(column)))
                self.steps.append((True, name, fields, None, None))
            else:
                column = res.columns[name]
                empty: list | None = [] if prop["kind"] == "collection" else None
                self.steps.append((False, name, pos[column.name], _converter(column), empty))

    def __call__(self, row: Sequence[Any], links: dict[str, dict]) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": row[self.id_i].hex}
        if self.descriptor_id:
            doc[self.descriptor_id[0]] = row[self.descriptor_id[1]]
        for is_ref, name, where, convert, empty in self.steps:
            if is_ref:
                raw = tuple(row[i] for _, i, _ in where)
                if None in raw:
                    continue
                ref = {f: (c(v) if c else v) for (f, _, c), v in zip(where, raw, strict=True)}
                link = links.get(name, {}).get(raw) if links else None
                if link:
                    ref["link"] = link
                doc[name] = ref
                continue
            value = row[where]
            if value is None:
                if empty is not None:
                    doc[name] = []
                continue
            doc[name] = convert(value) if convert else value
        doc["_etag"] = row[self.etag_i] or str(row[self.version_i])
        doc["_lastModifiedDate"] = format_timestamp(row[self.modified_i])
        if self.item_refs and links:
            add_item_links(self.item_refs, doc, links)
        return doc
