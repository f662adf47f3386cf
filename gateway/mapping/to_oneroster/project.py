"""The projection service: keeps the OneRoster tables in step with Ed-Fi writes.

It runs inside the writing transaction (the Ed-Fi service calls it before its commit), so a write
and its projection commit or roll back together. Each write marks the OneRoster records it touches;
those are rebuilt from the Ed-Fi tables through the pure translation functions, many at a time.
Rebuilding rather than patching makes a projection idempotent and lets deletes and key changes
fall out of the same code.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.db import driver_cursor
from gateway.edfi import documents
from gateway.mapping import store
from gateway.mapping.identifiers import canonical_key
from gateway.mapping.links import Links, table_of
from gateway.mapping.origin import EDFI_FROM_ONEROSTER, PROJECTING
from gateway.mapping.to_oneroster import translate as tor
from gateway.mapping.to_oneroster.people import PeopleProjector

# session.info list of Ed-Fi changes not projected yet (projected at commit)
PENDING = "gateway.mapping.pending"

Key = tuple[tuple[str, Any], ...]

# Ed-Fi resource → (OneRoster entity, link resource) for records that are one OneRoster record.
ENTITIES = {
    "localEducationAgencies": ("org", "educationOrganizations"),
    "schools": ("org", "educationOrganizations"),
    "students": ("user", "students"),
    "staffs": ("user", "staffs"),
    "contacts": ("user", "contacts"),
    "sessions": ("academicSession", "sessions"),
    "gradingPeriods": ("academicSession", "gradingPeriods"),
    "courses": ("course", "courses"),
    "sections": ("class", "sections"),
    "studentSectionAssociations": ("enrollment", "studentSectionAssociations"),
    "staffSectionAssociations": ("enrollment", "staffSectionAssociations"),
    "gradebookEntries": ("lineItem", "gradebookEntries"),
    "studentGradebookEntries": ("result", "studentGradebookEntries"),
}


# Resources whose OneRoster record reads a field the server sets on every write (a result's
# scoreDate falls back to the entry's _lastModifiedDate): even an unchanged POST moves it.
READS_SERVER_FIELDS = ("studentGradebookEntries",)

# Resources whose records are rebuilt by natural key.
KEYED = (
    "sessions",
    "gradingPeriods",
    "courses",
    "sections",
    "studentSectionAssociations",
    "staffSectionAssociations",
    "gradebookEntries",
    "studentGradebookEntries",
)


@dataclass
class Change:
    """One Ed-Fi write as the projection sees it."""

    resource: str
    action: str  # "upsert" | "update" | "delete"
    id: uuid.UUID
    values: dict[str, Any] | None
    old_key_values: dict[str, Any] | None = None


LOCK, PERSON_LOCK = "mapping-people", "mapping-person"  # advisory lock classes
PERSON_LOCKS = 100  # more people in one write: one exclusive lock for all
# The shared lock, then each person's in key order (so two writers never wait for each other's
# next lock), in one statement: its WHERE holds a volatile function, which PostgreSQL neither
# pushes into the subquery nor runs once ahead, so it is evaluated for each row before that row's
# lock, the shared lock first (taking it again is free: the transaction holds it already).
# The same WHERE sets plan_cache_mode for the rest of the transaction (the projection's reads and
# upserts, until the commit): their prepared statements then run with their generic plan. By
# default PostgreSQL planned them again at every execution (an `= ANY($1)` over an array of
# unknown length looks dearer generic than custom), 0.4-0.6 ms a statement, where the generic
# plan is the same index look-ups. Only here: a write of more people (a bulk load) takes the
# exclusive lock below and keeps the planner's choice.
PERSON_LOCKS_SQL = (
    f"SELECT pg_advisory_xact_lock(hashtext('{PERSON_LOCK}'), k) FROM (SELECT DISTINCT "
    "hashtext(p) AS k FROM unnest(%(people)s::text[]) p ORDER BY k) s "
    f"WHERE pg_advisory_xact_lock_shared(hashtext('{LOCK}'), 0) IS NOT NULL "
    "AND set_config('plan_cache_mode', 'force_generic_plan', true) IS NOT NULL"
)


@dataclass
class Dirty:
    orgs: set[int] = field(default_factory=set)
    students: set[str] = field(default_factory=set)
    staffs: set[str] = field(default_factory=set)
    contacts: set[str] = field(default_factory=set)
    school_years: set[int] = field(default_factory=set)
    enrolled: set[str] = field(default_factory=set)  # students whose schools changed
    keyed: dict[str, set[Key]] = field(default_factory=lambda: defaultdict(set))


def _frozen(key: dict[str, Any]) -> Key:
    return tuple(sorted(key.items()))


def _entry_key(entry: dict[str, Any]) -> Key:
    """A gradebook entry's key, from the entry or a reference to it."""
    return _frozen({f: entry[f] for f in ("gradebookEntryIdentifier", "namespace")})


