"""Organization reach: the one rule for what a client may see, in every API.

A client names organizations by Ed-Fi id ("255901") or OneRoster org sourcedId. An organization
covers its descendants (a district covers its schools), and an organization is known by both names
(the OneRoster org whose `identifier` is the Ed-Fi id). A client reaches every organization only
when the operator made it so (`--all-organizations`); one with no organization reaches none.

Reach comes from the operator, never from data the client writes. The names are the operator's
(`gateway clients create --edorg`); the descendants are found through org parents, org identifiers
and schools' LEAs, so those are guarded on every write path, and every relationship a limited
client can create stays inside its reach:
- CSV import (gateway.oneroster.csv.reach): its orgs are placed only under a parent in its reach
  (or keep the stored one); a new or re-identified org may not take an identifier that names an
  organization outside the reach (an Ed-Fi education organization, another org, or a name the
  operator gave any client); and for every importer, an org may not share its id with an education
  organization of another kind (gateway.auth.org_ids).
- Ed-Fi (gateway.edfi.security, `writeWithin`): a school is written only under an LEA in reach (or
  keeps its LEA); a school or LEA is written only when its own id is in reach, and one id never
  names two kinds of organization (gateway.edfi.references).
- OneRoster REST writes no orgs; the projection into Ed-Fi skips an org whose id another kind holds,
  and `gateway mapping verify` reports such collisions an older database still holds. Meanwhile
  such an org's identifier counts for no Ed-Fi reach here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask import g
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from gateway.auth import org_ids
from gateway.auth.context import ClientContext


@dataclass(frozen=True)
class OrgScope:
    unrestricted: bool
    edfi_ids: frozenset[int]
    sourced_ids: frozenset[str]
    # the Ed-Fi organizations above the client's (a school's LEA, an LEA's parents): what the
    # ODS/API's …Inverted strategies let it read
    edfi_ancestor_ids: frozenset[int] = frozenset()

    def covers_edfi(self, edorg_id: int | None) -> bool:
        return self.unrestricted or (edorg_id is not None and edorg_id in self.edfi_ids)

    def covers_sourced_id(self, sourced_id: str | None) -> bool:
        return self.unrestricted or (sourced_id is not None and sourced_id in self.sourced_ids)


EVERY_ORGANIZATION = OrgScope(True, frozenset(), frozenset())
NO_ORGANIZATION = OrgScope(False, frozenset(), frozenset())


@cache
def _org_tree() -> TextClause:
    """The orgs named and their descendants: (sourcedId, identifier, whether the identifier is
    another kind's id). Such an identifier (written before the import refused it) counts for no
    Ed-Fi reach."""
    shared = org_ids.held_by_other_kind_sql("t.identifier", "t.type", "t.sourced_id")
    return text(
        f"""
        WITH RECURSIVE tree AS (
            SELECT sourced_id, identifier, type FROM organizations
             WHERE sourced_id = ANY(:names) OR identifier = ANY(:names)
            UNION
            SELECT o.sourced_id, o.identifier, o.type
              FROM organizations o JOIN tree t ON o.parent_id = t.sourced_id
        )
        SELECT t.sourced_id, t.identifier, t.identifier IS NOT NULL AND {shared} FROM tree t
        """
    )


# Around the named Ed-Fi organizations, in one round trip: the schools of the named LEAs (reached,
# False) and the organizations above the named ones (True): a school's LEA, then each LEA's parent
# LEA, state education agency and education service center, up to the top.
_SCHOOLS_AND_ANCESTORS = text(
    """
    WITH RECURSIVE up(id) AS (
        SELECT local_education_agency_id FROM schools
         WHERE school_id = ANY(:ids) AND local_education_agency_id IS NOT NULL
        UNION
        SELECT unnest(:ids)
        UNION
        SELECT v.id
          FROM local_education_agencies l JOIN up ON l.local_education_agency_id = up.id,
               LATERAL (VALUES (l.parent_local_education_agency_id),
                               (l.state_education_agency_id),
                               (l.education_service_center_id)) AS v(id)
         WHERE v.id IS NOT NULL
    )
    SELECT school_id, false FROM schools WHERE local_education_agency_id = ANY(:ids)
    UNION ALL
    SELECT id, true FROM up WHERE id <> ALL(:ids)
    """
)


# Each named Ed-Fi organization with itself and every organization above it.
_WITH_ANCESTORS = text(
    """
    WITH RECURSIVE parents(id, parent) AS (
        SELECT school_id, local_education_agency_id FROM schools
         WHERE local_education_agency_id IS NOT NULL
        UNION ALL
        SELECT l.local_education_agency_id, v.id
          FROM local_education_agencies l,
               LATERAL (VALUES (l.parent_local_education_agency_id),
                               (l.state_education_agency_id),
                               (l.education_service_center_id)) AS v(id)
         WHERE v.id IS NOT NULL
    ), up(start, id) AS (
        SELECT i, i FROM unnest(CAST(:ids AS bigint[])) AS i
        UNION
        SELECT up.start, p.parent FROM up JOIN parents p ON p.id = up.id
    )
    SELECT start, id FROM up
    """
)


def with_ancestors(session: Session, ids: set[int]) -> dict[int, set[int]]:
    """Each Ed-Fi organization id → itself and the organizations above it (its LEA, the LEA's
    parent, state agency and service center, up to the top), in one round trip."""
    found: dict[int, set[int]] = {i: {i} for i in ids}
    if ids:
        for start, above in session.execute(_WITH_ANCESTORS, {"ids": sorted(ids)}):
            found[int(start)].add(int(above))
    return found


def _as_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def compute_org_scope(session: Session, names: tuple[str, ...]) -> OrgScope:
    if not names:
        return EVERY_ORGANIZATION
    sourced_ids: set[str] = set()
    edfi_ids: set[int] = {i for i in map(_as_int, names) if i is not None}
    for sourced_id, identifier, shared in session.execute(_org_tree(), {"names": list(names)}):
        sourced_ids.add(sourced_id)
        number = None if shared else _as_int(identifier)
        if number is not None:
            edfi_ids.add(number)
    ancestors: set[int] = set()
    if edfi_ids:
        for edorg_id, above in session.execute(_SCHOOLS_AND_ANCESTORS, {"ids": sorted(edfi_ids)}):
            (ancestors if above else edfi_ids).add(edorg_id)
        # The schools' OneRoster orgs (and anything below them) are covered too.
        for sourced_id, _, _ in session.execute(
            _org_tree(), {"names": [str(i) for i in sorted(edfi_ids)]}
        ):
            sourced_ids.add(sourced_id)
    return OrgScope(
        False, frozenset(edfi_ids), frozenset(sourced_ids), frozenset(ancestors - edfi_ids)
    )


def org_scope(session: Session, client: ClientContext) -> OrgScope:
    """The client's reach, computed once per request."""
    cached = g.get("_org_scope")
    if cached is not None and cached[0] == client.key:
        return cached[1]
    if client.all_organizations:
        scope = EVERY_ORGANIZATION
    elif not client.education_organization_ids:
        scope = NO_ORGANIZATION
    else:
        scope = compute_org_scope(session, client.education_organization_ids)
    g._org_scope = (client.key, scope)
    return scope
