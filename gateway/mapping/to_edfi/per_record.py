"""The OneRoster → Ed-Fi projection for OneRoster writes (REST gradebook PUT/DELETE).

Called by the OneRoster write path before its commit, so both sides commit or roll back together.
A lineItem becomes a gradebookEntry of the class's Ed-Fi section, a result a studentGradebookEntry
of the student whose studentUniqueId is the user's identifier. A record OneRoster cannot place in
Ed-Fi (a class with no Ed-Fi section, a user without an Ed-Fi student) is left alone, never
invented. Ed-Fi records are written through the Ed-Fi service (validation, change versions) with
the echo guard set, so they are not projected back into OneRoster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.auth.access import OrgScope
from gateway.edfi import documents
from gateway.edfi.definitions import registry
from gateway.edfi.security import Authorizer
from gateway.edfi.service import ResourceService
from gateway.mapping import crosswalks, store
from gateway.mapping.links import Links, mapping_links, table_of
from gateway.mapping.origin import projecting
from gateway.mapping.to_edfi import translate as to_edfi

# The mapping layer writes on behalf of a OneRoster client already authorized for the record.
DISTRICT_WIDE = OrgScope(True, frozenset(), frozenset())
SERVER_FIELDS = ("id", "_etag", "_lastModifiedDate")


class InTransaction(ResourceService):
    """The Ed-Fi service inside someone else's unit of work: its writes are flushed, and the
    caller (the OneRoster write) commits or rolls back both sides together."""

    def _commit(self) -> None:
        self.session.flush()

    def _rollback(self) -> None:
        """The caller's rollback undoes the whole unit of work."""


def load(session: Session, entity: str, sourced_id: str) -> dict[str, Any] | None:
    """A stored OneRoster row in record form (field names, GUIDRefs as sourcedIds)."""
    ent = store.entity(entity)
    row = (
        session.execute(sa.select(ent.table).where(ent.table.c.sourced_id == sourced_id))
        .mappings()
        .first()
    )
    return None if row is None else record_of(entity, row)


def record_of(entity: str, row: Any) -> dict[str, Any]:
    """A stored OneRoster row (mapping of column -> value) in record form."""
    plain, dated = _stored_fields(entity)
    get = (row if isinstance(row, dict) else dict(row)).get  # a plain dict reads fastest
    record = {name: get(column) for name, column in plain}
    for name, column in dated:
        record[name] = documents.json_value(get(column))
    return record


