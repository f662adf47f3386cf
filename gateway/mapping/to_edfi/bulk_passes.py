"""The OneRoster → Ed-Fi projection's Python passes and work tables (see bulk).

Orgs, courses, classes and users (thousands to tens of thousands) are read in one streaming query
per entity, their lookups joined in or read once, and translated by the pure functions of
`to_edfi`; the Ed-Fi documents go by COPY into staging tables, a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import count
from typing import Any

import orjson
import sqlalchemy as sa
from psycopg.types.json import set_json_loads
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from gateway.auth import org_ids
from gateway.edfi.definitions import registry
from gateway.mapping import store
from gateway.mapping.links import table_of
from gateway.mapping.to_edfi import translate as to_edfi
from gateway.mapping.to_edfi.bulk_deletes import delete_linked, delete_rows
from gateway.mapping.to_edfi.bulk_writes import (
    SOURCED_ID,
    Stage,
    copy_rows,
    driver,
    link_resource_of,
    q,
)
from gateway.mapping.to_edfi.per_record import record_of, record_reader

WANTED, SKIPPED, CLASS_SECTIONS = "mapping_wanted", "mapping_skipped", "mapping_class_sections"
NO_BIRTH_DATE = "a student needs a birth date in Ed-Fi: OneRoster-only until demographics give one"
Docs = dict[str, list[tuple[dict[str, Any], str | None]]]  # resource → (document, sourcedId)
BATCH = 5000  # rows read and staged at a time: memory stays flat whatever the package size
DEMO = "demographics."  # the prefix of the demographics columns read with each user
PEOPLE = (
    "students",
    "studentEducationOrganizationAssociations",
    "studentSchoolAssociations",
    "staffs",
    "staffEducationOrganizationAssignmentAssociations",
    "contacts",
    "studentContactAssociations",
)

# the Ed-Fi resources written, in dependency order (each is upserted, then linked)
RESOURCES = (
    "localEducationAgencies",
    "schools",
    "courses",
    "sessions",
    "courseOfferings",
    "classPeriods",
    "sections",
    *PEOPLE,
    "studentSectionAssociations",
    "staffSectionAssociations",
)
# the OneRoster entity a linked Ed-Fi record comes from (for the skipped-records log)
SOURCE_ENTITY = {
    "localEducationAgencies": "org",
    "schools": "org",
    "courses": "course",
    "sessions": "academicSession",
    "sections": "class",
    "students": "user",
    "staffs": "user",
    "contacts": "user",
    "studentSectionAssociations": "enrollment",
    "staffSectionAssociations": "enrollment",
}
# a person's associations, each with the person resource whose projection writes all of them
OWNED_ASSOCIATIONS = {
    "studentEducationOrganizationAssociations": ("students", "studentUniqueId"),
    "studentSchoolAssociations": ("students", "studentUniqueId"),
    "staffEducationOrganizationAssignmentAssociations": ("staffs", "staffUniqueId"),
    "studentContactAssociations": ("contacts", "contactUniqueId"),
}
# an association of a contact is written only for a student Ed-Fi has
CONDITIONS = {
    "studentContactAssociations": "EXISTS (SELECT 1 FROM students x "
    "WHERE x.student_unique_id = d.student_unique_id)"
}


def create_work_tables(session: Session) -> None:
    for statement in (
        f"DROP TABLE IF EXISTS {WANTED}, {SKIPPED}, {CLASS_SECTIONS}",
        f"CREATE TEMP TABLE {WANTED} (entity text, sourced_id text) ON COMMIT DROP",
        f"CREATE TEMP TABLE {SKIPPED} (n bigserial, entity text, sourced_id text, reason text) "
        "ON COMMIT DROP",
        f"CREATE TEMP TABLE {CLASS_SECTIONS} (class_sourced_id text PRIMARY KEY, "
        "section_identifier text, local_course_code text, school_id bigint, school_year int, "
        "session_name text, term_start date) ON COMMIT DROP",
    ):
        session.execute(sa.text(statement))


def add_wanted(
    session: Session, entity: str, sourced_ids_sql: str, again: bool = False, **params: Any
) -> None:
    """Name records of `entity` to project: `sourced_ids_sql` selects their distinct sourcedIds
    (column `sourced_id`). `again`: records of `entity` are named already (users, then their
    demographics), so each is named once."""
    once = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {WANTED} w "
        "WHERE w.entity = :entity AND w.sourced_id = n.sourced_id)"
        if again
        else ""
    )
    session.execute(
        sa.text(
            f"INSERT INTO {WANTED} SELECT CAST(:entity AS text), n.sourced_id "
            f"FROM ({sourced_ids_sql}) n{once}"
        ),
        {"entity": entity, **params},
    )


def index_wanted(session: Session) -> None:
    """Statistics for the planner. No index: a district's records are joined by hashing, and a
    delta's few by the OneRoster tables' primary keys."""
    session.execute(sa.text(f"ANALYZE {WANTED}"))


def skip(session: Session, rows: list[tuple[str, str, str]]) -> None:
    if rows:
        session.execute(
            sa.text(
                f"INSERT INTO {SKIPPED} (entity, sourced_id, reason) "
                "SELECT * FROM unnest(:e, :s, :r)"
            ).bindparams(*(sa.bindparam(n, type_=ARRAY(sa.Text)) for n in ("e", "s", "r"))),
            {"e": [r[0] for r in rows], "s": [r[1] for r in rows], "r": [r[2] for r in rows]},
        )


class Lookups:
    """The OneRoster records the translations look up, read once per projection: every org and
    academic session (few), and the courses of the classes being projected."""

    def __init__(self, session: Session) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        for entity, table in (("org", "organizations"), ("academicSession", "academic_sessions")):
            for row in session.execute(sa.text(f"SELECT * FROM {table}")).mappings():
                self.records[(entity, row["sourced_id"])] = record_of(entity, row)
        for row in session.execute(
            sa.text(
                "SELECT * FROM oneroster_courses WHERE sourced_id IN (SELECT course_sourced_id "
                f"FROM classes WHERE sourced_id IN (SELECT sourced_id FROM {WANTED} "
                f"WHERE entity = 'class') OR sourced_id IN (SELECT e.class_sourced_id FROM "
                f"enrollments e JOIN {WANTED} w ON w.entity = 'enrollment' "
                "AND w.sourced_id = e.sourced_id)) "
                f"OR sourced_id IN (SELECT sourced_id FROM {WANTED} WHERE entity = 'course')"
            )
        ).mappings():
            self.records[("course", row["sourced_id"])] = record_of("course", row)

    def __call__(self, entity: str, sourced_id: str) -> dict[str, Any] | None:
        return self.records.get((entity, sourced_id))


class Translate:
    """The Python passes: orgs, courses, classes and users → staged Ed-Fi documents."""

    def __init__(self, session: Session, stages: dict[str, Stage]) -> None:
        self.session = session
        self.stages = stages
        self.lookup = Lookups(session)

    def _stage(self, docs: Docs) -> None:
        for resource, items in docs.items():
            if items:
                self.stages[resource].copy(items)

    def orgs_and_courses(self) -> None:
        skipped: list[tuple[str, str, str]] = []
        docs: Docs = {
            "localEducationAgencies": [],
            "schools": [],
            "courses": [],
        }
        shared = set(
            self.session.scalars(
                sa.text(
                    f"SELECT o.sourced_id FROM organizations o JOIN {WANTED} w "
                    "ON w.entity = 'org' AND w.sourced_id = o.sourced_id "
                    "WHERE o.identifier IS NOT NULL AND "
                    + org_ids.held_by_other_kind_sql("o.identifier", "o.type", "o.sourced_id")
                )
            )
        )
        for entity in ("org", "course"):
            for sourced_id in self.session.scalars(
                sa.text(f"SELECT sourced_id FROM {WANTED} WHERE entity = :e"), {"e": entity}
            ):
                record = self.lookup(entity, sourced_id)
                if record is None or record.get("status") != "active":
                    continue
                if entity == "org":
                    placed = to_edfi.education_organization(record, self.lookup)
                    if sourced_id in shared:  # one id, one education organization
                        reason = "its identifier is another kind of organization's id"
                        skipped.append((entity, sourced_id, reason))
                    elif placed is None:
                        reason = "not a district or school with an Ed-Fi education organization id"
                        skipped.append((entity, sourced_id, reason))
                    else:
                        docs[placed[0]].append((placed[1], sourced_id))
                else:
                    doc = to_edfi.course(record, self.lookup)
                    if doc is None:
                        reason = "no courseCode, or its org is not an Ed-Fi education organization"
                        skipped.append((entity, sourced_id, reason))
                    else:
                        docs["courses"].append((doc, sourced_id))
        self._stage(docs)
        skip(self.session, skipped)

    def classes(self) -> None:
        """Wanted classes → sessions, course offerings, sections; and the section of every class
        a wanted enrollment names (CLASS_SECTIONS), for the enrollments' SQL."""
        schools_of_term: dict[str, int] = {
            term: schools
            for term, schools in self.session.execute(
                sa.text(
                    "SELECT t.term, count(DISTINCT c.school_sourced_id) FROM classes c, "
                    "jsonb_array_elements_text(c.term_sourced_ids) AS t(term) GROUP BY t.term"
                )
            )
        }
        # not `metadata`: free-form JSON no translation reads (see stream_tuples)
        selected = [c.name for c in store.entity("class").table.c if c.name != "metadata"]
        read_class = record_reader("class", selected)
        wanted_at = len(selected)
        sql = (
            f"SELECT {', '.join(f'c.{q(c)}' for c in selected)}, "
            "w.sourced_id IS NOT NULL AS wanted FROM classes c "
            f"LEFT JOIN {WANTED} w ON w.entity = 'class' AND w.sourced_id = c.sourced_id "
            "WHERE w.sourced_id IS NOT NULL OR c.sourced_id IN (SELECT e.class_sourced_id "
            f"FROM enrollments e JOIN {WANTED} x ON x.entity = 'enrollment' "
            "AND x.sourced_id = e.sourced_id)"
        )
        for rows in stream_tuples(self.session, sql):
            skipped: list[tuple[str, str, str]] = []
            sections: list[tuple[Any, ...]] = []
            docs: Docs = {
                "sessions": [],
                "courseOfferings": [],
                "classPeriods": [],
                "sections": [],
            }
            for row in rows:
                klass = read_class(row)
                placed = to_edfi.course_offering_and_section(klass, self.lookup)
                if placed is not None:
                    offering, section = placed
                    first = self.lookup("academicSession", (klass.get("terms") or [""])[0])
                    key = section["courseOfferingReference"]
                    sections.append(
                        (
                            klass["sourcedId"],
                            section["sectionIdentifier"],
                            key["localCourseCode"],
                            key["schoolId"],
                            key["schoolYear"],
                            key["sessionName"],
                            (first or {}).get("startDate"),
                        )
                    )
                if not row[wanted_at] or klass.get("status") != "active":
                    continue
                if placed is None:
                    reason = "needs an Ed-Fi school, a term and a course with a courseCode"
                    skipped.append(("class", klass["sourcedId"], reason))
                    continue
                school_id = offering["schoolReference"]["schoolId"]
                for term_id in klass.get("terms") or []:
                    term = self.lookup("academicSession", term_id)
                    session_doc = to_edfi.session(term, school_id) if term else None
                    if session_doc is not None:
                        # a term several schools share is several Ed-Fi sessions: none is its own
                        linked = term_id if schools_of_term.get(term_id, 0) <= 1 else None
                        docs["sessions"].append((session_doc, linked))
                docs["courseOfferings"].append((offering, None))
                too_long = _periods_too_long(section)
                if too_long:
                    reason = f"periods {', '.join(too_long)} are too long for Ed-Fi: left out"
                    skipped.append(("class", klass["sourcedId"], reason))
                docs["classPeriods"].extend((p, None) for p in to_edfi.class_periods(section))
                docs["sections"].append((section, klass["sourcedId"]))
            self._stage(docs)
            skip(self.session, skipped)
            if sections:
                copy_rows(self.session, f"COPY {CLASS_SECTIONS} FROM STDIN", sections)

    def users(self) -> None:
        """Wanted active users → students (with their demographics), staff, contacts and their
        associations. Only the columns the translations read are selected (PERSON_FIELDS,
        demographics_fields: the others, dateLastModified among them, were decoded and formatted
        for nothing), each row a tuple its records are read from by position."""
        users = _columns("user", ("sourcedId", *to_edfi.PERSON_FIELDS))
        demographics = _columns("demographics", ("sourcedId", *to_edfi.demographics_fields()))
        extra = ("dates", "agent_rows", "in_edfi", "twins")
        selected = [*users, *(DEMO + c for c in demographics), *extra]
        read_user = record_reader("user", selected)
        read_demographics = record_reader("demographics", selected, DEMO)
        has_demographics, dates, agent_rows, in_edfi, twins = (
            selected.index(c) for c in (DEMO + "sourced_id", *extra)
        )
        sql = (
            # the work table itself, not a CTE of it, so the planner knows how many users are
            # wanted: a district's are joined to its enrollments by hashing, a delta's few by
            # the enrollments' user index
            "WITH firsts AS (SELECT user_sourced_id, jsonb_object_agg(school_sourced_id, "
            "to_char(first_day, 'YYYY-MM-DD')) AS dates FROM (SELECT e.user_sourced_id, "
            "e.school_sourced_id, min(e.begin_date) AS first_day FROM enrollments e "
            "WHERE e.status = 'active' AND e.begin_date IS NOT NULL "
            "AND e.school_sourced_id IS NOT NULL AND e.user_sourced_id IN "
            f"(SELECT sourced_id FROM {WANTED} WHERE entity = 'user') GROUP BY 1, 2) f "
            "GROUP BY 1), "
            # identifiers two active users of one kind share: neither is projected (one Ed-Fi
            # person for two people would merge them; the CSV import refuses such packages)
            f"twins AS ({twins_sql()}) "
            f"SELECT {', '.join(f'u.{q(c)}' for c in users)}, "
            f"{''.join(f'd.{q(c)} AS {q(DEMO + c)}, ' for c in demographics)}"
            "f.dates, CASE WHEN u.role = ANY(%(contacts)s) THEN (SELECT jsonb_agg("
            "jsonb_build_object('sourced_id', a.sourced_id, 'role', a.role, 'identifier', "
            "a.identifier)) FROM users a WHERE a.sourced_id IN "
            "(SELECT jsonb_array_elements_text(u.agents))) END AS agent_rows, "
            "CASE WHEN u.role = ANY(%(students)s) THEN EXISTS (SELECT 1 FROM students s "
            "WHERE s.student_unique_id = u.identifier) END AS in_edfi, t.ids AS twins "
            f"FROM users u JOIN {WANTED} w ON w.entity = 'user' AND w.sourced_id = u.sourced_id "
            "LEFT JOIN demographics d ON d.sourced_id = u.sourced_id "
            "LEFT JOIN firsts f ON f.user_sourced_id = u.sourced_id "
            f"LEFT JOIN twins t ON t.identifier = u.identifier AND t.kind = "
            f"{to_edfi.person_kind_sql('u.role')} WHERE u.status = 'active'"
        )
        for rows in stream_tuples(
            self.session,
            sql,
            contacts=list(to_edfi.CONTACT_ROLES),
            students=list(to_edfi.STUDENT_ROLES),
        ):
            docs: Docs = {r: [] for r in PEOPLE}
            skipped: list[tuple[str, str, str]] = []
            for values in rows:
                user = read_user(values)
                demographic = (
                    read_demographics(values) if values[has_demographics] is not None else None
                )
                reason: str | None
                if values[twins]:
                    reason = _twins_reason(user, values[twins])
                else:
                    reason = self._user(
                        user, demographic, values[dates], values[agent_rows], docs, values[in_edfi]
                    )
                if reason:
                    skipped.append(("user", user["sourcedId"], reason))
            self._stage(docs)
            skip(self.session, skipped)

    def _user(
        self,
        user: dict[str, Any],
        demographics: dict[str, Any] | None,
        dates: dict[str, str] | None,
        agent_rows: list[dict[str, Any]] | None,
        docs: Docs,
        in_edfi: bool | None = False,
    ) -> str | None:
        sid, role = user["sourcedId"], user.get("role")
        dates = dates or {}
        if role in to_edfi.STUDENT_ROLES:
            doc = to_edfi.student(user, demographics)
            if doc is None or not {"firstName", "lastSurname"} <= set(doc):
                return "a student needs an identifier (studentUniqueId) and a name"
            if "birthDate" not in doc and not in_edfi:
                # Ed-Fi requires a birth date; a document without one could not be PUT back
                return NO_BIRTH_DATE
            docs["students"].append((doc, sid))
            for seoa in to_edfi.student_education_organization_associations(
                user, demographics, self.lookup
            ):
                docs["studentEducationOrganizationAssociations"].append((seoa, None))
            for ssa in to_edfi.student_school_associations(user, dates, self.lookup):
                docs["studentSchoolAssociations"].append((ssa, None))
        elif role in to_edfi.STAFF_ROLES:
            doc = to_edfi.staff(user)
            if doc is None:
                return "staff need an identifier (staffUniqueId)"
            docs["staffs"].append((doc, sid))
            for assignment in to_edfi.staff_assignments(user, dates, self.lookup):
                docs["staffEducationOrganizationAssignmentAssociations"].append((assignment, None))
        elif role in to_edfi.CONTACT_ROLES:
            doc = to_edfi.contact(user)
            if doc is None:
                return "a contact needs an identifier (contactUniqueId)"
            docs["contacts"].append((doc, sid))
            agents = {
                a["sourced_id"]: {"role": a["role"], "identifier": a["identifier"]}
                for a in agent_rows or []
            }
            for sca in to_edfi.student_contact_associations(
                user, lambda _entity, agent_id: agents.get(agent_id)
            ):
                docs["studentContactAssociations"].append((sca, None))
        else:
            return f"role {role} has no Ed-Fi counterpart"
        return None


