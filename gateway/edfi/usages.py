"""Where stored records use a descriptor value, for DELETE's dependent-item-exists check.

A descriptor value is used by descriptor columns (top-level properties and descriptor key fields of
references) and by descriptor fields inside the JSONB collections and common types. The
definitions name every such place, so the check is one EXISTS per place, all in one statement:
plain equality on a column, JSONB containment (`@>`) on a collection, both index-served on the
large tables by migration edfi_0002.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from gateway.edfi.definitions import Registry, Resource
from gateway.edfi.nested import containment


@dataclass(frozen=True)
class DescriptorUsage:
    resource: Resource
    column: str  # the table column holding the value (or the JSONB collection holding it)
    path: str  # JSON path shown to the client, e.g. $.languages[*].uses[*].languageUseDescriptor
    # inside a JSONB column: the (property, "[]" collection | "{}" object) steps below the column,
    # then the keys down to the value; empty for a plain descriptor column
    steps: tuple[tuple[str, str], ...] = ()
    leaf: tuple[str, ...] = ()

    def condition(self, uri: str) -> sa.ColumnElement[bool]:
        column = self.resource.table.c[self.column]
        if not self.leaf:
            return column == uri
        return column.op("@>")(sa.bindparam(None, self.containment(uri), type_=JSONB))

    def containment(self, uri: str) -> Any:
        """The smallest JSON document the column must contain for the value to be used there:
        [{"uses": [{"languageUseDescriptor": uri}]}] for $.languages[*].uses[*]…"""
        return containment(self.steps, self.leaf, uri)


def _walk(
    res: Resource,
    props: list[dict],
    steps: tuple[tuple[str, str], ...],
    out: dict[str, list[DescriptorUsage]],
) -> None:
    path = "$" + "".join(f".{n}[*]" if k == "[]" else f".{n}" for n, k in steps)
    column = res.columns[steps[0][0]].name if steps else None
    for prop in props:
        kind, name = prop["kind"], prop["name"]
        if kind == "collection":
            _walk(res, prop["item"]["properties"], (*steps, (name, "[]")), out)
        elif kind == "object":
            _walk(res, prop["shape"]["properties"], (*steps, (name, "{}")), out)
        elif kind == "descriptor" and prop.get("descriptor"):
            usage = (
                DescriptorUsage(res, column, f"{path}.{name}", steps, (name,))
                if column
                else DescriptorUsage(res, res.columns[name].name, f"$.{name}")
            )
            out.setdefault(prop["descriptor"], []).append(usage)
        elif kind == "reference":
            for f in prop["fields"]:
                if not f.get("descriptor"):
                    continue
                shown = f"{path}.{name}.{f['name']}"
                usage = (
                    DescriptorUsage(res, column, shown, steps, (name, f["name"]))
                    if column
                    else DescriptorUsage(res, res.columns[f["flat"]].name, shown)
                )
                out.setdefault(f["descriptor"], []).append(usage)


_USAGES: dict[int, dict[str, list[DescriptorUsage]]] = {}


def descriptor_usages(reg: Registry) -> dict[str, list[DescriptorUsage]]:
    """Descriptor entity name (GradeLevelDescriptor) -> every place a resource stores one."""
    found = _USAGES.get(id(reg))
    if found is None:
        found = {}
        for res in reg.resources.values():
            if not res.descriptor:
                _walk(res, res.properties, (), found)
        _USAGES[id(reg)] = found
    return found


def descriptor_dependents(
    session: Session, reg: Registry, descriptor: Resource, row: Any
) -> list[DescriptorUsage]:
    """The places where stored records use this descriptor value: one round trip."""
    usages = descriptor_usages(reg).get(descriptor.entity, [])
    if not usages:
        return []
    uri = f"{row['namespace']}#{row['code_value']}"
    checks = [sa.exists().where(u.condition(uri)).label(f"u{i}") for i, u in enumerate(usages)]
    flags = session.execute(sa.select(*checks)).one()
    return [u for u, used in zip(usages, flags, strict=True) if used]
