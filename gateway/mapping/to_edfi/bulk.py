"""OneRoster-born rostering data (CSV imports) → the Ed-Fi tables, set-based.

Ed-Fi requires fields OneRoster never carries (a school's grade levels, a session's instructional
days, a course's identification codes …). The mapping fills what OneRoster says and leaves the rest
empty rather than invent it, so these records are written to the Ed-Fi tables directly (change
version, etag and `origin = 'oneroster'` as the Ed-Fi service sets them), not through the API
validator that would demand the missing fields. Each record is linked to its sourcedId, and the
echo guard keeps it from being projected back.

The records to project are named in a temporary table (`mapping_wanted`: entity, sourcedId), filled
from a CSV import's typed tables or from a list. Orgs, courses, classes and users are translated by
`translate` in batches (bulk_passes); enrollments, hundreds of thousands in a district, in SQL
against their class's section. Each Ed-Fi resource is then written with one upsert and linked with
one statement (bulk_writes); records marked `tobedeleted` are deleted dependents first
(bulk_deletes). Every record Ed-Fi cannot take is logged with its reason (`mapping_skipped`).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.auth import org_ids
from gateway.db import utcnow
from gateway.mapping import crosswalks as cw
from gateway.mapping import store
from gateway.mapping.origin import EDFI_FROM_ONEROSTER, projecting
from gateway.mapping.to_edfi import translate as to_edfi
from gateway.mapping.to_edfi.bulk_deletes import delete_linked
from gateway.mapping.to_edfi.bulk_passes import (
    CLASS_SECTIONS,
    SKIPPED,
    WANTED,
    Translate,
    add_wanted,
    create_work_tables,
    index_wanted,
    skip,
    stages_for,
    write,
)
from gateway.mapping.to_edfi.bulk_writes import SOURCED_ID, Stage

ORIGIN = EDFI_FROM_ONEROSTER
# projected in this order; deleted in the reverse one (dependents first)
ORDER = ("org", "course", "class", "user", "enrollment")

NOT_PLACED = "its class or user is not in Ed-Fi"
NO_ASSOCIATION = "no begin date (nor term start), no identifier, or a role without section"
ENROLLMENTS = "mapping_enrollments"


def _section_association(**extra: str) -> dict[str, str]:
    """to_edfi.section_association in SQL, over ENROLLMENTS `x`: the section of the class, the
    enrollment's dates (its class's term start when it has no begin date)."""
    return {
        "beginDate": "x.begin_date",
        "sectionIdentifier": "x.section_identifier",
        "localCourseCode": "x.local_course_code",
        "schoolId": "x.school_id",
        "schoolYear": "x.school_year",
        "sessionName": "x.session_name",
        "endDate": "x.end_date",
        **extra,
        SOURCED_ID: "x.sourced_id",
    }


def stage_enrollments(session: Session, stages: dict[str, Stage]) -> None:
    """Wanted active enrollments, joined once to their class's section and their user."""
    session.execute(sa.text(f"DROP TABLE IF EXISTS {ENROLLMENTS}"))
    session.execute(
        sa.text(
            f"CREATE TEMP TABLE {ENROLLMENTS} ON COMMIT DROP AS SELECT e.sourced_id, e.role, "
            'e."primary", COALESCE(e.begin_date, cs.term_start) AS begin_date, e.end_date, '
            "u.identifier, cs.section_identifier, cs.local_course_code, cs.school_id, "
            "cs.school_year, cs.session_name, "
            "cs.class_sourced_id IS NOT NULL AND u.sourced_id IS NOT NULL "
            # a student reaches Ed-Fi with a birth date (see bulk_passes.NO_BIRTH_DATE)
            "AND (e.role <> ALL(:students) OR COALESCE(d.birth_date, u.birth_date) IS NOT NULL "
            "OR EXISTS (SELECT 1 FROM students s WHERE s.student_unique_id = u.identifier)) "
            f"AS found FROM {WANTED} w JOIN enrollments e ON e.sourced_id = w.sourced_id "
            f"LEFT JOIN {CLASS_SECTIONS} cs ON cs.class_sourced_id = e.class_sourced_id "
            "LEFT JOIN users u ON u.sourced_id = e.user_sourced_id "
            "LEFT JOIN demographics d ON d.sourced_id = u.sourced_id AND d.status = 'active' "
            "WHERE w.entity = 'enrollment' AND e.status = 'active'"
        ),
        {"students": list(to_edfi.STUDENT_ROLES)},
    )
    placed = (
        f"{ENROLLMENTS} x WHERE x.found AND x.begin_date IS NOT NULL "
        "AND COALESCE(x.identifier, '') <> '' "
    )
    roles = {"students": list(to_edfi.STUDENT_ROLES), "staff": list(to_edfi.SECTION_STAFF_ROLES)}
    stages["studentSectionAssociations"].insert_select(
        _section_association(studentUniqueId="x.identifier"),
        placed + "AND x.role = ANY(:students)",
        **roles,
    )
    stages["staffSectionAssociations"].insert_select(
        _section_association(
            staffUniqueId="x.identifier",
            classroomPositionDescriptor='CASE WHEN x."primary" THEN :primary ELSE :other END',
        ),
        placed + "AND x.role = ANY(:staff)",
        primary=cw.classroom_position_for(True),
        other=cw.classroom_position_for(False),
        **roles,
    )
    session.execute(
        sa.text(
            f"INSERT INTO {SKIPPED} (entity, sourced_id, reason) SELECT 'enrollment', "
            "x.sourced_id, CASE WHEN x.found THEN :no_association ELSE :not_placed END "
            f"FROM {ENROLLMENTS} x WHERE NOT COALESCE(x.found AND x.begin_date IS NOT NULL "
            "AND COALESCE(x.identifier, '') <> '' "
            "AND (x.role = ANY(:students) OR x.role = ANY(:staff)), false)"
        ),
        {"not_placed": NOT_PLACED, "no_association": NO_ASSOCIATION, **roles},
    )


