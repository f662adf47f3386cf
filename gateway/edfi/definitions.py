"""Resource definitions (schemas/edfi/resources.json) and their storage mapping.

The definitions are derived from the Ed-Fi OpenAPI by schemas/edfi/build_definitions.py; the storage
mapping (resource -> table, flattened property -> column) follows one naming rule plus the
overrides in schemas/edfi/storage.json. The generic engine, the migration generator and the
loaders all read this.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

DESCRIPTOR_MAX = 306
SYSTEM_COLUMNS = (
    "id",
    "_etag",
    "_last_modified_date",
    "change_version",
    "created_at",
    "updated_at",
    "origin",
)


def edfi_schemas_dir() -> Path:
    from gateway.paths import SCHEMAS_DIR

    return Path(SCHEMAS_DIR) / "edfi"


def ident(name: str) -> str:
    """PostgreSQL names stop at 63 bytes: shorten long ones with a stable hash suffix."""
    if len(name) <= 63:
        return name
    return f"{name[:54]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def snake(name: str) -> str:
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


@dataclass(frozen=True)
class Column:
    flat: str  # the flattened property name (query parameter)
    name: str  # the table column
    spec: dict  # type, format, maxLength … (from the OpenAPI)
    kind: str  # scalar | descriptor | json

    def sql_type(self) -> sa.types.TypeEngine:
        if self.kind == "json":
            return JSONB()
        if self.kind == "descriptor":
            return sa.String(DESCRIPTOR_MAX)
        t, fmt = self.spec.get("type"), self.spec.get("format")
        if t == "string":
            if fmt == "date":
                return sa.Date()
            if fmt == "date-time":
                return sa.DateTime(timezone=True)
            return sa.String(self.spec["maxLength"]) if "maxLength" in self.spec else sa.Text()
        if t == "integer":
            return sa.BigInteger() if fmt == "int64" else sa.Integer()
        if t == "number":
            return sa.Float()
        if t == "boolean":
            return sa.Boolean()
        return sa.Text()


@dataclass
class Reference:
    name: str
    entity: str
    targets: tuple[
        str, ...
    ]  # served resources the reference may resolve to (several for abstract ones)
    fields: tuple[tuple[str, str], ...]  # (field in the reference object, flattened name)
    required: bool
    identity: bool
    # a reference inside collection items or common types: the JSONB column holding it and the
    # (property, "[]" collection | "{}" object) steps from the document root down to its object
    column: str | None = None
    steps: tuple[tuple[str, str], ...] = ()
    specs: tuple[dict, ...] = ()  # the OpenAPI spec of each field, to type its JSON values

    @property
    def path(self) -> str:
        """The reference's JSON path pattern, e.g. $.classPeriods[*].classPeriodReference."""
        inner = "".join(f".{n}[*]" if k == "[]" else f".{n}" for n, k in self.steps)
        return f"${inner}.{self.name}"


@dataclass
class Resource:
    name: str
    entity: str
    descriptor: bool
    allow_key_changes: bool
    required: frozenset[str]
    identity: tuple[str, ...]
    properties: list[dict]
    order: int
    table_name: str
    columns: dict[str, Column] = field(default_factory=dict)  # flat name -> column
    references: list[Reference] = field(default_factory=list)
    item_references: list[Reference] = field(default_factory=list)  # inside JSONB properties
    descriptor_id_property: str | None = None
    table: sa.Table = field(init=False)

    @property
    def key_columns(self) -> list[str]:
        return [self.columns[f].name for f in self.identity]

    def column(self, flat: str) -> Column:
        return self.columns[flat]


@dataclass
class Registry:
    resources: dict[str, Resource]
    by_lower: dict[str, Resource]
    descriptor_names: tuple[str, ...]
    metadata: sa.MetaData
    storage: dict

    def find(self, name: str) -> Resource | None:
        return self.by_lower.get(name.lower())

    def dependents_of(self, resource: Resource) -> list[tuple[Resource, Reference]]:
        """Every (resource, reference) pointing at `resource` (for dependent-item-exists)."""
        return [
            (other, ref)
            for other in self.resources.values()
            for ref in other.references
            if resource.name in ref.targets
        ]

    def item_dependents_of(self, resource: Resource) -> list[tuple[Resource, Reference]]:
        """Every (resource, reference inside its collections) pointing at `resource`."""
        return [
            (other, ref)
            for other in self.resources.values()
            for ref in other.item_references
            if resource.name in ref.targets
        ]


def _targets(prop: dict, storage: dict) -> tuple[str, ...]:
    if prop["target"]:
        return (prop["target"],)
    return tuple(storage["abstractTargets"].get(prop["entity"], ()))


def _item_references(
    res: Resource, props: list[dict], steps: tuple[tuple[str, str], ...], storage: dict
) -> None:
    """References nested in collections and common types, resolved like top-level ones."""
    for prop in props:
        kind = prop["kind"]
        if kind == "collection":
            inner = (*steps, (prop["name"], "[]"))
            _item_references(res, prop["item"]["properties"], inner, storage)
        elif kind == "object":
            inner = (*steps, (prop["name"], "{}"))
            _item_references(res, prop["shape"]["properties"], inner, storage)
        elif kind == "reference" and steps:
            res.item_references.append(
                Reference(
                    name=prop["name"],
                    entity=prop["entity"],
                    targets=_targets(prop, storage),
                    fields=tuple((f["name"], f["name"]) for f in prop["fields"]),
                    required=bool(prop.get("required")),
                    identity=False,
                    column=res.columns[steps[0][0]].name,
                    steps=steps,
                    specs=tuple(prop["fields"]),
                )
            )