class Projector(PeopleProjector):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.links = Links(session)
        # what this projector wrote, by OneRoster entity (for `gateway mapping verify`)
        self.produced: dict[str, set[str]] = defaultdict(set)
        self.changed: Counter[str] = Counter()

    def _upsert(self, entity: str, records: list[dict[str, Any]]) -> None:
        self._upsert_together([(entity, records, ())])

    def _upsert_together(self, parts: list[tuple[str, list[dict[str, Any]], store.Computed]]):
        for (entity, records, _computed), changed in zip(
            parts, store.upsert_together(self.session, parts), strict=True
        ):
            self.produced[entity].update(r["sourcedId"] for r in records)
            self.changed[entity] += changed

    # --- entry points ----------------------------------------------------------------------------
    def apply(self, changes: Iterable[Change]) -> None:
        dirty = Dirty()
        for change in changes:
            if change.action == "delete":
                self._deleted(change)
            for values in (change.values, change.old_key_values):
                if values:
                    self._mark(dirty, change.resource, values)
        self._lock_people(dirty)
        self.rebuild(dirty)

    def _lock_people(self, dirty: Dirty) -> None:
        """Serialise the projections of the same person. A user is rebuilt from several Ed-Fi
        records (the student, its school associations …) that concurrent transactions may write:
        without the lock each rebuilds from its own write and the other's old rows, and the last
        to commit leaves the user stale. Once the lock is held (the other committed), each
        statement reads the committed rows. A bulk write takes one exclusive lock instead of one
        per person (the lock table is finite); a small write shares it."""
        people = [
            f"{kind}:{value}"
            for kind, values in (
                ("students", dirty.students),
                ("staffs", dirty.staffs),
                ("contacts", dirty.contacts),
            )
            for value in values
        ]
        if not people:
            return
        if len(people) > PERSON_LOCKS:
            self.session.execute(sa.text(f"SELECT pg_advisory_xact_lock(hashtext('{LOCK}'), 0)"))
            return
        with driver_cursor(self.session) as cursor:
            cursor.execute(PERSON_LOCKS_SQL, {"people": people}, prepare=True)

    def rebuild_all(self) -> None:
        """Rebuild every OneRoster record the Ed-Fi data implies (verify, and data loaded before
        the mapping existed)."""
        dirty = Dirty()
        for resource in ("localEducationAgencies", "schools", "students", "staffs", "contacts"):
            res = self.registry.resources[resource]
            column = table_of(res).c[res.key_columns[0]]
            values = set(self.session.scalars(sa.select(column).where(_edfi_born(res))))
            {"students": dirty.students, "staffs": dirty.staffs, "contacts": dirty.contacts}.get(
                resource, dirty.orgs
            ).update(values)
        sessions = table_of(self.registry.resources["sessions"])
        dirty.school_years.update(
            self.session.scalars(
                sa.select(sessions.c.school_year)
                .where(_edfi_born(self.registry.resources["sessions"]))
                .distinct()
            )
        )
        for resource in KEYED:
            res = self.registry.resources[resource]
            cols = [table_of(res).c[res.columns[f].name] for f in res.identity]
            for row in self.session.execute(sa.select(*cols).where(_edfi_born(res))):
                key = {f: documents.json_value(v) for f, v in zip(res.identity, row, strict=True)}
                dirty.keyed[resource].add(_frozen(key))
        self.rebuild(dirty)

    def _deleted(self, change: Change) -> None:
        target = ENTITIES.get(change.resource)
        if target is None:
            return
        entity, link_resource = target
        sourced = self.links.detach(link_resource, change.id, self._link_key(change))
        if sourced:
            store.tombstone(self.session, entity, [sourced])
            if change.resource == "students":
                store.tombstone(self.session, "demographics", [sourced])

    @staticmethod
    def _link_key(change: Change) -> dict[str, Any]:
        key = dict(change.old_key_values or {})
        if change.resource in ("localEducationAgencies", "schools"):
            return {"educationOrganizationId": int(next(iter(key.values())))}
        return key

    def _mark(self, dirty: Dirty, resource: str, v: dict[str, Any]) -> None:
        res = self.registry.resources[resource]
        key = _frozen({f: documents.json_value(v.get(f)) for f in res.identity})
        if resource == "localEducationAgencies":
            dirty.orgs.add(v["localEducationAgencyId"])
        elif resource == "schools":
            dirty.orgs.add(v["schoolId"])
        elif resource in ("students", "studentEducationOrganizationAssociations"):
            dirty.students.add(v["studentUniqueId"])
        elif resource == "studentSchoolAssociations":
            dirty.students.add(v["studentUniqueId"])
            dirty.enrolled.add(v["studentUniqueId"])
        elif resource == "studentContactAssociations":
            dirty.students.add(v["studentUniqueId"])
            dirty.contacts.add(v["contactUniqueId"])
        elif resource == "contacts":
            dirty.contacts.add(v["contactUniqueId"])
        elif resource in (
            "staffs",
            "staffEducationOrganizationAssignmentAssociations",
            "staffSchoolAssociations",
        ):
            dirty.staffs.add(v["staffUniqueId"])
        elif resource == "sessions":
            dirty.keyed["sessions"].add(key)
            dirty.school_years.add(int(v["schoolYear"]))
            # the grading periods of its school and year may have it as parent, or no more
            grading = self.registry.resources["gradingPeriods"]
            dirty.keyed["gradingPeriods"].update(
                _frozen({f: documents.json_value(p_key[f]) for f in grading.identity})
                for p_key in map(
                    tor.grading_period_key,
                    self.fetch(
                        "gradingPeriods", schoolId=[v["schoolId"]], schoolYear=[v["schoolYear"]]
                    ),
                )
            )
        elif resource == "gradingPeriods":
            dirty.keyed["gradingPeriods"].add(key)
        elif resource == "courses":
            dirty.keyed["courses"].add(key)
            for offering in self.fetch(
                "courseOfferings",
                courseCode=[v["courseCode"]],
                educationOrganizationId=[v["educationOrganizationId"]],
            ):
                self._mark_offering_sections(dirty, _offering_key(offering))
        elif resource == "courseOfferings":
            self._mark_offering_sections(dirty, dict(key))
        elif resource in (
            "sections",
            "studentSectionAssociations",
            "gradebookEntries",
            "studentGradebookEntries",
        ):
            dirty.keyed[resource].add(key)
        elif resource == "staffSectionAssociations":
            dirty.keyed[resource].add(key)
            dirty.staffs.add(v["staffUniqueId"])

    def _mark_offering_sections(self, dirty: Dirty, offering_key: dict[str, Any]) -> None:
        for section in self.fetch("sections", **{f: [v] for f, v in offering_key.items()}):
            dirty.keyed["sections"].add(_frozen(tor.section_key(section)))

    # --- rebuilding ------------------------------------------------------------------------------
    def translate(self, build: Callable[[tor.Ref], list[Any]]) -> list[Any]:
        """Run a translation twice: first to learn every sourcedId it needs (resolved in bulk),
        then for real. The functions are pure and cheap; database round trips are not."""
        wanted: dict[str, list[dict[str, Any]]] = defaultdict(list)

        def record(resource: str, key: dict[str, Any]) -> str:
            wanted[resource].append(key)
            return f"{resource}:{sorted(key.items())!r}"  # a stand-in: prefetch canonicalises

        build(record)
        self.links.prefetch(wanted)
        return build(self.links)

    def rebuild(self, dirty: Dirty) -> None:
        self.memo = {}
        try:
            self._rebuild(dirty)
        finally:
            self.memo = None

    def _rebuild(self, dirty: Dirty) -> None:
        # contacts take their orgs from their students' schools; the students' own documents are
        # read in the same statement (kept for _students)
        enrolled_contacts = self.fetch_many(
            [
                ("studentContactAssociations", {"studentUniqueId": dirty.enrolled}),
                *self.student_queries(dirty.students),
            ]
        )[0]
        dirty.contacts.update(a["contactReference"]["contactUniqueId"] for a in enrolled_contacts)
        if dirty.orgs:
            leas = self.fetch("localEducationAgencies", localEducationAgencyId=dirty.orgs)
            schools = self.fetch("schools", schoolId=dirty.orgs)
            self._upsert(
                "org",
                self.translate(
                    lambda ref: (
                        [tor.org_from_local_education_agency(d, ref) for d in leas]
                        + [tor.org_from_school(d, ref) for d in schools]
                    )
                ),
            )
        for year in sorted(dirty.school_years):
            sessions = self.fetch("sessions", schoolYear=[year])
            if sessions:
                self._upsert(
                    "academicSession", [tor.school_year_session(year, sessions, self.links)]
                )
            else:
                store.tombstone(
                    self.session,
                    "academicSession",
                    [self.links("schoolYears", {"schoolYear": year})],
                )
        self._build("academicSession", "sessions", dirty, tor.academic_session)
        self._grading_periods(dirty.keyed["gradingPeriods"])
        self._build("course", "courses", dirty, tor.course)
        self._classes(dirty.keyed["sections"])
        self._students(dirty.students)
        self._staffs(dirty.staffs)
        self._contacts(dirty.contacts)
        self._build("enrollment", "studentSectionAssociations", dirty, tor.student_enrollment)
        self._build("enrollment", "staffSectionAssociations", dirty, tor.staff_enrollment)
        # OneRoster 1.1 requires a lineItem's class: an entry without a section stays Ed-Fi-only
        entries = [
            e
            for e in self.fetch_keys("gradebookEntries", dirty.keyed["gradebookEntries"])
            if e.get("sectionReference")
        ]
        types = sorted(
            {e.get("gradebookEntryTypeDescriptor") for e in entries}, key=lambda t: t or ""
        )
        self._upsert("category", self.translate(lambda ref: [tor.category(t, ref) for t in types]))
        self._upsert(
            "lineItem", self.translate(lambda ref: [tor.line_item(e, ref) for e in entries])
        )
        results = self.fetch_keys("studentGradebookEntries", dirty.keyed["studentGradebookEntries"])
        wanted = {_entry_key(r["gradebookEntryReference"]) for r in results}
        placed = {
            _entry_key(e)
            for e in self.fetch_keys("gradebookEntries", wanted)
            if e.get("sectionReference")
        }
        results = [r for r in results if _entry_key(r["gradebookEntryReference"]) in placed]
        self._upsert("result", self.translate(lambda ref: [tor.result(r, ref) for r in results]))

    def _build(self, entity: str, resource: str, dirty: Dirty, fn: Callable[..., Any]) -> None:
        docs = self.fetch_keys(resource, dirty.keyed[resource])
        self._upsert(entity, self.translate(lambda ref: [fn(d, ref) for d in docs]))

    def _grading_periods(self, keys: set[Key]) -> None:
        periods = self.fetch_keys("gradingPeriods", keys)
        if not periods:
            return
        sessions = self.fetch(
            "sessions",
            schoolId=sorted({p["schoolReference"]["schoolId"] for p in periods}),
            schoolYear=sorted({p["schoolYearTypeReference"]["schoolYear"] for p in periods}),
        )
        self._upsert(
            "academicSession",
            self.translate(lambda ref: [tor.grading_period(p, sessions, ref) for p in periods]),
        )

    def _classes(self, keys: set[Key]) -> None:
        sections = self.fetch_keys("sections", keys)
        if not sections:
            return
        offerings = {
            canonical_key(_offering_key(o)): o
            for o in self.fetch_keys(
                "courseOfferings", {_frozen(s["courseOfferingReference"]) for s in sections}
            )
        }
        courses = {
            canonical_key(
                {
                    "courseCode": c["courseCode"],
                    "educationOrganizationId": c["educationOrganizationReference"][
                        "educationOrganizationId"
                    ],
                }
            ): c
            for c in self.fetch_keys(
                "courses", {_frozen(o["courseReference"]) for o in offerings.values()}
            )
        }
        parts = []
        for section in sections:
            offering = offerings.get(canonical_key(section["courseOfferingReference"]))
            course = courses.get(canonical_key(offering["courseReference"])) if offering else None
            parts.append((section, offering, course))
        self._upsert("class", self.translate(lambda ref: [tor.class_(*p, ref) for p in parts]))