def delete_marked(session: Session, now: Any) -> None:
    """The Ed-Fi records linked to wanted records marked `tobedeleted`, dependents first."""
    for entity in reversed(ORDER):
        links = (
            session.execute(
                sa.text(
                    f"SELECT l.sourced_id, l.edfi_resource, l.edfi_id FROM {WANTED} w "
                    f"JOIN {store.entity(entity).table.name} r ON r.sourced_id = w.sourced_id "
                    "AND r.status = 'tobedeleted' JOIN mapping_links l ON l.sourced_id = "
                    "w.sourced_id AND l.edfi_id IS NOT NULL WHERE w.entity = :e"
                ),
                {"e": entity},
            )
            .tuples()
            .all()
        )
        if links:
            kept = delete_linked(session, list(links), now)
            skip(session, [(entity, sid, reason) for sid, reason in sorted(kept.items())])


def _rekeyed_orgs_sql() -> str:
    """The wanted orgs already in Ed-Fi whose identifier is no longer their Ed-Fi row's id."""
    held = " UNION ALL ".join(
        f"SELECT id, {column}::bigint AS edorg_id FROM {table}"
        for table, column in org_ids.edorg_resources().values()
    )
    return (
        f"SELECT o.sourced_id FROM {WANTED} w JOIN organizations o ON w.entity = 'org' "
        "AND o.sourced_id = w.sourced_id AND o.status = 'active' JOIN mapping_links l ON "
        f"l.sourced_id = o.sourced_id JOIN ({held}) e ON e.id = l.edfi_id "
        f"WHERE {org_ids.as_edorg_id_sql('o.identifier')} IS DISTINCT FROM e.edorg_id"
    )


