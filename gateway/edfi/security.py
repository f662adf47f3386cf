"""Relationship-based authorization of Ed-Fi records, read from schemas/edfi/authorization.json.

The organizations a client reaches come from gateway.auth.access.org_scope (the one org-reach rule);
this module only says how each resource's records relate to organizations.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.edfi.definitions import Registry, Resource, edfi_schemas_dir
from gateway.errors import Forbidden

NO_ACCESS = (
    "Access to the resource could not be authorized. The client is not related to an "
    "education organization "
    "associated with this item."
)


@cache
def rules() -> dict[str, dict]:
    return json.loads((edfi_schemas_dir() / "authorization.json").read_text(encoding="utf-8"))[
        "resources"
    ]


class Authorizer:
    def __init__(self, registry: Registry, scope: OrgScope, namespace_prefix: str | None = None):
        self.registry = registry
        self.scope = scope
        self.namespace_prefix = namespace_prefix

    @property
    def unrestricted(self) -> bool:
        return self.scope.unrestricted

    def _ids(self) -> list[int]:
        return sorted(self.scope.edfi_ids)

    def _condition(self, res: Resource, source: Callable[[str], Any]) -> sa.ColumnElement[bool]:
        """Visibility of a record whose flattened properties `source(flat)` returns."""
        rule = rules().get(res.name)
        if rule is None:
            return sa.false()
        ids = self._ids()
        alternatives = []
        if "edorg" in rule:
            alternatives.append(source(rule["edorg"]).in_(ids))
        for path in rule.get("via", []):
            previous_res, previous = res, source
            conditions = []
            froms = []
            for hop in path:
                hop_res = self.registry.resources[hop["resource"]]
                alias = hop_res.table.alias()
                froms.append(alias)
                for here, there in hop["on"].items():
                    conditions.append(alias.c[hop_res.columns[there].name] == previous(here))
                previous_res = hop_res
                previous = _columns_of(alias, hop_res)
                if "edorg" in hop:
                    conditions.append(previous(hop["edorg"]).in_(ids))
            del previous_res
            alternatives.append(
                sa.exists(sa.select(sa.literal(1)).select_from(*froms).where(*conditions))
            )
        return sa.or_(*alternatives) if alternatives else sa.false()

    def collection_filter(self, res: Resource) -> sa.ColumnElement[bool] | None:
        """WHERE clause limiting a collection to what the client may see (None: everything)."""
        if self.unrestricted or res.descriptor:
            return None
        return self._condition(res, _columns_of(res.table, res))

    def can_see_values(self, session, res: Resource, values: dict[str, Any]) -> bool:
        if self.unrestricted or res.descriptor:
            return True

        def source(flat: str) -> Any:
            column = res.columns[flat]
            return sa.literal(values.get(flat), type_=res.table.c[column.name].type)

        return bool(session.scalar(sa.select(self._condition(res, source))))

    def check_visible(self, session, res: Resource, row_id: Any) -> None:
        """403 unless the stored record `row_id` is within reach."""
        where = self.collection_filter(res)
        if where is None:
            return
        if not session.scalar(sa.select(sa.exists().where(res.table.c.id == row_id, where))):
            raise Forbidden(NO_ACCESS)

    def check_write(
        self, session, res: Resource, values: dict[str, Any], stored_id: Any | None
    ) -> None:
        """403 unless the client may write a record with these values (descriptors: namespace);
        `stored_id` is the id of the record it replaces, None for a new one."""
        if res.descriptor:
            namespace = values.get("namespace") or ""
            # Even a district-wide client writes descriptors only under its own namespace prefix;
            # without one it may read descriptors but not write them.
            if not self.namespace_prefix or not namespace.startswith(self.namespace_prefix):
                raise Forbidden(
                    f"The '{namespace}' namespace is not one of the namespace prefixes this "
                    "client may write."
                )
            return
        if self.unrestricted:
            return
        self._check_placement(session, res, values, stored_id)
        if stored_id is None and rules().get(res.name, {}).get("createWithoutRelationship"):
            return  # a person may be created before the association that relates it to the client
        if not self.can_see_values(session, res, values):
            raise Forbidden(NO_ACCESS)

    def _check_placement(
        self, session, res: Resource, values: dict[str, Any], stored_id: Any | None
    ) -> None:
        """A limited client places a record only under organizations in its reach ('writeWithin':
        a school under an LEA), or leaves the placement it has: else it would move its own
        organizations, and what it writes there, into another's reach (gateway.auth.access)."""
        for flat in rules().get(res.name, {}).get("writeWithin", ()):
            value = values.get(flat)
            if value is None or self.scope.covers_edfi(value):
                continue
            if stored_id is not None:
                column = res.table.c[res.columns[flat].name]
                stored = session.scalar(sa.select(column).where(res.table.c.id == stored_id))
                if stored == value:
                    continue
            raise Forbidden(NO_ACCESS)

    def edorg_ids_of(self, session, res: Resource, row_id: Any) -> list[int]:
        """The organizations a stored record reaches now: kept with its tombstone for /deletes."""
        return edorg_ids_of(session, self.registry, res, {row_id}).get(row_id, [])


