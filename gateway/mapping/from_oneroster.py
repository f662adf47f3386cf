"""OneRoster-born rostering data (CSV imports) → the Ed-Fi tables.

Ed-Fi requires fields OneRoster never carries (a school's grade levels, a session's instructional
days, a course's identification codes …). The mapping fills what OneRoster says and leaves the rest
empty rather than invent it, so these records are written to the Ed-Fi tables directly (change
version, etag and `origin = 'oneroster'` as the Ed-Fi service sets them), not through the API
validator that would demand the missing fields. Each record is linked to its sourcedId, and the
echo guard keeps it from being projected back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gateway.db import utcnow
from gateway.edfi.definitions import Resource, registry
from gateway.edfi.security import Authorizer
from gateway.mapping import store, to_edfi
from gateway.mapping.links import EDUCATION_ORGANIZATIONS, Links, mapping_links, table_of
from gateway.mapping.reverse import load

ORIGIN = "oneroster"


def flatten(res: Resource, doc: dict[str, Any]) -> dict[str, Any]:
    """An Ed-Fi document → {column: value} for the properties it has."""
    out: dict[str, Any] = {}
    for prop in res.properties:
        kind, name = prop["kind"], prop["name"]
        if kind == "reference":
            ref = doc.get(name) or {}
            for f in prop["fields"]:
                if f["name"] in ref:
                    out[res.columns[f["flat"]].name] = ref[f["name"]]
        elif name in doc:
            out[res.columns[name].name] = doc[name]
    table = table_of(res)
    for column, value in out.items():
        if isinstance(value, str) and isinstance(table.c[column].type, sa.Date):
            out[column] = date.fromisoformat(value)
    return out


class EdFiWriter:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.registry = registry()
        self.links = Links(session)

    def upsert(
        self, resource: str, doc: dict[str, Any], sourced_id: str | None = None
    ) -> uuid.UUID:
        """Insert, or update only the columns OneRoster gave (Ed-Fi-only fields stay)."""
        res = self.registry.resources[resource]
        table = table_of(res)
        row = flatten(res, doc)
        cv = self.session.scalar(sa.select(sa.func.nextval("change_version_seq")))
        now = utcnow()
        system = {
            "change_version": cv,
            "_etag": str(cv),
            "_last_modified_date": now,
            "updated_at": now,
        }
        insert = pg_insert(table).values(
            **row, **system, id=uuid.uuid4(), created_at=now, origin=ORIGIN
        )
        keys = res.key_columns
        stmt = insert.on_conflict_do_update(
            index_elements=keys,
            set_={c: insert.excluded[c] for c in (*row, *system) if c not in keys},
        ).returning(table.c.id)
        row_id = self.session.execute(stmt).scalar_one()
        if sourced_id is not None:
            key = {f: doc_key for f, doc_key in _identity(res, row).items()}
            link_resource = (
                "educationOrganizations"
                if resource in ("schools", "localEducationAgencies")
                else resource
            )
            if link_resource == "educationOrganizations":
                key = {"educationOrganizationId": next(iter(key.values()))}
            self.links.link(sourced_id, link_resource, key, row_id, ORIGIN)
        return row_id


def _identity(res: Resource, row: dict[str, Any]) -> dict[str, Any]:
    from gateway.edfi.documents import json_value

    return {f: json_value(row[res.columns[f].name]) for f in res.identity}


class OneRosterImport:
    """Projects the named OneRoster records (by entity) into Ed-Fi, in dependency order."""

    ORDER = ("org", "course", "class", "user", "enrollment")

    def __init__(self, session: Session) -> None:
        self.session = session
        self.writer = EdFiWriter(session)
        self.cache: dict[tuple[str, str], dict[str, Any] | None] = {}

    def lookup(self, entity: str, sourced_id: str) -> dict[str, Any] | None:
        if (entity, sourced_id) not in self.cache:
            self.cache[(entity, sourced_id)] = load(self.session, entity, sourced_id)
        return self.cache[(entity, sourced_id)]

    def run(self, sourced_ids: dict[str, list[str]]) -> list[tuple[str, str, str]]:
        """Returns the records left out of Ed-Fi, each with its reason (for the import log)."""
        from gateway.mapping.reverse import _projecting

        skipped: list[tuple[str, str, str]] = []
        with _projecting(self.session):
            for entity in self.ORDER:
                for sid in sourced_ids.get(entity, []):
                    record = self.lookup(entity, sid)
                    if record is not None and record.get("status") == "active":
                        reason = getattr(self, f"_{entity}")(record)
                        if reason:
                            skipped.append((entity, sid, reason))
            # deletions run dependents first: enrollments before classes and people
            for entity in reversed(self.ORDER):
                for sid in sourced_ids.get(entity, []):
                    record = self.lookup(entity, sid)
                    if record is not None and record.get("status") == "tobedeleted":
                        reason = self._delete(sid)
                        if reason:
                            skipped.append((entity, sid, reason))
        return skipped

    def _delete(self, sourced_id: str) -> str | None:
        """Delete the Ed-Fi record linked to a OneRoster record marked tobedeleted (through the
        Ed-Fi service, so /deletes shows it and dependents are respected)."""
        from gateway.errors import GatewayError
        from gateway.mapping.reverse import DISTRICT_WIDE, InTransaction

        link = self.session.execute(
            sa.select(
                mapping_links.c.edfi_resource, mapping_links.c.edfi_id, mapping_links.c.natural_key
            ).where(mapping_links.c.sourced_id == sourced_id, mapping_links.c.edfi_id.is_not(None))
        ).first()
        if link is None:
            return None
        resources = EDUCATION_ORGANIZATIONS if link[0] == "educationOrganizations" else [link[0]]
        reg = self.writer.registry
        service = InTransaction(self.session, reg, Authorizer(reg, DISTRICT_WIDE), ORIGIN)
        for name in resources:
            res = reg.resources[name]
            if self.session.scalar(
                sa.select(table_of(res).c.id).where(table_of(res).c.id == link[1])
            ):
                try:
                    with self.session.begin_nested():
                        service.delete(res, str(link[1]), None)
                except GatewayError as err:
                    return f"the Ed-Fi {res.entity} stays: {err.message}"
                self.writer.links.detach(link[0], link[1], link[2])
        return None

    def _org(self, org: dict[str, Any]) -> str | None:
        placed = to_edfi.education_organization(org, self.lookup)
        if placed is None:
            return "not a district or school with an Ed-Fi education organization id"
        self.writer.upsert(placed[0], placed[1], org["sourcedId"])
        return None

    def _course(self, course: dict[str, Any]) -> str | None:
        doc = to_edfi.course(course, self.lookup)
        if doc is None:
            return "no courseCode, or its org is not an Ed-Fi education organization"
        self.writer.upsert("courses", doc, course["sourcedId"])
        return None

    def _class(self, klass: dict[str, Any]) -> str | None:
        placed = to_edfi.course_offering_and_section(klass, self.lookup)
        if placed is None:
            return "needs an Ed-Fi school, a term and a course with a courseCode"
        offering, section = placed
        school_id = offering["schoolReference"]["schoolId"]
        for term_id in klass.get("terms") or []:
            term = self.lookup("academicSession", term_id)
            session_doc = to_edfi.session(term, school_id) if term else None
            if session_doc is not None:
                self.writer.upsert(
                    "sessions", session_doc, None if len(self._schools_of(term_id)) > 1 else term_id
                )
        self.writer.upsert("courseOfferings", offering)
        self.writer.upsert("sections", section, klass["sourcedId"])
        return None

    def _schools_of(self, term_id: str) -> set[str]:
        table = store.entity("class").table
        return set(
            self.session.scalars(
                sa.select(table.c.school_sourced_id).where(
                    table.c.term_sourced_ids.contains([term_id])
                )
            )
        )

    def _first_dates(self, user_id: str) -> dict[str, str]:
        """school org sourcedId → the user's first enrollment begin date there."""
        table = store.entity("enrollment").table
        out: dict[str, str] = {}
        for school, begin in self.session.execute(
            sa.select(table.c.school_sourced_id, sa.func.min(table.c.begin_date))
            .where(table.c.user_sourced_id == user_id, table.c.status == "active")
            .group_by(table.c.school_sourced_id)
        ):
            if begin is not None:
                out[school] = begin.isoformat()
        return out

    def _user(self, user: dict[str, Any]) -> str | None:
        role = user.get("role")
        if role == "student":
            demographics = self.lookup("demographics", user["sourcedId"])
            doc = to_edfi.student(user, demographics)
            if doc is None or not {"firstName", "lastSurname"} <= set(doc):
                return "a student needs an identifier (studentUniqueId) and a name"
            self.writer.upsert("students", doc, user["sourcedId"])
            for seoa in to_edfi.student_education_organization_associations(
                user, demographics, self.lookup
            ):
                self.writer.upsert("studentEducationOrganizationAssociations", seoa)
            dates = self._first_dates(user["sourcedId"])
            for ssa in to_edfi.student_school_associations(user, dates, self.lookup):
                self.writer.upsert("studentSchoolAssociations", ssa)
        elif role in ("teacher", "administrator", "aide"):
            doc = to_edfi.staff(user)
            if doc is None:
                return "staff need an identifier (staffUniqueId)"
            self.writer.upsert("staffs", doc, user["sourcedId"])
            dates = self._first_dates(user["sourcedId"])
            for assignment in to_edfi.staff_assignments(user, dates, self.lookup):
                self.writer.upsert("staffEducationOrganizationAssignmentAssociations", assignment)
        elif role in ("parent", "guardian", "relative"):
            doc = to_edfi.contact(user)
            if doc is None:
                return "a contact needs an identifier (contactUniqueId)"
            self.writer.upsert("contacts", doc, user["sourcedId"])
            for sca in to_edfi.student_contact_associations(user, self.lookup):
                if self.writer.links.edfi_id("students", sca["studentReference"]) is not None:
                    self.writer.upsert("studentContactAssociations", sca)
        else:
            return f"role {role} has no Ed-Fi counterpart"
        return None

    def _enrollment(self, enrollment: dict[str, Any]) -> str | None:
        klass = self.lookup("class", enrollment.get("class") or "")
        user = self.lookup("user", enrollment.get("user") or "")
        placed = to_edfi.course_offering_and_section(klass, self.lookup) if klass else None
        if placed is None or user is None:
            return "its class or user is not in Ed-Fi"
        _offering, section = placed
        term = self.lookup("academicSession", (klass or {}).get("terms", [""])[0])
        association = to_edfi.section_association(enrollment, section, user, term)
        if association is None:
            return "no begin date (nor term start), no identifier, or a role without section"
        self.writer.upsert(association[0], association[1], enrollment["sourcedId"])
        return None


def project_import(
    session: Session, sourced_ids: dict[str, list[str]]
) -> list[tuple[str, str, str]]:
    """The CSV import's entry point: OneRoster sourcedIds by entity → Ed-Fi, same transaction.
    Returns (entity, sourcedId, reason) for each record Ed-Fi could not take, for the import log."""
    return OneRosterImport(session).run(defaultdict(list, sourced_ids))
