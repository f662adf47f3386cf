"""Authorization of Ed-Fi requests: the client's claim set says which strategies authorize each
action on each resource (gateway.edfi.claim_sets, from the ODS security metadata); the relationship
strategies follow how each resource's records relate to organizations, read from
schemas/edfi/authorization.json; NamespaceBased compares the record's namespace with the client's
namespace prefixes.

The organizations a client reaches come from gateway.auth.access.org_scope (the one org-reach rule).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session

from gateway.auth.access import EVERY_ORGANIZATION, OrgScope, with_ancestors
from gateway.edfi import claim_sets, documents
from gateway.edfi.claim_sets import LEGACY_CLAIM_SET
from gateway.edfi.definitions import (
    OWNER_COLUMN,
    Registry,
    Resource,
    edfi_schemas_dir,
    registry,
    tracked_changes,
)
from gateway.errors import Forbidden

# The ODS/API 7.3's words for a refused record (its AuthorizationTests collection).
NOT_AUTHORIZED = "Access to the requested data could not be authorized."
NAMESPACE_MISMATCH = "security:authorization:namespace:access-denied:namespace-mismatch"

NO_FURTHER = "NoFurtherAuthorizationRequired"
NAMESPACE = "NamespaceBased"
OWNERSHIP = "OwnershipBased"
OWNERSHIP_MISMATCH = "security:authorization:ownership:access-denied:ownership-mismatch"
INVERTED = "Inverted"  # RelationshipsWithEdOrgsOnlyInverted, …WithEdOrgsAndPeopleInverted
RESPONSIBILITY = "ThroughResponsibility"  # RelationshipsWithStudentsOnlyThroughResponsibility
RELATIONSHIPS = (
    "Relationships"  # RelationshipsWithEdOrgsOnly, …WithEdOrgsAndPeople, …StudentsOnly …
)

# The relationship strategies all reach an organization through the paths of authorization.json
# (which row-level security enforces too); they differ in which paths the ODS considers, which
# for the resources served here changes nothing but the inverted ones, which reach up too.


def inverted(strategies: Collection[str]) -> bool:
    """Whether a …Inverted relationship strategy is among them (records of the organizations
    above the client's relate to it too)."""
    return any(s.startswith(RELATIONSHIPS) and s.endswith(INVERTED) for s in strategies)


def _authorization() -> dict[str, Any]:
    return json.loads((edfi_schemas_dir() / "authorization.json").read_text(encoding="utf-8"))


def derive_rule(
    res: Resource, elements: dict[str, Any], listed: dict[str, dict]
) -> dict[str, Any] | None:
    """How a record of `res` reaches education organizations, from the securable elements its
    identity carries: its own education organization id, else the people it is about, each
    reaching organizations as that person's record does (a student through a school
    association). A record carrying both must relate through each (`also`), as the ODS/API's
    RelationshipsWithEdOrgsAndPeople authorizes every securable element: a school's client reads
    the grades of its own students at its own school, not another school's grades of a student
    it shares. Except where the record is what relates the person (a school association relates
    its student): there the organization alone decides. None: the record carries neither (the
    claim set decides alone: namespace or no further authorization)."""
    names = elements["educationOrganizationIds"]
    edorgs = [f for f in res.identity if f in names]
    # else one a role names (a program evaluation's programEducationOrganizationId)
    edorgs = edorgs or [f for f in res.identity if any(f.endswith(_capitalized(n)) for n in names)]
    people = {
        flat: listed[person].get("via", [])
        for flat, person in elements["people"].items()
        if flat in res.identity and res.name != person and listed[person].get("via")
    }
    establishing = relating_resources(elements, listed)
    rule: dict[str, Any] | None
    if edorgs:
        rule = {"edorg": edorgs[0]}
        if res.name not in establishing and people:
            rule["also"] = [{"via": chains} for chains in people.values()]
    elif people:
        rule = {"via": [chain for chains in people.values() for chain in chains]}
    else:
        # no key element: an education organization the record names elsewhere (a gradebook
        # entry's section's school)
        others = [c for c in res.columns if c in names]
        rule = {"edorg": others[0]} if others else None
    if rule is None:
        return None
    extra = elements.get("alsoSecurable", {}).get(res.name, [])
    if extra:
        rule.setdefault("also", []).extend({"edorg": flat} for flat in extra)
    if "studentUniqueId" in res.identity and res.name not in establishing:
        rule["responsibility"] = elements["throughResponsibility"]
    return rule


def relating_resources(elements: dict[str, Any], listed: dict[str, dict]) -> set[str]:
    """The resources whose records relate a person to an organization (the hops of the people's
    paths, and the responsibility associations): authorized by their organization alone."""
    found = {hop["resource"] for chain in elements["throughResponsibility"] for hop in chain}
    for person in elements["people"].values():
        found |= {hop["resource"] for chain in listed[person].get("via", []) for hop in chain}
    return found


@cache
def rules() -> dict[str, dict]:
    """Each resource's rule: the one authorization.json lists, else the derived one."""
    doc = _authorization()
    listed = doc["resources"]
    out: dict[str, dict] = {}
    for res in registry().resources.values():
        if res.descriptor:
            continue
        rule = listed.get(res.name) or derive_rule(res, doc["securableElements"], listed)
        if rule is not None:
            out[res.name] = rule
    return out


class PlacementRefused(Forbidden):
    """A limited client placing a record under (or moving one to) an organization outside its
    reach: the writer may still answer 409 when that organization does not exist at all."""


@dataclass(frozen=True)
class Plan:
    """What an action on a resource needs of the client, from its claim set's strategies."""

    relationships: bool  # the record must relate to one of the client's organizations
    namespace: bool  # the record's namespace must start with one of the client's prefixes
    # a …Inverted strategy: a record of an organization above the client's relates too
    inverted: bool = False
    # a …ThroughResponsibility strategy: a student the client is responsible for relates too
    responsibility: bool = False
    # OwnershipBased: the record's creator's ownership token must be one of the client's
    ownership: bool = False

    @property
    def conditional(self) -> bool:
        return self.relationships or self.namespace or self.ownership


class Authorizer:
    def __init__(
        self,
        registry: Registry,
        scope: OrgScope,
        namespace_prefixes: tuple[str, ...] = (),
        claim_set: str | None = None,
        claimed: tuple[str, ...] = (),
        ownership_token: str | None = None,
        ownership_tokens: tuple[str, ...] = (),
    ):
        self.registry = registry
        # the organizations the client lists (its reach adds their descendants): refusals name them
        self.claimed = claimed
        self.scope = scope
        self.namespace_prefixes = tuple(p for p in namespace_prefixes if p)
        # the gateway's own writers (the OneRoster → Ed-Fi projection) act as clients always did
        self.claim_set = claim_set or LEGACY_CLAIM_SET
        # stamped on the records the client creates; those it may act on under OwnershipBased
        self.ownership_token = ownership_token
        self.ownership_tokens = tuple(ownership_tokens)

    @property
    def unrestricted(self) -> bool:
        return self.scope.unrestricted

    def _ids(self) -> list[int]:
        return sorted(self.scope.edfi_ids)

    # --- the claim set's strategies ------------------------------------------------------------
    def granted(self, res: Resource, action: str) -> tuple[str, ...] | None:
        found = claim_sets.strategies(self.claim_set, res, action)
        if found is None and action == "ReadChanges":
            # The ODS metadata shipped here grants ReadChanges on few claims; where a claim set
            # may read a resource it may read its deletes and key changes (as before ODS 7).
            found = claim_sets.strategies(self.claim_set, res, "Read")
        return found

    def plan(self, res: Resource, action: str) -> Plan:
        """403 unless the claim set grants the action; else what the action then requires."""
        found = self.granted(res, action)
        if found is None:
            raise Forbidden(
                "Access to the resource could not be authorized. The API client's assigned claim "
                f"set (currently '{self.claim_set}') does not grant the '{action}' action on the "
                f"'{claim_sets.claim_name(res).rsplit('/', 1)[-1]}' resource claim."
            )
        unsupported = [
            s
            for s in found
            if s not in (NO_FURTHER, NAMESPACE, OWNERSHIP) and not s.startswith(RELATIONSHIPS)
        ]
        if unsupported:
            raise Forbidden(
                "Access to the resource could not be authorized: this gateway does not implement "
                f"the {', '.join(unsupported)} authorization strategy of claim set "
                f"'{self.claim_set}'."
            )
        # a record that names no education organization nor person (a finance dimension, a
        # descriptor mapping) relates to no organization: relationships ask nothing of it
        by_relationships = any(s.startswith(RELATIONSHIPS) for s in found)
        relationships = by_relationships and res.name in rules()
        # a record carrying a namespace and nothing relationships look at (a descriptor mapping):
        # its namespace is its securable element, as the ODS/API's suite refuses a mapping in a
        # namespace outside the client's prefixes (its mappedNamespace is not one)
        namespaced = by_relationships and not relationships and "namespace" in res.columns
        return Plan(
            relationships=relationships and not self.unrestricted,
            namespace=NAMESPACE in found or namespaced,
            inverted=inverted(found),
            responsibility=any(RESPONSIBILITY in s for s in found),
            ownership=OWNERSHIP in found,
        )

    def unconditional(self, res: Resource, *actions: str) -> bool:
        """Whether every one of the actions is granted and needs nothing of the record."""
        if not self.unrestricted and rules().get(res.name, {}).get("writeWithin"):
            return False  # the placement rule looks at the record
        for action in actions:
            if self.granted(res, action) is None or self.plan(res, action).conditional:
                return False
        return True

    def reach(self, res: Resource, action: str = "Read") -> OrgScope:
        """The scope row-level security applies to this read: the client's when the action is
        authorized by relationships, else none (the database then withholds nothing)."""
        found = self.granted(res, action) or ()
        if not any(s.startswith(RELATIONSHIPS) for s in found):
            return EVERY_ORGANIZATION
        if inverted(found):
            return self.scope  # its organizations above the client's too
        return replace(self.scope, edfi_ancestor_ids=frozenset())

    # --- conditions ----------------------------------------------------------------------------
    def _condition(
        self,
        res: Resource,
        source: Callable[[str], Any],
        inverted: bool = False,
        responsibility: bool = False,
    ) -> sa.ColumnElement[bool]:
        """Visibility of a record whose flattened properties `source(flat)` returns: it reaches
        one of the client's organizations by its rule's own paths and by each of its `also`
        elements. `inverted`: a record of an organization above the client's is visible too (its
        own organization only, as the ODS/API's inverted strategies go up the hierarchy from the
        client's); `responsibility`: a student the client is responsible for relates the record
        too (the …ThroughResponsibility strategies)."""
        rule = rules().get(res.name)
        if rule is None:
            return sa.false()
        condition = sa.and_(
            self._paths(res, rule, source, inverted),
            *(self._paths(res, extra, source, inverted) for extra in rule.get("also", [])),
        )
        if responsibility and rule.get("responsibility"):
            through = {"via": rule["responsibility"]}
            condition = sa.or_(condition, self._paths(res, through, source))
        return condition

    def _paths(
        self, res: Resource, rule: dict[str, Any], source: Callable[[str], Any], inverted=False
    ) -> sa.ColumnElement[bool]:
        """A record reaches one of the client's organizations by its `edorg` property or along
        one of the `via` chains of hops."""
        ids = self._ids()
        alternatives = []
        if "edorg" in rule:
            alternatives.append(source(rule["edorg"]).in_(ids))
            if inverted and self.scope.edfi_ancestor_ids:
                above = sorted(self.scope.edfi_ancestor_ids)
                alternatives.append(source(rule["edorg"]).in_(above))
        for path in rule.get("via", []):
            previous = source
            conditions = []
            froms = []
            for hop in path:
                hop_res = self.registry.resources[hop["resource"]]
                alias = hop_res.table.alias()
                froms.append(alias)
                for here, there in hop["on"].items():
                    conditions.append(alias.c[hop_res.columns[there].name] == previous(here))
                previous = _columns_of(alias, hop_res)
                if "edorg" in hop:
                    conditions.append(previous(hop["edorg"]).in_(ids))
            alternatives.append(
                sa.exists(sa.select(sa.literal(1)).select_from(*froms).where(*conditions))
            )
        return sa.or_(*alternatives) if alternatives else sa.false()

    def _namespace_condition(
        self, res: Resource, source: Callable[[str], Any]
    ) -> sa.ColumnElement[bool]:
        if "namespace" not in res.columns or not self.namespace_prefixes:
            return sa.false()
        column = source("namespace")
        return sa.or_(*(column.startswith(p, autoescape=True) for p in self.namespace_prefixes))

    def _where(
        self, res: Resource, action: str, source: Callable[[str], Any]
    ) -> sa.ColumnElement[bool] | None:
        plan = self.plan(res, action)
        conditions = []
        if plan.relationships:
            conditions.append(self._condition(res, source, plan.inverted, plan.responsibility))
        if plan.namespace:
            conditions.append(self._namespace_condition(res, source))
        if plan.ownership:
            tokens = list(self.ownership_tokens)
            conditions.append(source(OWNER_COLUMN).in_(tokens) if tokens else sa.false())
        return sa.and_(*conditions) if conditions else None

    def collection_filter(
        self, res: Resource, action: str = "Read"
    ) -> sa.ColumnElement[bool] | None:
        """WHERE clause limiting a collection to what the client may see (None: everything)."""
        return self._where(res, action, _columns_of(res.table, res))

    def check_visible(self, session, res: Resource, row_id: Any, action: str = "Read") -> None:
        """403 unless the claim set lets the client take `action` on the stored record."""
        where = self.collection_filter(res, action)
        if where is None:
            return
        if not session.scalar(sa.select(sa.exists().where(res.table.c.id == row_id, where))):
            raise self._refusal(res, action)

    def check_write(
        self,
        session,
        res: Resource,
        values: dict[str, Any],
        action: str,
        stored_id: Any | None = None,
    ) -> None:
        """403 unless the client may Create or Update a record with these values; `stored_id` is
        the id of the record it replaces, None for a new one."""
        plan = self.plan(res, action)
        if plan.namespace:
            namespace = values.get("namespace") or ""
            if not any(namespace.startswith(p) for p in self.namespace_prefixes):
                raise self._namespace_refusal("proposed")
        if not self.unrestricted:
            # whatever the claim set allows, reach comes from the operator (gateway.auth.access)
            self._check_placement(session, res, values, stored_id)
        if plan.relationships and not self._values_related(session, res, values, plan):
            raise self.relationship_refusal(res)

    def _values_related(self, session, res: Resource, values: dict[str, Any], plan: Plan) -> bool:
        def source(flat: str) -> Any:
            column = res.columns[flat]
            return sa.literal(values.get(flat), type_=res.table.c[column.name].type)

        condition = self._condition(res, source, responsibility=plan.responsibility)
        return bool(session.scalar(sa.select(condition)))

    def _refusal(self, res: Resource, action: str) -> Forbidden:
        plan = self.plan(res, action)
        if plan.ownership and not plan.relationships and not plan.namespace:
            # the ODS/API's words for a record another client's token owns
            return Forbidden(
                f"{NOT_AUTHORIZED} The item is not owned by the caller.", code=OWNERSHIP_MISMATCH
            )
        if plan.namespace and not plan.relationships:
            return self._namespace_refusal("existing")
        return self.relationship_refusal(res)

    def relationship_refusal(self, res: Resource, subject: str | None = None) -> Forbidden:
        """A record not related to the client's organizations, as the ODS/API words it: naming
        the value that relates a record of the resource to an organization (`subject`, else the
        resource's own), with a hint at the associations that would relate it."""
        rule = rules().get(res.name, {})
        # the associations that would relate it: its own paths', and its other elements'
        paths = [*rule.get("via", [])]
        for extra in rule.get("also", []):
            paths += [p for p in extra.get("via", []) if p not in paths]
        if subject is None and (rule.get("edorg") or rule.get("via")):
            subject = _subject(rule)
        detail = NOT_AUTHORIZED
        names = [
            " and ".join(
                f"'{self.registry.resources[hop['resource']].entity}'" for hop in path[::-1]
            )
            for path in paths
        ]
        if len(names) == 1 and len(paths[0]) == 1:
            detail += f" Hint: You may need to create a corresponding {names[0]} item."
        elif names:
            detail += f" Hint: You may need to create corresponding {' or '.join(names)} items."
        if subject is None:
            return Forbidden(detail)
        ids = list(self.claimed) or [str(i) for i in self._ids()]
        shown = (", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")) or "none"
        claims = "claim" if len(ids) == 1 else "claims"
        # a record relating through several elements: the ODS/API names them all
        subjects = {subject, *(_subject(extra) for extra in rule.get("also", []))}
        if len(subjects) > 1:
            named = ", ".join(f"'{_capitalized(s)}'" for s in sorted(subjects, key=_capitalized))
            what = f"one or more of the following properties of the resource item: {named}."
        else:
            what = f"the resource item's '{_capitalized(subject)}' value."
        return Forbidden(
            detail,
            errors=[
                "No relationships have been established between the caller's education "
                f"organization id {claims} ({shown}) and {what}"
            ],
        )

    def _namespace_refusal(self, which: str) -> Forbidden:
        """`which`: the "proposed" namespace of a write, or the "existing" one of a record."""
        prefixes = ", ".join(f"'{p}'" for p in self.namespace_prefixes)
        return Forbidden(
            f"{NOT_AUTHORIZED} The {which} 'Namespace' value of the data does not start with any "
            f"of the caller's associated namespace prefixes ({prefixes}).",
            code=NAMESPACE_MISMATCH,
        )

    def _check_placement(
        self, session, res: Resource, values: dict[str, Any], stored_id: Any | None
    ) -> None:
        """A limited client places a record only under organizations in its reach ('writeWithin':
        a school under an LEA), or leaves the placement it has: else it would move its own
        organizations, and what it writes there, into another's reach (gateway.auth.access). Nor
        may it move a stored record outside its reach (a claim set such as the ODS sandbox lets
        it update any school): that would pull another's organization into its own reach."""
        for flat in rules().get(res.name, {}).get("writeWithin", ()):
            value = values.get(flat)
            if stored_id is not None:
                column = res.table.c[res.columns[flat].name]
                stored = session.scalar(sa.select(column).where(res.table.c.id == stored_id))
                if stored == value:
                    continue
                if not session.scalar(
                    sa.select(
                        sa.exists().where(
                            res.table.c.id == stored_id,
                            self._condition(res, _columns_of(res.table, res)),
                        )
                    )
                ):
                    raise self.relationship_refusal(res)
            if value is None or self.scope.covers_edfi(value):
                continue
            refusal = self.relationship_refusal(res, flat)
            raise PlacementRefused(refusal.message, errors=refusal.errors)

    def edorg_ids_of(self, session, res: Resource, row_id: Any) -> list[int]:
        """The organizations a stored record reaches now, and those its deleted relationships
        reached: kept with its tombstone for /deletes."""
        deleted = _deleted_relationship_edorg_ids(session, res, row_id)
        return edorg_ids_of(session, self.registry, res, {row_id}, {row_id: deleted}).get(
            row_id, []
        )