def _edfi_born(res: Any) -> sa.ColumnElement[bool]:
    """Rows born in OneRoster are already OneRoster records: rebuilding them would echo."""
    return table_of(res).c.origin.is_distinct_from(EDFI_FROM_ONEROSTER)


def _offering_key(offering: dict[str, Any]) -> dict[str, Any]:
    session_ref = offering["sessionReference"]
    return {
        "localCourseCode": offering["localCourseCode"],
        "schoolId": offering["schoolReference"]["schoolId"],
        "schoolYear": session_ref["schoolYear"],
        "sessionName": session_ref["sessionName"],
    }


def project(session: Session, changes: Iterable[Change]) -> None:
    """Project Ed-Fi writes into OneRoster (the bulk entry point: loaders pass many changes)."""
    Projector(session).apply(changes)


def on_edfi_write(session: Session, event: Any) -> None:
    """The Ed-Fi service's write listener (gateway.edfi.service.WRITE_LISTENERS): the change is
    projected when the session commits, together with every other change of that unit of work
    (a bulk load commits many records at once and is projected set-based)."""
    if session.info.get(PROJECTING):
        return
    if _changes_nothing(event):
        return
    change = Change(event.resource, event.action, event.id, event.values, event.old_key_values)
    session.info.setdefault(PENDING, []).append(change)


def _changes_nothing(event: Any) -> bool:
    """A POST that stored the document already there leaves every input of the projection as it
    was, so the OneRoster records it would rebuild are the ones stored. Not so for a row born in
    OneRoster (its OneRoster record is the source; an Ed-Fi write re-derives it) or a record whose
    projection reads a server-set field."""
    return (
        event.unchanged
        and event.origin != EDFI_FROM_ONEROSTER
        and event.resource not in READS_SERVER_FIELDS
    )


@sa.event.listens_for(Session, "before_commit")
def _project_pending(session: Session) -> None:
    # still inside the transaction: a projection that fails makes the commit fail. A savepoint's
    # release (one record of a bulk load) waits for the unit of work's own commit.
    if session.in_nested_transaction():
        return
    changes = session.info.pop(PENDING, None)
    if changes:
        project(session, changes)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: Any) -> None:
    # a rolled-back savepoint (one rejected record of a bulk load) keeps the others' changes;
    # re-reading the Ed-Fi tables at commit makes its own stale change harmless
    if not previous_transaction.nested:
        session.info.pop(PENDING, None)
