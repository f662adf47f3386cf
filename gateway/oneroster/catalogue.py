"""The OneRoster field catalogue and path table, read from entities.json and routes.json."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Table

from gateway.db import Base
from gateway.oneroster import models  # noqa: F401  (registers the tables on Base.metadata)

_HERE = Path(__file__).parent
_FIELD_NAME = re.compile(r"[A-Za-z]+")

# Kinds whose value is one scalar column (sortable, comparable).
SCALAR_KINDS = frozenset({"string", "enum", "date", "datetime", "boolean", "number", "ref"})


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    column: str | None = None
    target: str | None = None
    link: dict[str, str] | None = None
    required: bool = False
    values: tuple[str, ...] = ()
    secret: bool = False
    refers_to: str | None = None

    @property
    def column_name(self) -> str:
        """The column of a stored field (derived fields, with a `link`, have none)."""
        if self.column is None:
            raise LookupError(f"{self.name} is derived, not stored")
        return self.column

    @property
    def target_type(self) -> str:
        if self.target is None:
            raise LookupError(f"{self.name} is not a reference")
        return self.target


@dataclass(frozen=True)
class Entity:
    name: str
    table: Table
    collection: str
    single: str
    fields: dict[str, Field]
    reach: tuple[str, ...] | None
    deleted_in_delta_only: bool = False


@dataclass(frozen=True)
class View:
    name: str
    entity: Entity
    where: dict[str, str]
    read_scopes: tuple[str, ...]
    write: bool


@dataclass(frozen=True)
class Parent:
    param: str
    view: str
    within_field: str | None = None
    within_param: str | None = None


@dataclass(frozen=True)
class Nested:
    path: str
    view: str
    parents: tuple[Parent, ...]
    where: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Catalogue:
    base_path: str
    entities: dict[str, Entity]
    views: dict[str, View]
    nested: tuple[Nested, ...]
    hrefs: dict[str, str]
    scopes: dict[str, str] = field(default_factory=dict)


def _load(name: str) -> dict[str, Any]:
    return json.loads((_HERE / name).read_text(encoding="utf-8"))


@cache
def catalogue() -> Catalogue:
    spec = _load("entities.json")
    routes = _load("routes.json")
    common = spec["common"]
    reach = {k: tuple(v) for k, v in routes["reach"].items() if not k.startswith("_")}
    entities = {}
    for name, e in spec["entities"].items():
        fields = {}
        for fname, f in {**common, **e["fields"]}.items():
            if not _FIELD_NAME.fullmatch(fname):  # names are inlined into SQL as JSON keys
                raise ValueError(f"entities.json: field name {fname!r} is not letters only")
            fields[fname] = Field(
                name=fname,
                kind=f["kind"],
                column=f.get("column"),
                target=f.get("target"),
                link=f.get("link"),
                required=f.get("required", False),
                values=tuple(f.get("values", ())),
                secret=f.get("secret", False),
                refers_to=f.get("refers_to"),
            )
        entities[name] = Entity(
            name=name,
            table=Base.metadata.tables[e["table"]],
            collection=e["collection"],
            single=e["single"],
            fields=fields,
            reach=reach.get(name),
            deleted_in_delta_only=e.get("deletedInDeltaOnly", False),
        )
    scopes = routes["scopes"]
    views = {
        name: View(
            name=name,
            entity=entities[v["entity"]],
            where=v.get("where", {}),
            read_scopes=tuple(scopes[s] for s in v["read"]),
            write=v.get("write", False),
        )
        for name, v in routes["views"].items()
    }
    nested = tuple(
        Nested(
            path=n["path"],
            view=n["view"],
            parents=tuple(Parent(*p) for p in n["parents"]),
            where=tuple(tuple(w) for w in n["where"]),
        )
        for n in routes["nested"]
    )
    hrefs = {k: v for k, v in spec["hrefs"].items() if not k.startswith("_")}
    return Catalogue(routes["base_path"], entities, views, nested, hrefs, scopes)
