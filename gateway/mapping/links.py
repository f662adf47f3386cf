"""The link table: which OneRoster sourcedId an Ed-Fi record has.

A sourcedId is the deterministic hash of the natural key the first time a record is seen, then kept
in `mapping_links` against the Ed-Fi row's `id`, so it survives updates and key changes (cascaded
ones too: the row keeps its id). A delete keeps the link with its natural key, so the same record
created again gets its sourcedId back. Records born in OneRoster are linked to their own sourcedId.

`natural_key` is read only for links without an Ed-Fi row (edfi_id NULL: a deleted record, or a
derived one such as a school year): a live link is found by its row's id. So it is stored only
there — written with the link when there is no row, and by every path that deletes a linked row
(`detach` here, the projection's deletes in edfi_deletes) — and a district's hundreds of
thousands of live links are written without building one JSON object each.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.db import Base
from gateway.edfi import documents
from gateway.edfi.definitions import Resource, registry
from gateway.mapping.identifiers import canonical_key, sourced_id

mapping_links = sa.Table(
    "mapping_links",
    Base.metadata,
    sa.Column("sourced_id", sa.String(255), primary_key=True),
    sa.Column("edfi_resource", sa.String(100), nullable=False),
    # only while edfi_id is NULL; Python None is SQL NULL, not a JSON null
    sa.Column("natural_key", JSONB(none_as_null=True)),
    sa.Column("edfi_id", UUID(as_uuid=True)),
    sa.Column("origin", sa.String(20), nullable=False, server_default="edfi"),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

# An org is keyed by educationOrganizationId whichever Ed-Fi resource holds it.
EDUCATION_ORGANIZATIONS = {
    "localEducationAgencies": "localEducationAgencyId",
    "schools": "schoolId",
}
MAX_ATTEMPTS = 50

# Links for records seen for the first time, with their hash sourcedIds; a key a link left by a
# delete still holds is skipped (found per key, then re-attached), as is a sourcedId already taken.
NEW_LINKS = sa.text(
    "INSERT INTO mapping_links (sourced_id, edfi_resource, natural_key, edfi_id) "
    "SELECT r.sourced_id, :resource, r.natural_key, r.edfi_id "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) "
    "AS r(sourced_id varchar, natural_key jsonb, edfi_id uuid, key jsonb) "
    "WHERE NOT EXISTS (SELECT FROM mapping_links o WHERE o.edfi_resource = :resource "
    "AND o.edfi_id IS NULL AND o.natural_key = r.key) "
    "ON CONFLICT (sourced_id) DO NOTHING RETURNING sourced_id"
).bindparams(sa.bindparam("resource", type_=sa.String), sa.bindparam("rows", type_=sa.String))


def _bind(column: sa.Column, value: Any) -> Any:
    """Key values travel as JSON (dates as text); give them the column's Python type."""
    if isinstance(value, str) and isinstance(column.type, sa.Date):
        return date.fromisoformat(value)
    return value


def _linked(select: sa.Select, resource: str, table: sa.Table) -> sa.Select:
    """`select` of Ed-Fi rows with the sourcedId linked to each (NULL when none yet)."""
    link = sa.and_(mapping_links.c.edfi_resource == resource, mapping_links.c.edfi_id == table.c.id)
    return select.add_columns(mapping_links.c.sourced_id).select_from(
        table.outerjoin(mapping_links, link)
    )


def table_of(res: Resource) -> sa.Table:
    """The table of a served Ed-Fi resource (the registry builds one for each)."""
    assert res.table is not None
    return res.table


def _plain(key: dict[str, Any]) -> dict[str, Any]:
    """The key as stored in natural_key (JSON values, as canonical_key renders them)."""
    return json.loads(canonical_key(key))


