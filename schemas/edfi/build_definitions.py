"""Derive compact resource definitions from the official Ed-Fi DS5 OpenAPI files.

Run: python schemas/edfi/build_definitions.py   (stdlib + pyyaml)
Reads openapi/resources-ds-5.0.yaml, openapi/descriptor-api-5.0.yaml, served.json and
decimal-precision.json beside this file; writes resources.json, which the gateway's generic engine
reads at start-up.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SCHEMA_PREFIX = "#/components/schemas/"
SCALAR_KEYS = ("type", "format", "maxLength", "minLength", "minimum", "maximum")


def load(name: str) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(HERE / "openapi" / name, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def ref_name(ref: str) -> str:
    return ref[len(SCHEMA_PREFIX) :]


def cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def decimal_range(precision: int, scale: int) -> list[str]:
    """The range a DECIMAL(precision, scale) column holds, written as the ODS/API writes it:
    DECIMAL(5, 2) -> ["-999.99", "999.99"]."""
    whole = "9" * (precision - scale) or "0"
    high = whole + ("." + "9" * scale if scale else "")
    return ["-" + high, high]


def decimal_ranges() -> dict[tuple[str, str], list[str]]:
    """(table, column) -> range, from the DS 5.2 table script's DECIMAL columns
    (decimal-precision.json). A table is named by its entity; a collection item's or common
    type's by its parent's name followed by the item's, as resources.json names its entity."""
    doc = json.loads((HERE / "decimal-precision.json").read_text(encoding="utf-8"))
    return {
        (c["table"], c["column"]): decimal_range(c["precision"], c["scale"])
        for c in doc["decimalColumns"]
    }


def entity_of(schema_name: str) -> str:
    # edFi_studentSchoolAssociation -> StudentSchoolAssociation
    return cap(schema_name.split("_", 1)[1])


