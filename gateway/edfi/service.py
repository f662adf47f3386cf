"""The one Ed-Fi resource service: upsert, get, replace, delete for every served resource.

Views hand it a session and an Authorizer; it validates against the definitions, checks descriptors
and references, writes with one change version from the global sequence, and commits once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from gateway import precompiled
from gateway.auth.row_security import EDFI_POLICIES, within_reach
from gateway.db import utcnow
from gateway.edfi import documents
from gateway.edfi.definitions import OWNER_COLUMN, Registry, Resource, tracked_changes
from gateway.edfi.dependents import cascade_key_change, check_no_dependents
from gateway.edfi.references import KNOWN_DESCRIPTORS, ReferenceChecks, base_conditions
from gateway.edfi.security import Authorizer, PlacementRefused
from gateway.errors import (
    KeyChangeNotSupported,
    NonUniqueIdentity,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)

ITEM_NOT_FOUND = "The specified item could not be found."

# the database refused a value the definitions allow (e.g. a core-model int column, a NUL character)
VALUE_REJECTED = (
    "A value in the request is out of range or contains characters that cannot be stored."
)


@dataclass
class WriteEvent:
    """What the mapping layer's projection needs to follow an Ed-Fi write (same transaction)."""

    resource: str
    action: str  # "upsert" | "update" | "delete"
    id: uuid.UUID
    values: dict[str, Any] | None  # flattened property -> value after the write (None on delete)
    old_key_values: dict[str, Any] | None = None
    # a POST that stored exactly the document already there (only its change version moved)
    unchanged: bool = False
    origin: str | None = None  # who first wrote the row (`origin` column), when the write knows


# Callables (session, WriteEvent) run inside the write's transaction, before its commit.
WRITE_LISTENERS: list[Callable[[Session, WriteEvent], None]] = []


_UPSERTS: dict[int, tuple[Resource, sa.TextualSelect]] = {}


def upsert_statement(res: Resource) -> sa.TextualSelect:
    """upsert_sql of the resource, built once per resource definition."""
    cached = _UPSERTS.get(id(res))
    if cached is None or cached[0] is not res:
        cached = _UPSERTS[id(res)] = (res, upsert_sql(res))
    return cached[1]


