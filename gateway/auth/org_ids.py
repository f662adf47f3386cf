"""One id, one education organization: which ids are held, and by what kind of organization.

Ed-Fi names every education organization (a local education agency, a school …) by one
educationOrganizationId, and a OneRoster org whose `identifier` is such an id *is* that
organization (gateway.auth.access). So an id may not be held by two organizations of different
kinds: an org of type `school` may not carry an LEA's id, a `district` not a school's, and an org of
any other type (which has no Ed-Fi counterpart) not an Ed-Fi id at all. The CSV import, the
projection into Ed-Fi and `gateway mapping verify` all ask these questions here.
"""

from __future__ import annotations

from gateway.edfi.definitions import registry

# The Ed-Fi resource a OneRoster org of each type is projected to (gateway.mapping.to_edfi).
ORG_TYPE_RESOURCES = {"district": "localEducationAgencies", "school": "schools"}


def edorg_resources() -> dict[str, tuple[str, str]]:
    """Ed-Fi education organization resource → (table, id column)."""
    reg = registry()
    out = {}
    for name in reg.storage["abstractTargets"].get("EducationOrganization", ()):
        res = reg.resources[name]
        out[name] = (res.table.name, res.key_columns[0])
    return out


def edorg_ids_sql() -> str:
    """SELECT (id bigint, resource text) of every stored Ed-Fi education organization."""
    return " UNION ALL ".join(
        f"SELECT {column}::bigint AS id, '{name}'::text AS resource FROM {table}"
        for name, (table, column) in sorted(edorg_resources().items())
    )


def resource_of_type_sql(org_type: str) -> str:
    """SQL naming the Ed-Fi resource an org of type `org_type` (SQL text) is, NULL for none."""
    cases = " ".join(
        f"WHEN '{kind}' THEN '{name}'" for kind, name in sorted(ORG_TYPE_RESOURCES.items())
    )
    return f"(CASE {org_type} {cases} END)"


def as_edorg_id_sql(identifier: str) -> str:
    """SQL reading an org identifier (SQL text) as an Ed-Fi id, NULL when it is not a number."""
    return f"(CASE WHEN {identifier} ~ '^[0-9]{{1,18}}$' THEN ({identifier})::bigint END)"


def held_by_other_kind_sql(identifier: str, org_type: str, sourced_id: str) -> str:
    """SQL condition: the org (`identifier`, `org_type`, `sourced_id` as SQL) would share its id
    with an education organization of another kind, Ed-Fi or OneRoster."""
    return (
        f"(EXISTS (SELECT 1 FROM ({edorg_ids_sql()}) e "
        f"WHERE e.id = {as_edorg_id_sql(identifier)} "
        f"AND e.resource IS DISTINCT FROM {resource_of_type_sql(org_type)}) "
        "OR EXISTS (SELECT 1 FROM organizations held "
        f"WHERE held.identifier = {identifier} AND held.sourced_id <> {sourced_id} "
        f"AND held.status = 'active' AND held.type IS DISTINCT FROM {org_type}))"
    )


def collisions_sql() -> str:
    """(what, identifier, holder) for every id two education organizations of different kinds
    hold: an active org and what else holds its identifier (an Ed-Fi resource and id, or another
    org), and Ed-Fi ids two Ed-Fi kinds hold."""
    edorgs = edorg_ids_sql()
    number = as_edorg_id_sql("o.identifier")
    return (
        "SELECT 'org ' || o.sourced_id, o.identifier, e.resource || ' ' || e.id "
        f"FROM organizations o JOIN ({edorgs}) e ON e.id = {number} "
        f"WHERE o.status = 'active' AND e.resource IS DISTINCT FROM "
        f"{resource_of_type_sql('o.type')} "
        "UNION ALL "
        "SELECT 'org ' || o.sourced_id, o.identifier, 'org ' || held.sourced_id "
        "FROM organizations o JOIN organizations held ON held.identifier = o.identifier "
        "AND held.sourced_id <> o.sourced_id AND held.status = 'active' "
        "AND held.type IS DISTINCT FROM o.type WHERE o.status = 'active' "
        "UNION ALL "
        "SELECT 'Ed-Fi ' || a.resource || ' ' || a.id, a.id::text, b.resource || ' ' || b.id "
        f"FROM ({edorgs}) a JOIN ({edorgs}) b ON b.id = a.id AND b.resource > a.resource "
        "ORDER BY 1, 3"
    )