def edorg_ids_of(
    session: Session,
    registry: Registry,
    res: Resource,
    ids: set[Any],
    also_reached: dict[Any, set[int]] | None = None,
) -> dict[Any, list[int]]:
    """The organizations each stored row reaches, kept with its tombstone so /deletes can be
    authorized, for many rows at once (one statement per path); `also_reached`: organizations a
    row reached besides its paths (through relationships deleted before it). A row that must
    relate through several elements (`also`) keeps the organizations all of them reach: each
    element's organizations with those above them, intersected — a client claiming one of
    them reaches every element (an LEA whose schools hold the student and the responsibility)."""
    rule: dict[str, Any] | None = rules().get(res.name)
    if rule is None or not ids:
        return {}
    base = _reached(session, registry, res, rule, ids)
    for row_id, extra in (also_reached or {}).items():
        if extra:
            base.setdefault(row_id, set()).update(extra)
    if not rule.get("also"):
        return {row_id: sorted(values) for row_id, values in base.items()}
    elements = [base] + [_reached(session, registry, res, e, ids) for e in rule["also"]]
    everyone = {i for found in elements for values in found.values() for i in values}
    above = with_ancestors(session, everyone)
    out: dict[Any, list[int]] = {}
    for row_id in ids:
        common: set[int] | None = None
        for found in elements:
            reach = {a for i in found.get(row_id, ()) for a in above[i]}
            common = reach if common is None else common & reach
        if common:
            out[row_id] = sorted(common)
    return out