def _want_children_of_moved(session: Session) -> None:
    """A record already in Ed-Fi that changes may change its Ed-Fi key (a class moved to another
    term is another section, a school given another identifier another school): what its Ed-Fi
    records reference it by is projected with it, so it follows to the new record and the old
    one can go. An org's: its schools, courses, classes and people; a course's classes; a
    class's enrollments. Likewise the enrollments of a user that were left out of Ed-Fi come
    along when the user changes."""
    rekeyed = session.scalars(sa.text(_rekeyed_orgs_sql())).all()
    if rekeyed:
        ids = {"ids": list(rekeyed)}
        for child, sql in (
            ("org", "SELECT sourced_id FROM organizations WHERE parent_id = ANY(:ids)"),
            ("course", "SELECT sourced_id FROM oneroster_courses WHERE org_sourced_id = ANY(:ids)"),
            ("class", "SELECT sourced_id FROM classes WHERE school_sourced_id = ANY(:ids)"),
            ("user", "SELECT sourced_id FROM users WHERE org_ids ?| CAST(:ids AS text[])"),
        ):
            add_wanted(session, child, sql, again=True, **ids)
    for child, table, parent_column, parent in (
        ("class", "classes", "course_sourced_id", "course"),
        ("enrollment", "enrollments", "class_sourced_id", "class"),
    ):  # (a parent without a link is new to Ed-Fi: its children are new to it too)
        add_wanted(
            session,
            child,
            f"SELECT DISTINCT c.sourced_id FROM {table} c JOIN {WANTED} w ON w.entity = "
            f"'{parent}' AND w.sourced_id = c.{parent_column} JOIN mapping_links l ON "
            "l.sourced_id = w.sourced_id AND l.edfi_id IS NOT NULL WHERE c.status = 'active'",
            again=True,
        )
    # a user now placed in Ed-Fi (a student whose demographics gave a birth date) brings the
    # enrollments Ed-Fi could not take before
    add_wanted(
        session,
        "enrollment",
        f"SELECT e.sourced_id FROM enrollments e JOIN {WANTED} w ON w.entity = 'user' "
        "AND w.sourced_id = e.user_sourced_id WHERE e.status = 'active' AND NOT EXISTS "
        "(SELECT 1 FROM mapping_links l WHERE l.sourced_id = e.sourced_id "
        "AND l.edfi_id IS NOT NULL)",
        again=True,
    )


def project_wanted(session: Session) -> int:
    """Project the records named in the work table; returns how many Ed-Fi could not take."""
    _want_children_of_moved(session)
    index_wanted(session)
    now = utcnow()
    with projecting(session):
        stages = stages_for(session)
        passes = Translate(session, stages)
        passes.orgs_and_courses()
        passes.classes()
        passes.users()
        session.execute(sa.text(f"ANALYZE {CLASS_SECTIONS}"))
        stage_enrollments(session, stages)
        write(session, stages, now, ORIGIN)
        delete_marked(session, now)
    return session.scalar(sa.text(f"SELECT count(*) FROM {SKIPPED}")) or 0


def skipped(session: Session, limit: int | None = None) -> list[tuple[str, str, str]]:
    """(entity, sourcedId, reason) of the records the last projection left out of Ed-Fi."""
    rows = session.execute(
        sa.text(f"SELECT entity, sourced_id, reason FROM {SKIPPED} ORDER BY n LIMIT :n"),
        {"n": limit},
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def want(session: Session, sourced_ids: dict[str, list[str]]) -> None:
    """Name the records to project (OneRoster entity → sourcedIds)."""
    create_work_tables(session)
    for entity, ids in sourced_ids.items():
        add_wanted(
            session,
            entity,
            "SELECT DISTINCT sourced_id FROM unnest(CAST(:ids AS text[])) AS u(sourced_id)",
            ids=list(ids),
        )


def project_import(
    session: Session, sourced_ids: dict[str, list[str]]
) -> list[tuple[str, str, str]]:
    """OneRoster sourcedIds by entity → Ed-Fi, in the caller's transaction. Returns (entity,
    sourcedId, reason) for each record Ed-Fi could not take, for the import log."""
    want(session, sourced_ids)
    project_wanted(session)
    return skipped(session)


# The CSV import's file names → the OneRoster entities the mapping projects into Ed-Fi.
IMPORT_FILES = {
    "orgs": "org",
    "courses": "course",
    "classes": "class",
    "users": "user",
    "demographics": "user",  # a student's demographics live on its Ed-Fi records
    "enrollments": "enrollment",
}


def project_oneroster_import(session: Session, typed_tables: dict[str, str]) -> None:
    """The CSV importer's hook (gateway.oneroster.csv.projection): every record an import wrote
    (`kind` new, changed or delete) is projected into Ed-Fi in the import's transaction."""
    create_work_tables(session)
    named: set[str] = set()
    for name, table in typed_tables.items():
        entity = IMPORT_FILES.get(name)
        if entity is not None:  # sourcedIds are unique within a file (the import checks it)
            rows = f'SELECT sourced_id FROM "{table}" WHERE kind IS NOT NULL'  # noqa: S608
            add_wanted(session, entity, rows, again=entity in named)
            named.add(entity)
    left_out = project_wanted(session)
    log = logging.getLogger(__name__)
    if left_out:
        log.info("%d records not projected to Ed-Fi", left_out)
    for entity, sourced_id, reason in skipped(session, 20):
        log.info("not projected to Ed-Fi: %s %s: %s", entity, sourced_id, reason)