def upsert_sql(res: Resource) -> sa.TextualSelect:
    """The natural-key upsert of a resource as a precompiled, cacheable statement.

    SQLAlchemy does not cache the PostgreSQL INSERT … ON CONFLICT construct, so building it per
    request would compile it every time; compiled once to text with typed parameters it is
    reused. One round trip: the change version comes from a CTE, used for the column and the etag.

    It also says whether the write left the document as it was (`unchanged`): the stored row is
    read FOR NO KEY UPDATE (the update's own lock) before the insert, because the change
    version's CTE depends on it. A concurrent write is so either waited for and compared with,
    or kept waiting until this one commits: the comparison is never with a stale row.
    """
    table = res.table
    key_cols = res.key_columns + (["descriptor_name"] if res.descriptor else [])
    data_cols = [c.name for c in res.columns.values()] + (
        ["descriptor_name"] if res.descriptor else []
    )
    compared = [c for c in data_cols if c not in key_cols]
    params = {c: sa.bindparam(c, type_=table.c[c].type) for c in data_cols}
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    stored = (
        sa.select(*(table.c[c] for c in compared), table.c.id)
        .where(*(table.c[c] == params[c] for c in key_cols))
        .with_for_update(key_share=True)
        .cte("stored")
    )
    locked = sa.select(sa.func.count()).select_from(stored).subquery("locked")
    cv = (
        sa.select(sa.func.nextval(sa.literal_column("'change_version_seq'")).label("v"))
        .select_from(locked)
        .cte("cv")
    )
    version = sa.select(cv.c.v).scalar_subquery()
    system = {
        "change_version": version,
        "_etag": sa.cast(version, sa.String),
        "_last_modified_date": now,
        "updated_at": now,
    }
    stmt = (
        pg_insert(table)
        .values(
            **params,
            **system,
            id=sa.bindparam("id", type_=table.c.id.type),
            created_at=now,
            origin=sa.bindparam("origin", type_=sa.String),
            # set when the record is created, never by an update (as origin)
            **{OWNER_COLUMN: sa.bindparam("owner", type_=sa.String)},
        )
        .add_cte(cv)
    )
    update = {c: stmt.excluded[c] for c in (*params, *system) if c not in key_cols}
    # spelled out: SQLAlchemy would give the subquery its own scan of the table rather than
    # correlate it with the row RETURNING names (the row as written)
    quote = postgresql.dialect().identifier_preparer.quote
    written = quote(table.name)
    same = (
        f" AND ({', '.join(f'stored.{quote(c)}' for c in compared)}) IS NOT DISTINCT FROM "
        f"({', '.join(f'{written}.{quote(c)}' for c in compared)})"
        if compared
        else ""
    )
    unchanged = sa.literal_column(
        f"EXISTS (SELECT FROM stored WHERE stored.id = {written}.id{same})", sa.Boolean
    )
    upsert = stmt.on_conflict_do_update(index_elements=key_cols, set_=update).returning(
        table.c.id,
        sa.literal_column("xmax = 0").label("inserted"),
        table.c._etag,
        table.c.origin,
        unchanged.label("unchanged"),
    )
    sql = str(upsert.compile(dialect=postgresql.dialect(paramstyle="named")))
    # text() does not see ":name::JSONB" as a parameter: spell such casts CAST(:name AS JSONB)
    sql = re.sub(r"(:\w+)::(\w+)", r"CAST(\1 AS \2)", sql)
    binds = [sa.bindparam(c, type_=table.c[c].type) for c in data_cols]
    binds += [
        sa.bindparam("id", type_=table.c.id.type),
        sa.bindparam("now", type_=sa.DateTime(timezone=True)),
        sa.bindparam("origin", type_=sa.String),
        # the creating client's ownership token; writers without one leave it NULL
        sa.bindparam("owner", value=None, type_=sa.String),
    ]
    return (
        sa.text(sql)
        .bindparams(*binds)
        .columns(
            table.c.id,
            sa.column("inserted", sa.Boolean),
            table.c._etag,
            table.c.origin,
            sa.column("unchanged", sa.Boolean),
        )
    )