def edorg_ids_of(
    session: Session, registry: Registry, res: Resource, ids: set[Any]
) -> dict[Any, list[int]]:
    """The organizations each stored row reaches through the authorization rules' paths, for many
    rows at once (one statement per path)."""
    rule: dict[str, Any] | None = rules().get(res.name)
    if rule is None or not ids:
        return {}
    table = res.table
    found: dict[Any, set[int]] = defaultdict(set)
    id_list = sa.bindparam("ids", list(ids), type_=ARRAY(UUID(as_uuid=True)))
    if "edorg" in rule:
        column = table.c[res.columns[rule["edorg"]].name]
        for row_id, value in session.execute(
            sa.select(table.c.id, column).where(table.c.id == sa.func.any(id_list))
        ):
            if value is not None:
                found[row_id].add(int(value))
    for path in rule.get("via", []):
        froms: list[sa.FromClause] = [table]
        conditions: list[sa.ColumnElement[bool]] = [table.c.id == sa.func.any(id_list)]
        previous = _columns_of(table, res)
        last = None
        for hop in path:
            hop_res = registry.resources[hop["resource"]]
            alias = hop_res.table.alias()
            froms.append(alias)
            conditions += [
                alias.c[hop_res.columns[t].name] == previous(h) for h, t in hop["on"].items()
            ]
            previous = _columns_of(alias, hop_res)
            if "edorg" in hop:
                last = previous(hop["edorg"])
        if last is not None:
            for row_id, value in session.execute(
                sa.select(table.c.id, last).select_from(*froms).where(*conditions)
            ):
                if value is not None:
                    found[row_id].add(int(value))
    return {row_id: sorted(values) for row_id, values in found.items()}


def table_rules(registry: Registry) -> dict[str, dict[str, Any]]:
    """The rules in table and column names: what migration rls_0002 froze into its policies.
    Each resource table → its own `edorg` column and/or `via` chains of hops, each hop a
    [table, {column of the previous hop: column of this table}, edorg column or None]."""
    out: dict[str, dict[str, Any]] = {}
    for name, rule in sorted(rules().items()):
        res = registry.resources[name]
        table_rule: dict[str, Any] = {}
        if "edorg" in rule:
            table_rule["edorg"] = res.columns[rule["edorg"]].name
        chains = []
        for path in rule.get("via", []):
            previous, chain = res, []
            for hop in path:
                hop_res = registry.resources[hop["resource"]]
                on = {
                    previous.columns[here].name: hop_res.columns[there].name
                    for here, there in hop["on"].items()
                }
                edorg = hop_res.columns[hop["edorg"]].name if "edorg" in hop else None
                chain.append([hop_res.table.name, on, edorg])
                previous = hop_res
            chains.append(chain)
        if chains:
            table_rule["via"] = chains
        out[res.table.name] = table_rule
    return out


def _columns_of(table: sa.FromClause, res: Resource) -> Callable[[str], Any]:
    return lambda flat: table.c[res.columns[flat].name]