def _resource(defn: dict, storage: dict) -> Resource:
    overrides = storage["columns"].get(defn["resource"], {})
    res = Resource(
        name=defn["resource"],
        entity=defn["entity"],
        descriptor=defn["descriptor"],
        allow_key_changes=defn["allowKeyChanges"],
        required=frozenset(defn["required"]),
        identity=tuple(defn["identity"]),
        properties=defn["properties"],
        order=defn["order"],
        table_name=storage["descriptorTable"]
        if defn["descriptor"]
        else ident(snake(defn["resource"])),
        descriptor_id_property=defn.get("descriptorIdProperty"),
    )

    def add(flat: str, spec: dict, kind: str) -> None:
        if flat not in res.columns:
            res.columns[flat] = Column(flat, overrides.get(flat, snake(flat)), spec, kind)

    for prop in defn["properties"]:
        kind = prop["kind"]
        if kind in ("scalar", "descriptor"):
            add(prop["name"], prop, kind)
        elif kind in ("collection", "object"):
            add(prop["name"], {}, "json")
        elif kind == "reference":
            for f in prop["fields"]:
                add(f["flat"], f, "descriptor" if f.get("descriptor") else "scalar")
            res.references.append(
                Reference(
                    name=prop["name"],
                    entity=prop["entity"],
                    targets=_targets(prop, storage),
                    fields=tuple((f["name"], f["flat"]) for f in prop["fields"]),
                    required=prop["required"],
                    identity=prop["identity"],
                )
            )
    _item_references(res, defn["properties"], (), storage)
    return res


def _table(res: Resource, metadata: sa.MetaData) -> sa.Table:
    if res.descriptor:
        if res.table_name in metadata.tables:
            return metadata.tables[res.table_name]
        return sa.Table(
            res.table_name,
            metadata,
            sa.Column("descriptor_id", sa.Integer, primary_key=True),
            sa.Column("descriptor_name", sa.String(100), nullable=False),
            *(sa.Column(c.name, c.sql_type()) for c in res.columns.values()),
            *_system_columns(),
        )
    return sa.Table(
        res.table_name,
        metadata,
        *(
            sa.Column(c.name, c.sql_type(), nullable=c.flat not in res.identity)
            for c in res.columns.values()
        ),
        *_system_columns(),
    )


# the ownership token of the client that created a record (OwnershipBased); set on insert only
OWNER_COLUMN = "created_by_ownership_token"


def _system_columns() -> list[sa.Column]:
    return [
        sa.Column("id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("_etag", sa.String(50)),
        sa.Column("_last_modified_date", sa.DateTime(timezone=True)),
        sa.Column("change_version", sa.BigInteger),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("origin", sa.String(20)),
        sa.Column(OWNER_COLUMN, sa.String(255)),
    ]


def build_registry(directory: Path) -> Registry:
    doc = json.loads((directory / "resources.json").read_text(encoding="utf-8"))
    storage = json.loads((directory / "storage.json").read_text(encoding="utf-8"))
    metadata = sa.MetaData()
    resources = {}
    for defn in doc["resources"].values():
        res = _resource(defn, storage)
        res.table = _table(res, metadata)
        resources[res.name] = res
    _order(resources)
    return Registry(
        resources=resources,
        by_lower={name.lower(): r for name, r in resources.items()},
        descriptor_names=tuple(doc["descriptors"]),
        metadata=metadata,
        storage=storage,
    )


def _order(resources: dict[str, Resource]) -> None:
    """Load order: descriptors first, then each resource after everything it references, abstract
    references (EducationOrganization) included."""
    done: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...]) -> int:
        if name not in done:
            res = resources[name]
            refs = res.references + res.item_references
            deps = [t for ref in refs for t in ref.targets if t != name and t not in path]
            done[name] = (
                1 if res.descriptor else 1 + max([level(d, (*path, name)) for d in deps] or [1])
            )
        return done[name]

    for name, res in resources.items():
        res.order = level(name, ())


@cache
def registry() -> Registry:
    return build_registry(edfi_schemas_dir())


tracked_changes = sa.Table(
    "edfi_tracked_changes",
    sa.MetaData(),
    sa.Column("change_version", sa.BigInteger, primary_key=True),
    sa.Column("resource", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # 'delete' or 'keyChange'
    sa.Column("id", UUID(as_uuid=True), nullable=False),
    sa.Column("old_key_values", JSONB, nullable=False),
    sa.Column("new_key_values", JSONB),
    sa.Column(
        "edorg_ids", JSONB
    ),  # organizations the record was reachable through, to authorize /deletes
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # the record's namespace, to authorize /deletes of namespace-based resources (tok_0002)
    sa.Column("namespace", sa.String(255)),
)
