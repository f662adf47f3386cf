"""Set-based upsert of many records of one resource (interchange loads, the demo district).

The same rules as the per-request service — definitions-driven validation, descriptor values,
references — but checked with one query per descriptor batch and per reference, and written with
multi-row INSERT … ON CONFLICT statements. Each rejected record is reported with its reason; the
others are written. Given an Authorizer (a client's bulk job), each record must also pass the
check the per-record API makes before a write; without one (the operator's `gateway
load-interchange`, the demo district) the load is district-wide, like the ODS bulk loader.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.edfi import documents, nested
from gateway.edfi.definitions import OWNER_COLUMN, Reference, Registry, Resource
from gateway.edfi.dependents import target_flats
from gateway.edfi.references import ReferenceChecks
from gateway.edfi.security import Authorizer
from gateway.edfi.service import WRITE_LISTENERS, WriteEvent
from gateway.errors import Forbidden

CHUNK = 500


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (index in the input, reason)


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _reference_keys(ref: Reference, values: dict[str, Any]) -> list[tuple]:
    """The key values a record gives a reference: one for a top-level reference (if complete),
    one per item for a reference inside a collection."""
    if not ref.steps:
        key = tuple(values.get(flat) for _, flat in ref.fields)
        return [] if None in key else [key]
    found = []
    for _path, obj in nested.reference_objects(values.get(ref.steps[0][0]), ref):
        item_key = nested.reference_key(ref, obj)
        if item_key is not None:
            found.append(item_key)
    return found


def _reason(problems: documents.Problems) -> str:
    details = "; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in problems.by_path.items())
    return f"Data validation failed. {details}"


class BulkUpsert(ReferenceChecks):
    def __init__(
        self,
        session: Session,
        registry: Registry,
        origin: str = "edfi",
        authorizer: Authorizer | None = None,
    ):
        self.session = session
        self.registry = registry
        self.origin = origin
        self.authorizer = authorizer

    def run(self, res: Resource, bodies: list[Any]) -> BulkResult:
        result = BulkResult()
        valid: list[tuple[int, dict[str, Any], documents.Problems]] = []
        for index, body in enumerate(bodies):
            problems = documents.Problems()
            if isinstance(body, dict) and "id" in body:
                problems.add("$.id", "id must not be sent.")
            values = documents.validate(res, body, problems)
            if problems.by_path:
                result.rejected.append((index, _reason(problems)))
            else:
                valid.append((index, values, problems))
        valid = self._check_descriptors(valid, result)
        valid = self._check_references(res, valid, result)
        valid = self._check_education_organization_ids(res, valid, result)
        valid = self._check_authorization(res, valid, result)
        self._write(res, valid, result)
        return result

    def _check_authorization(self, res: Resource, valid: list, result: BulkResult) -> list:
        """The per-record API's write check, record by record (records of this load that come
        earlier in dependency order are already written in the same transaction)."""
        auth = self.authorizer
        if auth is None or not valid or auth.unconditional(res, "Create", "Update"):
            return valid
        existing = self._existing_keys(res, valid)
        kept = []
        for index, values, problems in valid:
            key = tuple(values.get(flat) for flat in self._key_flats(res))
            # a record that exists is updated (the claim set's Update), else created; as a POST
            # of it, the stored record must be the client's to update, not only what it sends
            action = "Update" if key in existing else "Create"
            try:
                if key in existing:
                    auth.check_visible(self.session, res, existing[key], "Update")
                auth.check_write(self.session, res, values, action, existing.get(key))
            except Forbidden as denied:
                result.rejected.append((index, " ".join([denied.message, *(denied.errors or [])])))
            else:
                kept.append((index, values, problems))
        return kept

    @staticmethod
    def _key_flats(res: Resource) -> list[str]:
        by_column = {c.name: flat for flat, c in res.columns.items()}
        return [by_column[c] for c in res.key_columns]

    def _existing_keys(self, res: Resource, valid: list) -> dict[tuple, Any]:
        """Natural key → id of the stored records the load would replace."""
        flats = self._key_flats(res)
        columns = [res.table.c[c] for c in res.key_columns]
        if res.descriptor or not columns:
            return {}
        keys = sorted({tuple(v.get(f) for f in flats) for _i, v, _p in valid}, key=repr)
        found: dict[tuple, Any] = {}
        for chunk in _chunks(keys):
            rows = self.session.execute(
                sa.select(res.table.c.id, *columns).where(sa.tuple_(*columns).in_(chunk))
            )
            found.update((tuple(r[1:]), r[0]) for r in rows)
        return found

    def _check_descriptors(self, valid: list, result: BulkResult) -> list:
        wanted: set[tuple[str, str, str]] = set()
        for _i, _values, problems in valid:
            for name, uri, _path in problems.descriptors:
                namespace, _, code = uri.partition("#")
                wanted.add((name, namespace, code))
        table = self.registry.resources["gradeLevelDescriptors"].table
        found: set[tuple] = set()
        for chunk in _chunks(sorted(wanted)):
            key = sa.tuple_(table.c.descriptor_name, table.c.namespace, table.c.code_value)
            found.update(
                tuple(r)
                for r in self.session.execute(sa.select(*key.clauses).where(key.in_(chunk)))
            )
        kept = []
        for index, values, problems in valid:
            for name, uri, path in problems.descriptors:
                namespace, sep, code = uri.partition("#")
                if not sep or (name, namespace, code) not in found:
                    problems.add(path, f"{name} value '{uri}' does not exist.")
            if problems.by_path:
                result.rejected.append((index, _reason(problems)))
            else:
                kept.append((index, values, problems))
        return kept

    def _check_references(self, res: Resource, valid: list, result: BulkResult) -> list:
        """Every reference, top-level or inside collection items, must resolve to a stored record
        or, for a reference to this same resource (a parent LEA), to a record of this load that is
        itself accepted: such records need no particular order in the input."""
        uses: list[tuple[Reference, dict[tuple, list[int]], set[tuple]]] = []
        for ref in [*res.references, *res.item_references]:
            if not ref.targets:
                continue
            keys: dict[tuple, list[int]] = {}
            for index, values, _p in valid:
                for key in _reference_keys(ref, values):
                    keys.setdefault(key, []).append(index)
            found: set[tuple] = set()
            for chunk in _chunks(sorted(keys, key=repr)):
                found |= self.existing_keys(ref, chunk)
            uses.append((ref, keys, found))
        staged_refs = [ref for ref, _k, _f in uses if res.name in ref.targets]
        missing: dict[int, list[str]] = {}
        while True:
            # keys this load provides, from the records not (yet) rejected; rejecting one may
            # unresolve another, so repeat until nothing changes
            staged = {
                id(ref): {
                    tuple(values.get(t) for t in target_flats(ref, res))
                    for index, values, _p in valid
                    if index not in missing
                }
                for ref in staged_refs
            }
            now_missing: dict[int, list[str]] = {}
            for ref, keys, found in uses:
                for key, indexes in keys.items():
                    if key in found or key in staged.get(id(ref), ()):
                        continue
                    shown = ", ".join(
                        f"{f}={documents.json_value(v)}"
                        for (f, _), v in zip(ref.fields, key, strict=True)
                    )
                    reason = f"The referenced '{ref.entity}' item does not exist ({shown})."
                    for index in indexes:
                        if reason not in now_missing.get(index, []):
                            now_missing.setdefault(index, []).append(reason)
            if now_missing.keys() == missing.keys():
                break
            missing = now_missing
        for index, reasons in missing.items():
            result.rejected.append((index, " ".join(reasons)))
        return [item for item in valid if item[0] not in missing]

    def _check_education_organization_ids(
        self, res: Resource, valid: list, result: BulkResult
    ) -> list:
        if not res.key_columns:
            return valid
        flat = next(f for f, c in res.columns.items() if c.name == res.key_columns[0])
        taken = self.education_organization_ids_taken(res, {v.get(flat) for _i, v, _p in valid})
        kept = []
        for index, values, problems in valid:
            reason = taken.get(values.get(flat))
            if reason is None:
                kept.append((index, values, problems))
            else:
                result.rejected.append((index, reason))
        return kept

    def _write(self, res: Resource, valid: list, result: BulkResult) -> None:
        if not valid:
            return
        key_cols = res.key_columns + (["descriptor_name"] if res.descriptor else [])
        rows: dict[tuple, tuple[dict[str, Any], dict[str, Any]]] = {}
        for _index, values, _p in valid:
            row = {c.name: values.get(flat) for flat, c in res.columns.items()}
            if res.descriptor:
                row["descriptor_name"] = res.entity
            key = tuple(row[c] for c in key_cols)
            if key in rows:
                result.updated += 1  # a later record with the same natural key replaces it
            rows[key] = (row, values)
        versions = self.session.scalars(
            sa.select(sa.func.nextval("change_version_seq")).select_from(
                sa.func.generate_series(1, len(rows))
            )
        ).all()
        now = utcnow()
        batch = []
        for (row, _values), version in zip(rows.values(), versions, strict=True):
            batch.append(
                {
                    **row,
                    "change_version": version,
                    "_etag": str(version),
                    "_last_modified_date": now,
                    "updated_at": now,
                    "created_at": now,
                    "origin": self.origin,
                    # the client's ownership token on what it creates (never changed by updates)
                    OWNER_COLUMN: self.authorizer.ownership_token if self.authorizer else None,
                    "id": uuid.uuid4(),
                }
            )
        self._copy_upsert(res, key_cols, batch, rows, result)

    def _copy_upsert(
        self, res: Resource, key_cols: list[str], batch: list, rows: dict, result
    ) -> None:
        """COPY the rows into a temporary table, then one INSERT … SELECT … ON CONFLICT: the
        physical floor for loading many rows, with the natural-key upsert semantics."""
        table = res.table
        names = list(batch[0])
        json_columns = {c.name for c in res.columns.values() if c.kind == "json"}
        staging = sa.Table(
            f"edfi_staging_{table.name}"[:63],
            sa.MetaData(),
            *(sa.Column(n, table.c[n].type) for n in names),
            prefixes=["TEMPORARY"],
        )
        column_list = ", ".join(f'"{n}"' for n in names)
        # same column types, no constraints; dropped when the load's transaction commits
        self.session.execute(sa.text(f'DROP TABLE IF EXISTS "{staging.name}"'))
        self.session.execute(
            sa.text(
                f'CREATE TEMPORARY TABLE "{staging.name}" ON COMMIT DROP AS '
                f'SELECT {column_list} FROM "{table.name}" WITH NO DATA'
            )
        )
        driver = self.session.connection().connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            with cursor.copy(f'COPY "{staging.name}" ({column_list}) FROM STDIN') as copy:
                for row in batch:
                    copy.write_row(
                        [
                            Jsonb(row[n]) if n in json_columns and row[n] is not None else row[n]
                            for n in names
                        ]
                    )
        stmt = pg_insert(table).from_select(names, sa.select(*(staging.c[n] for n in names)))
        update = {
            c: stmt.excluded[c]
            for c in names
            if c not in key_cols and c not in ("id", "created_at", "origin", OWNER_COLUMN)
        }
        upsert = stmt.on_conflict_do_update(index_elements=key_cols, set_=update).returning(
            table.c.id, sa.literal_column("xmax = 0"), *(table.c[c] for c in key_cols)
        )
        for returned in self.session.execute(upsert).all():
            new_id, created, *natural_key = returned
            if created:
                result.created += 1
            else:
                result.updated += 1
            if WRITE_LISTENERS:
                event = WriteEvent(res.name, "upsert", new_id, rows[tuple(natural_key)][1])
                for listener in WRITE_LISTENERS:
                    listener(self.session, event)