def _reached(
    session: Session, registry: Registry, res: Resource, rule: dict[str, Any], ids: set[Any]
) -> dict[Any, set[int]]:
    """The organizations each row reaches by the rule's own `edorg` and `via` paths."""
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
    return dict(found)


def _deleted_relationship_edorg_ids(session: Session, res: Resource, row_id: Any) -> set[int]:
    """The organizations a record reached through associations deleted before it (the tombstones
    of the first hop of each of its rule's paths naming it), as the ODS/API authorizes deletes
    through relationships "including deletes"."""
    paths = rules().get(res.name, {}).get("via", [])
    if not paths:
        return set()
    row = session.execute(sa.select(res.table).where(res.table.c.id == row_id)).mappings().first()
    if row is None:
        return set()
    t = tracked_changes
    found: set[int] = set()
    for path in paths:
        hop = path[0]
        named = [
            t.c.old_key_values[theirs].astext
            == str(documents.json_value(row[res.columns[ours].name]))
            for ours, theirs in hop["on"].items()
        ]
        for edorgs in session.scalars(
            sa.select(t.c.edorg_ids).where(
                t.c.resource == hop["resource"], t.c.kind == "delete", *named
            )
        ):
            found.update(int(e) for e in edorgs or ())
    return found


@cache
def through_responsibility() -> frozenset[str]:
    """The resources some claim set authorizes with a …ThroughResponsibility strategy."""
    actions = ("Create", "Read", "Update", "Delete", "ReadChanges")
    return frozenset(
        res.name
        for res in registry().resources.values()
        if not res.descriptor
        and any(
            RESPONSIBILITY in strategy
            for claim_set in claim_sets.claim_sets()
            for action in actions
            for strategy in claim_sets.strategies(claim_set, res, action) or ()
        )
    )