def record_reader(
    entity: str, columns: Sequence[str], prefix: str = ""
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """record_of for rows given as tuples of `columns` (a query's select list, in order): each
    stored field of `entity` is read where its column, named `prefix` + column, sits; a field
    whose column is not selected is None, as record_of gives it. Worked out once per query,
    where record_of looks every column up by name in every row."""
    plain, dated = _stored_fields(entity)
    at = {c: i for i, c in enumerate(columns)}
    present = [(name, at[prefix + column]) for name, column in plain if prefix + column in at]
    names = tuple(name for name, _ in present)
    pick = _getter(tuple(i for _, i in present))
    dated_at = tuple((name, at[prefix + c]) for name, c in dated if prefix + c in at)
    absent = {name: None for name, c in (*plain, *dated) if prefix + c not in at}

    def read(values: Sequence[Any]) -> dict[str, Any]:
        record = dict(zip(names, pick(values), strict=True))
        record.update(absent)
        for name, i in dated_at:
            record[name] = documents.json_value(values[i])
        return record

    return read


def _getter(positions: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """The values at `positions`, as a tuple (itemgetter gives a bare value for one position)."""
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    if not positions:
        return lambda values: ()
    return itemgetter(*positions)


@cache
def _stored_fields(entity: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(field, column) of the fields of `entity` stored in a column of their own: those whose
    value is used as read, and the dates and date-times (JSON text in a record)."""
    ent = store.entity(entity)
    stored = [(name, f.column) for name, f in ent.fields.items() if f.column is not None]
    dated = {c.name for c in ent.table.c if isinstance(c.type, sa.Date | sa.DateTime)}
    return (
        tuple((n, c) for n, c in stored if c not in dated),
        tuple((n, c) for n, c in stored if c in dated),
    )


def _fitted(res: Any, body: dict[str, Any]) -> dict[str, Any]:
    """OneRoster 1.1 sets no length limits; Ed-Fi does (a gradebook entry's title holds 100
    characters). A longer text reaches Ed-Fi as its first maxLength characters (the OneRoster
    record keeps it whole), so an Ed-Fi limit never refuses a valid OneRoster write."""
    fitted = dict(body)
    for name, value in body.items():
        if name in res.identity:
            continue  # a key is never cut: two records would become one
        column = res.columns.get(name)
        limit = column.spec.get("maxLength") if column is not None else None
        if isinstance(value, str) and limit and len(value) > limit:
            fitted[name] = value[:limit]
    return fitted


class OneRosterProjector:
    def __init__(self, session: Session, namespace: str | None = None) -> None:
        self.session = session
        self.registry = registry()
        self.links = Links(session)
        self.namespace = namespace or crosswalks.load("reverse")["gradebookNamespace"]
        self.service = InTransaction(
            session, self.registry, Authorizer(self.registry, DISTRICT_WIDE), "oneroster"
        )

    def linked_doc(self, resource: str, sourced_id: str) -> dict[str, Any] | None:
        """The Ed-Fi document linked to a OneRoster sourcedId."""
        edfi_id = self.session.scalar(
            sa.select(mapping_links.c.edfi_id).where(
                mapping_links.c.sourced_id == sourced_id,
                mapping_links.c.edfi_resource == resource,
            )
        )
        if edfi_id is None:
            return None
        res = self.registry.resources[resource]
        row = (
            self.session.execute(sa.select(table_of(res)).where(table_of(res).c.id == edfi_id))
            .mappings()
            .first()
        )
        return documents.to_document(res, row) if row is not None else None

    def _write(self, resource: str, sourced_id: str, body: dict[str, Any], existing: Any) -> None:
        """Upsert; an Ed-Fi record that already exists keeps its key and the fields OneRoster
        does not carry."""
        res = self.registry.resources[resource]
        body = _fitted(res, body)
        if existing is not None:
            merged = {k: v for k, v in existing.items() if k not in SERVER_FIELDS}
            merged.update({k: v for k, v in body.items() if k not in res.identity})
            body = merged
        with projecting(self.session):
            _created, row_id, _etag = self.service.upsert(res, body)
        key = {f: body.get(f) for f in res.identity}
        for reference in res.references:  # key fields that live in references
            for field, flat in reference.fields:
                if flat in key and key[flat] is None:
                    key[flat] = (body.get(reference.name) or {}).get(field)
        self.links.link(sourced_id, resource, key, row_id, "oneroster")

    def line_items(self, sourced_ids: Iterable[str]) -> None:
        for sourced_id in sourced_ids:
            item = load(self.session, "lineItem", sourced_id)
            if item is None:
                continue
            existing = self.linked_doc("gradebookEntries", sourced_id)
            if item["status"] == "tobedeleted":
                self._delete_entry(existing)
                continue
            section = self.linked_doc("sections", item.get("class") or "")
            if section is None:
                continue
            body = to_edfi.gradebook_entry(item, section, self.namespace)
            self._write("gradebookEntries", sourced_id, body, existing)

    def results(self, sourced_ids: Iterable[str]) -> None:
        for sourced_id in sourced_ids:
            result = load(self.session, "result", sourced_id)
            if result is None:
                continue
            existing = self.linked_doc("studentGradebookEntries", sourced_id)
            if result["status"] == "tobedeleted":
                if existing is not None:
                    self._delete("studentGradebookEntries", existing)
                continue
            entry = self.linked_doc("gradebookEntries", result.get("lineItem") or "")
            user = load(self.session, "user", result.get("student") or "")
            if entry is None or user is None:
                continue
            body = to_edfi.student_gradebook_entry(result, entry, user)
            if body is None or not self._exists("students", user["identifier"]):
                continue
            self._write("studentGradebookEntries", sourced_id, body, existing)

    def _exists(self, resource: str, unique_id: str) -> bool:
        return self.links.edfi_id(resource, {"studentUniqueId": unique_id}) is not None

    def _delete_entry(self, entry: dict[str, Any] | None) -> None:
        """A OneRoster lineItem's deletion takes its results with it; so does Ed-Fi's."""
        if entry is None:
            return
        res = self.registry.resources["studentGradebookEntries"]
        t = table_of(res)
        ids = self.session.scalars(
            sa.select(t.c.id).where(
                t.c.gradebook_entry_identifier == entry["gradebookEntryIdentifier"],
                t.c.namespace == entry["namespace"],
            )
        ).all()
        for row_id in ids:
            self._delete("studentGradebookEntries", {"id": str(row_id)})
        self._delete("gradebookEntries", entry)

    def _delete(self, resource: str, doc: dict[str, Any]) -> None:
        with projecting(self.session):
            self.service.delete(self.registry.resources[resource], doc["id"], None)


def project_oneroster(
    session: Session, entity: str, sourced_ids: Iterable[str], namespace: str | None = None
) -> None:
    """Project OneRoster writes of `entity` into Ed-Fi (entities other than lineItem and result
    arrive by CSV import, whose projection is not built yet: they are left alone)."""
    projector = OneRosterProjector(session, namespace)
    if entity == "lineItem":
        projector.line_items(sourced_ids)
    elif entity == "result":
        projector.results(sourced_ids)