def strip_etag(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


class ResourceService(ReferenceChecks):
    def __init__(
        self, session: Session, registry: Registry, authorizer: Authorizer, origin: str = "edfi"
    ):
        self.session = session
        self.registry = registry
        self.auth = authorizer
        self.origin = origin

    def _commit(self) -> None:
        self.session.commit()

    def _rollback(self) -> None:
        self.session.rollback()

    # --- reading -------------------------------------------------------------------------------
    def load(self, res: Resource, row_id: str, missing: str = ITEM_NOT_FOUND) -> Any:
        """The stored row of `row_id`; `missing` is the 404's detail (the ODS words it by verb)."""
        key = documents.parse_id(row_id)
        if key is None:
            raise NotFound(missing)
        row = (
            self.session.execute(
                sa.select(res.table).where(res.table.c.id == key, *base_conditions(res))
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(missing)
        return row

    def get(self, res: Resource, row_id: str) -> dict[str, Any]:
        try:
            with within_reach(self.session, self.auth.reach(res), EDFI_POLICIES) as secured:
                row = self.load(res, row_id)
        except NotFound:
            if not secured:
                raise
            # Out of the client's reach the database shows no row: one that exists is refused
            # (403), as the application's own check refuses it, and a missing one is not found.
            self.load(res, row_id)
            raise self.auth.relationship_refusal(res) from None
        self.auth.check_visible(self.session, res, row["id"])
        # Links name the referenced records' ids whether or not the client may read them (as
        # the application did before RLS), so they are looked up with the connection's own role.
        return documents.to_document(res, row, self.links(res, [row]))

    def prepare(self, res: Resource, body: Any) -> dict[str, Any]:
        problems = documents.Problems()
        values = documents.validate(res, body, problems)
        # descriptors are checked too before any problem is reported: the ODS/API names them all
        for path, uri in self.check_descriptors(problems).items():
            documents.replace_at(res, values, path, uri)
        return values

    def _row_values(self, res: Resource, values: dict[str, Any]) -> dict[str, Any]:
        row = {c.name: values.get(flat) for flat, c in res.columns.items()}
        if res.descriptor:
            row["descriptor_name"] = res.entity
        return row

    def _next_change_version(self) -> int:
        return int(
            self.session.execute(sa.select(sa.func.nextval("change_version_seq"))).scalar_one()
        )

    def _notify(self, event: WriteEvent) -> None:
        for listener in WRITE_LISTENERS:
            listener(self.session, event)

    # --- writing -------------------------------------------------------------------------------
    def upsert(self, res: Resource, body: Any) -> tuple[bool, uuid.UUID, str]:
        """POST: insert or replace on the natural key. Returns (created, id, etag)."""
        if isinstance(body, dict) and "id" in body:
            raise ValidationFailed(  # the ODS/API's words
                "The request data was constructed incorrectly.",
                errors=[
                    "Resource identifiers cannot be assigned by the client. The 'id' property "
                    "should not be included in the request body."
                ],
                validation_errors={"$.id": ["id must not be sent on POST."]},
            )
        values = self.prepare(res, body)
        table = res.table
        key_cols = res.key_columns + (["descriptor_name"] if res.descriptor else [])
        if res.descriptor:
            KNOWN_DESCRIPTORS.forget_all()
        row = self._row_values(res, values)
        existing = None
        if not self.auth.unconditional(res, "Create", "Update"):
            # POST of an existing record is its Update (as in the ODS); where the claim set lets
            # the client create and update anything alike, which it is does not matter
            existing = self.session.execute(
                sa.select(table.c.id).where(*(table.c[c] == row[c] for c in key_cols))
            ).first()
            if existing is not None:
                self.auth.check_visible(self.session, res, existing[0], "Update")
        action = "Update" if existing is not None else "Create"
        self.check_write(res, values, action, existing[0] if existing is not None else None)
        self.check_references(res, values)
        self._check_education_organization_id(res, row)
        now = utcnow()
        params = {
            **row,
            "id": uuid.uuid4(),
            "now": now,
            "origin": self.origin,
            "owner": self.auth.ownership_token,
        }
        try:
            # keyed by the definition (and its names: an id is reused once its object is gone)
            shape = ("edfi.upsert", id(res), res.name, res.table.name)
            _names, rows = precompiled.fetch_all(
                self.session, shape, lambda: upsert_statement(res), params
            )
            new_id, created, etag, origin, unchanged = rows[0]
            self._notify(
                WriteEvent(res.name, "upsert", new_id, values, unchanged=unchanged, origin=origin)
            )
            self._commit()
        except IntegrityError:
            self._rollback()
            raise NonUniqueIdentity(
                "A natural key conflict occurred when attempting to create or update a record."
            ) from None
        except DataError:
            self._rollback()
            raise ValidationFailed(VALUE_REJECTED) from None
        return bool(created), new_id, etag

    def check_write(
        self, res: Resource, values: dict[str, Any], action: str, stored_id: Any | None
    ) -> None:
        """The authorizer's check; a placement under an organization that does not exist is
        refused for the missing reference (409), as the ODS/API refuses it. Organization ids are
        no secret: existing records of others stay 403 as they were."""
        try:
            self.auth.check_write(self.session, res, values, action, stored_id)
        except PlacementRefused:
            self.check_references(res, values)
            raise

    def _check_education_organization_id(self, res: Resource, row: dict[str, Any]) -> None:
        if not res.key_columns:
            return
        value = row.get(res.key_columns[0])
        taken = self.education_organization_ids_taken(res, {value})
        if value in taken:
            self._rollback()
            raise NonUniqueIdentity(taken[value])

    def _check_if_match(self, row: Any, if_match: str | None) -> None:
        if if_match is not None and strip_etag(if_match) not in (documents.etag_of(row), "*"):
            raise PreconditionFailed("The item has been modified by another user.")

    def replace(self, res: Resource, row_id: str, body: Any, if_match: str | None) -> str:
        """PUT: full replacement of an existing record; returns the new etag."""
        if res.descriptor:
            KNOWN_DESCRIPTORS.forget_all()
        row = self.load(res, row_id, "Resource to update was not found.")
        self.auth.check_visible(self.session, res, row["id"], "Update")
        self._check_if_match(row, if_match)
        sent_id = body.get("id") if isinstance(body, dict) else None
        if sent_id is not None and (
            not isinstance(sent_id, str) or documents.parse_id(sent_id) != row["id"]
        ):
            raise ValidationFailed(
                "The 'id' in the body does not match the resource identifier in the URL.",
                validation_errors={"$.id": ["id must match the URL."]},
            )
        values = self.prepare(res, body)
        old_key = documents.key_values(res, row)
        new_row = self._row_values(res, values)
        new_key = {flat: documents.json_value(values.get(flat)) for flat in res.identity}
        key_changed = old_key != new_key
        if key_changed and not res.allow_key_changes:
            raise KeyChangeNotSupported(  # the ODS/API's words
                f"Identifying values for the {res.entity} data cannot be changed. Delete and "
                "recreate the item instead."
            )
        self.check_write(res, values, "Update", row["id"])
        self.check_references(res, values)
        table = res.table
        cv = self._next_change_version()
        now = utcnow()
        try:
            self.session.execute(
                sa.update(table)
                .where(table.c.id == row["id"])
                .values(
                    **new_row,
                    change_version=cv,
                    _etag=str(cv),
                    _last_modified_date=now,
                    updated_at=now,
                )
            )
            if key_changed:
                self._record_key_change(res, row["id"], old_key, new_key)
                cascade_key_change(self, res, old_key, new_key)
            self._notify(
                WriteEvent(res.name, "update", row["id"], values, old_key if key_changed else None)
            )
            self._commit()
        except IntegrityError:
            self._rollback()
            raise NonUniqueIdentity(
                "A natural key conflict occurred when attempting to update the record."
            ) from None
        except DataError:
            self._rollback()
            raise ValidationFailed(VALUE_REJECTED) from None
        return str(cv)

    def _record_key_change(self, res: Resource, row_id: Any, old: dict, new: dict) -> None:
        self.session.execute(
            sa.insert(tracked_changes).values(
                change_version=self._next_change_version(),
                resource=res.name,
                kind="keyChange",
                id=row_id,
                old_key_values=old,
                new_key_values=new,
                edorg_ids=self.auth.edorg_ids_of(self.session, res, row_id),
                created_at=utcnow(),
            )
        )

    def delete(self, res: Resource, row_id: str, if_match: str | None) -> None:
        if res.descriptor:
            KNOWN_DESCRIPTORS.forget_all()
        row = self.load(res, row_id, "Resource to delete was not found.")
        self.auth.check_visible(self.session, res, row["id"], "Delete")
        self._check_if_match(row, if_match)
        check_no_dependents(self, res, row)
        edorgs = self.auth.edorg_ids_of(self.session, res, row["id"])
        self.session.execute(sa.delete(res.table).where(res.table.c.id == row["id"]))
        self.session.execute(
            sa.insert(tracked_changes).values(
                change_version=self._next_change_version(),
                resource=res.name,
                kind="delete",
                id=row["id"],
                old_key_values=documents.key_values(res, row),
                edorg_ids=edorgs,
                namespace=row[res.columns["namespace"].name]
                if "namespace" in res.columns
                else None,
                created_at=utcnow(),
            )
        )
        self._notify(
            WriteEvent(res.name, "delete", row["id"], None, documents.key_values(res, row))
        )
        self._commit()


def column_value(column: sa.Column, json_value: Any) -> Any:
    """Key values travel as JSON (dates as text); bind them with the column's type."""
    return sa.literal(json_value).cast(column.type) if isinstance(json_value, str) else json_value