class Builder:
    def __init__(self, resources_doc: dict, descriptors_doc: dict, served: list[str]):
        self.schemas = resources_doc["components"]["schemas"]
        self.paths = resources_doc["paths"]
        self.descriptor_doc = descriptors_doc
        self.served = served
        self.overrides = json.loads((HERE / "flattening-overrides.json").read_text())
        self.decimal_ranges = decimal_ranges()
        # entity schema name -> collection path segment, from the POST request bodies
        self.collection_of: dict[str, str] = {}
        for path, ops in self.paths.items():
            post = ops.get("post")
            if post and path.startswith("/ed-fi/"):
                body = post["requestBody"]["content"]["application/json"]["schema"]
                self.collection_of[ref_name(body["$ref"])] = path.split("/")[2]
        self.descriptor_names = sorted(
            entity_of(name)
            for name in descriptors_doc["components"]["schemas"]
            if name.startswith("edFi_") and name.endswith("Descriptor")
        )
        self.descriptor_set = set(self.descriptor_names)

    def descriptor_for(self, prop: str) -> str | None:
        """The descriptor a property holds: the longest suffix naming a known descriptor
        (entryGradeLevelDescriptor -> GradeLevelDescriptor)."""
        words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", cap(prop))
        for i in range(len(words)):
            candidate = "".join(words[i:])
            if candidate in self.descriptor_set:
                return candidate
        return None

    def scalar(self, spec: dict) -> dict:
        return {k: spec[k] for k in SCALAR_KEYS if k in spec}

    def shape(self, schema_name: str, depth: int = 0) -> dict:
        """Item shape of a collection or common type: properties with kinds, required list."""
        schema = self.schemas[schema_name]
        entity = entity_of(schema_name)
        return {
            "entity": entity,
            "required": list(schema.get("required", [])),
            "properties": [
                p
                for name, spec in schema.get("properties", {}).items()
                if (p := self.prop(name, spec, depth + 1, nested=True, entity=entity)) is not None
            ],
        }

    def prop(
        self,
        name: str,
        spec: dict,
        depth: int,
        nested: bool,
        params: dict | None = None,
        overrides: dict | None = None,
        entity: str = "",
    ) -> dict | None:
        if name in ("id", "_etag", "_lastModifiedDate", "_ext", "link"):
            return None
        if "$ref" in spec:
            target = ref_name(spec["$ref"])
            if target.endswith("Reference"):
                return self.reference(name, target, nested, params, overrides)
            return {"name": name, "kind": "object", "shape": self.shape(target, depth)}
        if spec.get("type") == "array":
            return {
                "name": name,
                "kind": "collection",
                "item": self.shape(ref_name(spec["items"]["$ref"]), depth),
            }
        entry = {"name": name, **self.scalar(spec)}
        if spec.get("type") == "number" and (entity, cap(name)) in self.decimal_ranges:
            # the column's range, which the ODS/API checks beside the OpenAPI's own bounds
            entry["decimalRange"] = self.decimal_ranges[(entity, cap(name))]
        if spec.get("x-Ed-Fi-isIdentity"):
            entry["identity"] = True
        if name.endswith("Descriptor") and spec.get("type") == "string":
            entry["kind"] = "descriptor"
            entry["descriptor"] = self.descriptor_for(name)
        else:
            entry["kind"] = "scalar"
        return entry

    def reference(
        self,
        name: str,
        ref_schema: str,
        nested: bool,
        params: dict | None = None,
        overrides: dict | None = None,
    ) -> dict:
        target_schema = ref_schema[: -len("Reference")]
        target_entity = entity_of(target_schema)
        role = name[: -len("Reference")]
        # a role name prefixes the flattened key fields
        # (nextYearSchoolReference.schoolId -> nextYearSchoolId)
        prefix = (
            "" if role.lower() == target_entity.lower() else role[: len(role) - len(target_entity)]
        )
        fields = []
        for fname, fspec in self.schemas[ref_schema]["properties"].items():
            if fname == "link":
                continue
            # Ed-Fi does not repeat a role already leading the field name
            # (employmentStatusDescriptor)
            flat = fname if not prefix or fname.startswith(prefix) else prefix + cap(fname)
            if params is not None and flat not in params and fname in params:
                # key unification: the field shares the resource's own key column (staffUniqueId)
                flat = fname
            entity_role = target_entity[:1].lower() + target_entity[1:] + cap(fname)
            if params is not None and not prefix and entity_role in params:
                # a key field the resource holds twice, unrelated, takes the referenced entity's
                # name as role (programReference.educationOrganizationId ->
                # programEducationOrganizationId, beside the association's own one)
                flat = entity_role
            flat = (overrides or {}).get(name, {}).get(fname, flat)
            field = {"name": fname, "flat": flat, **self.scalar(fspec)}
            if fname.endswith("Descriptor"):
                field["descriptor"] = self.descriptor_for(fname)
            fields.append(field)
        collection = self.collection_of.get(target_schema)
        return {
            "name": name,
            "kind": "reference",
            "entity": target_entity,
            "target": collection if collection in self.served else None,
            "fields": fields,
        }

    def resource(self, collection: str) -> dict:
        path = self.paths[f"/ed-fi/{collection}"]
        body = path["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema_name = ref_name(body["$ref"])
        schema = self.schemas[schema_name]
        params = {}
        identity = []
        for param in path["get"]["parameters"]:
            if "$ref" in param or param["name"] == "id":
                continue
            params[param["name"]] = self.scalar(param["schema"])
            if param.get("x-Ed-Fi-isIdentity"):
                identity.append(param["name"])
        props = [
            p
            for name, spec in schema["properties"].items()
            if (
                p := self.prop(
                    name,
                    spec,
                    0,
                    nested=False,
                    params=params,
                    overrides=self.overrides.get(collection),
                    entity=entity_of(schema_name),
                )
            )
            is not None
        ]
        put = self.paths[f"/ed-fi/{collection}/{{id}}"]["put"]
        required = set(schema.get("required", []))
        for p in props:
            if p["kind"] == "reference":
                p["required"] = p["name"] in required
                p["identity"] = all(f["flat"] in identity for f in p["fields"])
        self.check_flattening(collection, props, params)
        return {
            "resource": collection,
            "entity": entity_of(schema_name),
            "descriptor": False,
            "allowKeyChanges": bool(put.get("x-Ed-Fi-isUpdatable")),
            "required": sorted(required),
            "identity": identity,
            "properties": props,
            "queryParameters": params,
        }

    def check_flattening(self, collection: str, props: list[dict], params: dict) -> None:
        """Every reference field flattens to a query parameter, and every query parameter is a
        flattened property (a naming rule the OpenAPI follows and this script must too)."""
        flattened = {f["flat"] for p in props if p["kind"] == "reference" for f in p["fields"]} | {
            p["name"] for p in props if p["kind"] in ("scalar", "descriptor")
        }
        if missing := sorted(set(params) - flattened):
            raise SystemExit(f"{collection}: query parameters {missing} flatten no property")
        for p in props:
            if p["kind"] == "reference":
                for f in p["fields"]:
                    if f["flat"] not in params:
                        raise SystemExit(
                            f"{collection}: {p['name']}.{f['name']} -> {f['flat']} "
                            "is not a query parameter"
                        )

    def descriptor_resource(self, entity: str) -> dict:
        schema = self.descriptor_doc["components"]["schemas"][
            "edFi_" + entity[0].lower() + entity[1:]
        ]
        props = []
        for name, spec in schema["properties"].items():
            if name in ("id", "_etag", "_lastModifiedDate") or name.endswith("DescriptorId"):
                continue
            props.append({"name": name, "kind": "scalar", **self.scalar(spec)})
        collection = entity[0].lower() + entity[1:] + "s"
        return {
            "resource": collection,
            "entity": entity,
            "descriptor": True,
            "descriptorIdProperty": entity[0].lower() + entity[1:] + "Id",
            "allowKeyChanges": False,
            "required": sorted(schema.get("required", [])),
            # the descriptor's natural key is its URI: namespace + codeValue
            "identity": ["namespace", "codeValue"],
            "properties": props,
            "queryParameters": {p["name"]: self.scalar(p) for p in props},
        }


def reference_targets(props: list[dict]):
    """Served targets of the references in `props`, those inside collection items included."""
    for p in props:
        if p["kind"] == "reference" and p["target"]:
            yield p["target"]
        elif p["kind"] == "collection":
            yield from reference_targets(p["item"]["properties"])
        elif p["kind"] == "object":
            yield from reference_targets(p["shape"]["properties"])


def dependency_order(resources: dict[str, dict]) -> dict[str, int]:
    """Load order: descriptors first, then each resource after everything it references."""
    order: dict[str, int] = {}

    def level(name: str, seen: tuple = ()) -> int:
        if name in order:
            return order[name]
        res = resources[name]
        if res["descriptor"]:
            order[name] = 1
            return 1
        deps = list(reference_targets(res["properties"]))
        value = 1 + max(
            [level(d, seen + (name,)) for d in deps if d not in seen and d != name] or [1]
        )
        order[name] = value
        return value

    for name in resources:
        level(name)
    return order


def definitions(served: list[str]) -> dict:
    """The resources.json document for the served resources (plus every descriptor resource)."""
    builder = Builder(load("resources-ds-5.0.yaml"), load("descriptor-api-5.0.yaml"), served)
    resources = {c: builder.resource(c) for c in served}
    for entity in builder.descriptor_names:
        d = builder.descriptor_resource(entity)
        resources[d["resource"]] = d
    for name, level in dependency_order(resources).items():
        resources[name]["order"] = level
    return {
        "_source": "Derived by build_definitions.py from the Ed-Fi DS5 OpenAPI "
        "(Apache-2.0, see openapi/LICENSE*)",
        "dataModel": {"name": "Ed-Fi", "version": "5.2.0"},
        "descriptors": builder.descriptor_names,
        "resources": resources,
    }


def all_resources(resources_doc: dict) -> list[str]:
    """Every resource collection of the OpenAPI (each has a POST at /ed-fi/<collection>)."""
    return sorted(
        path.split("/")[2]
        for path, ops in resources_doc["paths"].items()
        if path.startswith("/ed-fi/") and path.count("/") == 2 and "post" in ops
    )


def served_resources() -> list[str]:
    """served.json: "all" (every resource of the OpenAPI) or an explicit list."""
    served = json.loads((HERE / "served.json").read_text())["resources"]
    return all_resources(load("resources-ds-5.0.yaml")) if served == "all" else served


def main() -> None:
    served = served_resources()
    out = definitions(served)
    resources, descriptor_names = out["resources"], out["descriptors"]
    (HERE / "resources.json").write_text(
        json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(resources)} resource definitions ({len(descriptor_names)} descriptors)")


if __name__ == "__main__":
    main()