def _periods_too_long(section: dict[str, Any]) -> list[str]:
    """Leave out of the section the class periods whose name Ed-Fi cannot hold; their names."""
    limit = registry().resources["classPeriods"].columns["classPeriodName"].spec["maxLength"]
    named = section.get("classPeriods") or []
    kept = [c for c in named if len(c["classPeriodReference"]["classPeriodName"]) <= limit]
    if len(kept) < len(named):
        section["classPeriods"] = kept
    return [c["classPeriodReference"]["classPeriodName"] for c in named if c not in kept]


def twins_sql() -> str:
    """SELECT (identifier, kind, ids): the identifiers active users of one kind of Ed-Fi person
    share, with their sourcedIds. Neither is projected: one Ed-Fi person for two people would
    merge them (the CSV import refuses such packages; older data may hold them)."""
    return (
        "SELECT identifier, kind, jsonb_agg(sourced_id ORDER BY sourced_id) AS ids FROM (SELECT "
        f"identifier, {to_edfi.person_kind_sql('role')} AS kind, sourced_id FROM users "
        "WHERE status = 'active' AND identifier IS NOT NULL) x WHERE kind IS NOT NULL "
        "GROUP BY 1, 2 HAVING count(*) > 1"
    )


def _twins_reason(user: dict[str, Any], twins: list[str]) -> str:
    kind = next(k for k, roles in to_edfi.PERSON_KINDS.items() if user.get("role") in roles)
    others = ", ".join(t for t in twins if t != user["sourcedId"])
    return f"user(s) {others} have the same identifier: two people, one Ed-Fi {kind}; not merged"