def table_rules(
    registry: Registry, names: Collection[str] | None = None
) -> dict[str, dict[str, Any]]:
    """The rules in table and column names, of the resources named (default: all): what
    migrations rls_0002 and rls_0003 froze into their policies. Each resource table → its own
    `edorg` column and/or `via` chains of hops, each hop a
    [table, {column of the previous hop: column of this table}, edorg column or None]."""
    out: dict[str, dict[str, Any]] = {}
    for name, rule in sorted(rules().items()):
        if names is not None and name not in names:
            continue
        res = registry.resources[name]
        table_rule: dict[str, Any] = {}
        if "edorg" in rule:
            table_rule["edorg"] = res.columns[rule["edorg"]].name
        chains = []
        paths = list(rule.get("via", []))
        if name in through_responsibility():
            # the database admits what the …ThroughResponsibility strategies may (rls_0006)
            paths += rule.get("responsibility", [])
        for path in paths:
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


def _subject(rule: dict[str, Any]) -> str:
    """The property relating a record by this rule: its edorg, else the first hop's key."""
    return rule.get("edorg") or next(iter(rule["via"][0][0]["on"]))


def _capitalized(name: str) -> str:
    return name[:1].upper() + name[1:]


def _columns_of(table: sa.FromClause, res: Resource) -> Callable[[str], Any]:
    """A property's column, or a system column by its name (the record's owner)."""
    return lambda flat: table.c[res.columns[flat].name if flat in res.columns else flat]
