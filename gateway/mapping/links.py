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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway import precompiled
from gateway.db import Base
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
    "SELECT r.sourced_id, r.edfi_resource, r.natural_key, r.edfi_id "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) "
    "AS r(sourced_id varchar, edfi_resource varchar, natural_key jsonb, edfi_id uuid, key jsonb) "
    "WHERE NOT EXISTS (SELECT FROM mapping_links o WHERE o.edfi_resource = r.edfi_resource "
    "AND o.edfi_id IS NULL AND o.natural_key = r.key) "
    "ON CONFLICT (sourced_id) DO NOTHING RETURNING sourced_id"
).bindparams(sa.bindparam("rows", type_=sa.String))


# edfi_ids' statements by shape: (the registry whose tables they read, statement, resources)
_ROWS: dict[tuple, tuple[Any, sa.Executable, list[str]]] = {}


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

    def prefetch(self, wanted: dict[str, list[dict[str, Any]]]) -> None:
        """Resolve the keys of many resources in two set-based statements at most (the per-key
        path stays for the rare cases: links to re-attach after a delete, hash candidates
        already taken)."""
        todo: dict[str, dict[str, dict[str, Any]]] = {}
        for resource, keys in wanted.items():
            fresh = {canonical_key(k): k for k in keys}
            fresh = {ck: k for ck, k in fresh.items() if (resource, ck) not in self.cache}
            if fresh:
                todo[resource] = fresh
        if not todo:
            return
        rows = self.edfi_ids({resource: list(keys.values()) for resource, keys in todo.items()})
        for (resource, ck), (_row_id, linked) in rows.items():
            if linked is not None:
                self.cache[(resource, ck)] = linked
        # the hash sourcedId of each key, unless a link left by a delete holds the key
        new: dict[str, tuple[str, str]] = {}
        candidates = []
        for resource, fresh_keys in todo.items():
            for ck, key in fresh_keys.items():
                if (resource, ck) in self.cache:
                    continue
                sid = sourced_id(resource, key)
                new[sid] = (resource, ck)
                row = rows.get((resource, ck))
                candidates.append(
                    {
                        "sourced_id": sid,
                        "edfi_resource": resource,
                        "natural_key": None if row else json.loads(ck),
                        "edfi_id": str(row[0]) if row else None,
                        "key": json.loads(ck),
                    }
                )
        if not candidates:
            return
        _names, inserted = precompiled.fetch_all(
            self.session, "mapping.new_links", lambda: NEW_LINKS, {"rows": json.dumps(candidates)}
        )
        for (sid,) in inserted:
            self.cache[new[sid]] = sid
        # whatever is left (orphans, taken candidates) goes the per-key way on first use

    def edfi_ids(
        self, wanted: dict[str, list[dict[str, Any]]]
    ) -> dict[tuple[str, str], tuple[uuid.UUID, str | None]]:
        """(resource, canonical key) → (Ed-Fi row id, its linked sourcedId or None), for the keys
        whose record exists: one statement for all the resources."""
        shape: list[tuple[str, tuple[str, ...]]] = []
        params: dict[str, Any] = {}
        for resource, keys in wanted.items():
            if resource == "educationOrganizations":
                params[f"k{len(shape)}_0"] = [k["educationOrganizationId"] for k in keys]
                shape.append((resource, ("educationOrganizationId",)))
                continue
            res = self.registry.resources.get(resource)
            if res is None:
                continue
            names = list(keys[0])
            for i, f in enumerate(names):  # one array per key field
                column = table_of(res).c[res.columns[f].name]
                params[f"k{len(shape)}_{i}"] = [_bind(column, k[f]) for k in keys]
            shape.append((resource, tuple(names)))
        if not shape:
            return {}
        frozen = tuple(shape)
        resources = self._rows_statement(frozen)[1]
        _names, rows = precompiled.fetch_all(
            self.session,
            ("mapping.links", id(self.registry), frozen),
            lambda: self._rows_statement(frozen)[0],
            params,
        )
        out: dict[tuple[str, str], tuple[uuid.UUID, str | None]] = {}
        for n, row_id, linked, key in rows:
            out.setdefault((resources[n], canonical_key(key)), (row_id, linked))
        return out

    def _rows_statement(
        self, shape: tuple[tuple[str, tuple[str, ...]], ...]
    ) -> tuple[sa.Executable, list[str]]:
        """edfi_ids' statement for (resource, key fields) pieces, built once per shape: the keys
        of piece n are the arrays `k<n>_<i>`, one per key field (a statement of one text for any
        number of keys, prepared). Each row comes with its part number (the
        link resource of part n is the second value) and its key as JSON (dates as text)."""
        cached = _ROWS.get(shape)
        if cached is not None and cached[0] is self.registry:
            return cached[1], cached[2]
        parts: list[sa.Select] = []
        resources: list[str] = []

        def part(resource: str, table: sa.Table, key: dict[str, Any]) -> sa.Select:
            resources.append(resource)
            pairs = [x for field, column in key.items() for x in (sa.literal(field), column)]
            return _linked(
                sa.select(sa.literal_column(str(len(resources) - 1)).label("part"), table.c.id),
                resource,
                table,
            ).add_columns(sa.func.jsonb_build_object(*pairs, type_=JSONB).label("key"))

        def array(name: str, column: sa.Column) -> sa.BindParameter[Any]:
            return sa.bindparam(name, type_=ARRAY(column.type))

        for n, (resource, names) in enumerate(shape):
            if resource == "educationOrganizations":
                for name, fld in EDUCATION_ORGANIZATIONS.items():
                    table = table_of(self.registry.resources[name])
                    column = table.c[self.registry.resources[name].columns[fld].name]
                    parts.append(
                        part(resource, table, {"educationOrganizationId": column}).where(
                            column == sa.func.any(array(f"k{n}_0", column))
                        )
                    )
                continue
            res = self.registry.resources[resource]
            cols = [table_of(res).c[res.columns[f].name] for f in names]
            if len(cols) == 1:
                where = cols[0] == sa.func.any(array(f"k{n}_0", cols[0]))
            else:  # the keys as rows of the field arrays, side by side
                given = (
                    sa.func.unnest(*(array(f"k{n}_{i}", c) for i, c in enumerate(cols)))
                    .table_valued(*(f"f{i}" for i in range(len(cols))))
                    .render_derived()
                )
                where = sa.tuple_(*cols).in_(sa.select(*given.c))
            parts.append(
                part(resource, table_of(res), dict(zip(names, cols, strict=True))).where(where)
            )
        # in part order: an id both kinds of organization hold (refused on write) resolves to the
        # agency, as the first table looked in
        statement = sa.union_all(*parts).order_by(sa.literal_column("part"))
        _ROWS[shape] = (self.registry, statement, resources)
        return statement, resources

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