def _columns(entity: str, fields: Iterable[str]) -> list[str]:
    """The columns of the `fields` of `entity` stored in a column of their own."""
    known = store.entity(entity).fields
    columns = (known[f].column for f in fields if f in known)
    return [c for c in columns if c is not None]


_STREAMS = count()


def stream_tuples(session: Session, sql: str, **params: Any) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of a query (psycopg placeholders) as tuples, in batches, through a server-side
    cursor of the session's connection (COPYs run between fetches). Its jsonb values are decoded
    by orjson, for this cursor only: the standard decoder took a sixth of the users' pass. They
    must be lists and objects of text (sourcedIds, codes, dates): orjson reads an integer beyond
    64 bits as a float, where json keeps it."""
    # a name of its own: a stream left unfinished (an error mid-pass) keeps its cursor until the
    # transaction ends, and must not block the next one
    with driver(session).cursor(name=f"mapping_stream_{next(_STREAMS)}") as cur:
        set_json_loads(orjson.loads, cur)
        cur.execute(sql, params)
        while rows := cur.fetchmany(BATCH):
            yield rows


def stages_for(session: Session) -> dict[str, Stage]:
    return {name: Stage(session, name) for name in RESOURCES}


def write(session: Session, stages: dict[str, Stage], now: Any, origin: str) -> None:
    """Every staged resource → its Ed-Fi table and links, in dependency order. A record whose
    natural key changed (an enrollment moved to another class, a class to another term) is
    linked to its new Ed-Fi row; the old one, of `origin` and no longer anyone's projection, is
    deleted afterwards, dependents first (as the Ed-Fi DELETE: one still referenced stays)."""
    moved: dict[str, list[tuple[str, str, Any]]] = {}
    for name in RESOURCES:
        stage = stages[name]
        if not stage.filled():
            continue
        stage.upsert(now, origin, CONDITIONS.get(name, ""))
        if name in SOURCE_ENTITY:
            moved[name] = _moved_links(session, stage, origin)
            unlinked = stage.link(link_resource_of(name), origin)
            reason = "its Ed-Fi record is already the projection of another OneRoster record"
            skip(session, [(SOURCE_ENTITY[name], sid, reason) for sid in unlinked])
    for name in reversed(RESOURCES):
        left = [
            link
            for link in moved.get(name, [])
            if not session.scalar(
                sa.text("SELECT EXISTS (SELECT 1 FROM mapping_links WHERE edfi_id = :id)"),
                {"id": link[2]},
            )
        ]
        if left:
            kept = delete_linked(session, left, now, owned_by=origin)
            skip(
                session,
                [
                    (SOURCE_ENTITY[name], sid, f"moved to its new Ed-Fi record; {why}")
                    for sid, why in sorted(kept.items())
                ],
            )
    _delete_stale_associations(session, stages, now, origin)


def _delete_stale_associations(
    session: Session, stages: dict[str, Stage], now: Any, origin: str
) -> None:
    """A person projected again gets every association OneRoster gives it now: those of `origin`
    it had before and has no more (a user moved to another school, an enrollment's first day
    moved) are deleted, as the Ed-Fi DELETE (one still referenced stays, logged)."""
    reg = registry()
    for name, (person, key) in OWNED_ASSOCIATIONS.items():
        if not stages[person].filled():
            continue
        res = reg.resources[name]
        column = q(res.columns[key].name)
        person_column = q(reg.resources[person].columns[key].name)
        same = " AND ".join(f"s.{q(k)} = a.{q(k)}" for k in res.key_columns)
        stale = dict(
            session.execute(
                sa.text(
                    f"SELECT a.id, p.{SOURCED_ID} FROM {q(table_of(res).name)} a "
                    f"JOIN {stages[person].name} p ON p.{person_column} = a.{column} "
                    f"WHERE a.origin = :origin AND NOT EXISTS "
                    f"(SELECT 1 FROM {stages[name].name} s WHERE {same})"
                ),
                {"origin": origin},
            )
            .tuples()
            .all()
        )
        if stale:
            kept = delete_rows(session, res, set(stale), now)
            skip(
                session,
                [
                    ("user", stale[row_id], f"the Ed-Fi {res.entity} stays: {why}")
                    for row_id, why in kept.items()
                ],
            )


def _moved_links(session: Session, stage: Stage, origin: str) -> list[tuple[str, str, Any]]:
    """(sourcedId, link resource, old row id) of the staged records linked to another row of
    `origin` than the one just written for them: their natural key changed (for an org, its
    identifier: its Ed-Fi id)."""
    return [
        (sourced_id, resource, row_id)
        for sourced_id, resource, row_id in session.execute(
            sa.text(
                f"SELECT l.sourced_id, l.edfi_resource, l.edfi_id FROM mapping_links l "
                f"JOIN {stage.written} p ON p.{SOURCED_ID} = l.sourced_id "
                "WHERE l.edfi_resource = :resource AND l.edfi_id <> p.id AND EXISTS (SELECT 1 "
                f"FROM {q(stage.table.name)} t WHERE t.id = l.edfi_id AND t.origin = :origin)"
            ),
            {"resource": link_resource_of(stage.resource), "origin": origin},
        )
    ]