class Links:
    """Callable as the translation functions' `ref(resource, key)`; caches within one projection."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.registry = registry()
        self.cache: dict[tuple[str, str], str] = {}

    def __call__(self, resource: str, key: dict[str, Any]) -> str:
        ck = canonical_key(key)
        found = self.cache.get((resource, ck))
        if found is None:
            found = self._resolve(resource, key, ck)
            self.cache[(resource, ck)] = found
        return found

    def prefetch(self, resource: str, keys: list[dict[str, Any]]) -> None:
        """Resolve many keys in two set-based statements at most (the per-key path stays for the
        rare cases: links to re-attach after a delete, hash candidates already taken)."""
        todo = {canonical_key(k): k for k in keys}
        todo = {ck: k for ck, k in todo.items() if (resource, ck) not in self.cache}
        if not todo:
            return
        rows = self.edfi_ids(resource, list(todo.values()))
        for ck, (_row_id, linked) in rows.items():
            if linked is not None:
                self.cache[(resource, ck)] = linked
        fresh = [ck for ck in todo if (resource, ck) not in self.cache]
        if not fresh:
            return
        # the hash sourcedId of each key, unless a link left by a delete holds the key
        new = {sourced_id(resource, todo[ck]): ck for ck in fresh}
        candidates = [
            {
                "sourced_id": sid,
                "natural_key": None if ck in rows else json.loads(ck),
                "edfi_id": str(rows[ck][0]) if ck in rows else None,
                "key": json.loads(ck),
            }
            for sid, ck in new.items()
        ]
        inserted = self.session.scalars(
            NEW_LINKS, {"resource": resource, "rows": json.dumps(candidates)}
        ).all()
        for sid in inserted:
            self.cache[(resource, new[sid])] = sid
        # whatever is left (orphans, taken candidates) goes the per-key way on first use

    def edfi_ids(
        self, resource: str, keys: list[dict[str, Any]]
    ) -> dict[str, tuple[uuid.UUID, str | None]]:
        """canonical key → (Ed-Fi row id, its linked sourcedId or None), for the keys whose record
        exists: one statement."""
        if resource == "educationOrganizations":
            wanted = [k["educationOrganizationId"] for k in keys]
            parts = []
            for rank, (name, fld) in enumerate(EDUCATION_ORGANIZATIONS.items()):
                table = table_of(self.registry.resources[name])
                column = table.c[self.registry.resources[name].columns[fld].name]
                parts.append(
                    _linked(sa.select(table.c.id), resource, table)
                    .add_columns(sa.literal(rank).label("rank"), column.label("edorg"))
                    .where(column.in_(wanted))
                )
            out: dict[str, tuple[uuid.UUID, str | None]] = {}
            # an id both kinds hold (refused on write) resolves as before: the agency's first
            for row_id, linked, _rank, edorg in self.session.execute(
                sa.union_all(*parts).order_by(sa.literal_column("rank"))
            ):
                out.setdefault(canonical_key({"educationOrganizationId": edorg}), (row_id, linked))
            return out
        res = self.registry.resources.get(resource)
        if res is None or not keys:
            return {}
        names = list(keys[0])
        cols = [table_of(res).c[res.columns[f].name] for f in names]
        values = [tuple(_bind(c, k[f]) for c, f in zip(cols, names, strict=True)) for k in keys]
        rows = self.session.execute(
            _linked(sa.select(table_of(res).c.id), resource, table_of(res))
            .add_columns(*cols)
            .where(sa.tuple_(*cols).in_(values))
        )
        return {
            canonical_key(
                {f: documents.json_value(v) for f, v in zip(names, row[2:], strict=True)}
            ): (row[0], row[1])
            for row in rows
        }

    # --- Ed-Fi rows ------------------------------------------------------------------------------
    def edfi_id(self, resource: str, key: dict[str, Any]) -> uuid.UUID | None:
        if resource == "educationOrganizations":
            for name, field in EDUCATION_ORGANIZATIONS.items():
                found = self._row_id(
                    self.registry.resources[name], {field: key["educationOrganizationId"]}
                )
                if found is not None:
                    return found
            return None
        res = self.registry.resources.get(resource)
        return self._row_id(res, key) if res is not None else None

    def _row_id(self, res: Resource, key: dict[str, Any]) -> uuid.UUID | None:
        table = table_of(res)
        where = [
            table.c[res.columns[f].name] == _bind(table.c[res.columns[f].name], v)
            for f, v in key.items()
        ]
        return self.session.scalar(sa.select(table.c.id).where(*where))

    # --- links -----------------------------------------------------------------------------------
    def linked(self, resource: str, edfi_id: uuid.UUID) -> str | None:
        return self.session.scalar(
            sa.select(mapping_links.c.sourced_id).where(
                mapping_links.c.edfi_resource == resource, mapping_links.c.edfi_id == edfi_id
            )
        )

    def _resolve(self, resource: str, key: dict[str, Any], ck: str) -> str:
        row_id = self.edfi_id(resource, key)
        if row_id is not None:
            found = self.linked(resource, row_id)
            if found is not None:
                return found
        # a link left by a delete, or a derived record's link, is found by its natural key
        orphan = self.session.scalar(
            sa.select(mapping_links.c.sourced_id)
            .where(
                mapping_links.c.edfi_resource == resource,
                mapping_links.c.natural_key == json.loads(ck),
                mapping_links.c.edfi_id.is_(None),
            )
            .limit(1)
        )
        if orphan is not None:
            if row_id is not None:
                self._attach(orphan, row_id)
            return orphan
        return self.create(resource, key, row_id)

    def create(self, resource: str, key: dict[str, Any], row_id: uuid.UUID | None) -> str:
        for attempt in range(MAX_ATTEMPTS):
            candidate = sourced_id(resource, key, attempt)
            done = self.session.execute(
                pg_insert(mapping_links)
                .values(
                    sourced_id=candidate,
                    edfi_resource=resource,
                    natural_key=_plain(key) if row_id is None else None,
                    edfi_id=row_id,
                )
                .on_conflict_do_nothing(index_elements=["sourced_id"])
                .returning(mapping_links.c.sourced_id)
            ).scalar()
            if done is not None:
                return done
        raise RuntimeError(f"no free sourcedId for {resource} {key}")  # 50 key changes onto one key

    def link(
        self, sourced: str, resource: str, key: dict[str, Any], row_id: uuid.UUID, origin: str
    ) -> None:
        """Link an Ed-Fi record born from OneRoster to the sourcedId it came from."""
        stmt = pg_insert(mapping_links).values(
            sourced_id=sourced,
            edfi_resource=resource,
            natural_key=None,
            edfi_id=row_id,
            origin=origin,
        )
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["sourced_id"],
                set_={"edfi_id": stmt.excluded.edfi_id, "natural_key": None},
            )
        )
        self.cache[(resource, canonical_key(key))] = sourced

    def _attach(self, sourced: str, row_id: uuid.UUID) -> None:
        self.session.execute(
            sa.update(mapping_links)
            .where(mapping_links.c.sourced_id == sourced)
            .values(edfi_id=row_id, natural_key=None)
        )

    def detach(self, resource: str, row_id: uuid.UUID, key: dict[str, Any]) -> str | None:
        """The Ed-Fi record was deleted: keep its sourcedId for its natural key; return it."""
        found = self.session.execute(
            sa.update(mapping_links)
            .where(mapping_links.c.edfi_resource == resource, mapping_links.c.edfi_id == row_id)
            .values(edfi_id=None, natural_key=_plain(key))
            .returning(mapping_links.c.sourced_id)
        ).scalar()
        self.cache = {k: v for k, v in self.cache.items() if v != found}
        return found
