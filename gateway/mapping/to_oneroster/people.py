"""Rebuilding people: students (with demographics), staff and contacts as OneRoster users.

A mixin of the projection service: it reads Ed-Fi documents as an EdFiReader, and needs
`translate`, `links` and `_upsert` from the service.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any

import sqlalchemy as sa

from gateway.mapping import store
from gateway.mapping.links import Links
from gateway.mapping.to_oneroster import translate as tor
from gateway.mapping.to_oneroster.read_edfi import EdFiReader, Query


class PeopleProjector(EdFiReader):
    links: Links

    # provided by the projection service
    def translate(self, build: Callable[[tor.Ref], list[Any]]) -> list[Any]:
        raise NotImplementedError

    def _upsert(self, entity: str, records: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def _upsert_together(self, parts: list[tuple[str, list[dict[str, Any]], store.Computed]]):
        raise NotImplementedError

    @staticmethod
    def student_queries(unique_ids: set[str]) -> list[Query]:
        """What rebuilding these students reads: their associations and their documents."""
        if not unique_ids:
            return []
        ids = sorted(unique_ids)
        return [
            ("studentSchoolAssociations", {"studentUniqueId": ids}),
            ("studentEducationOrganizationAssociations", {"studentUniqueId": ids}),
            ("studentContactAssociations", {"studentUniqueId": ids}),
            ("students", {"studentUniqueId": ids}),
        ]

    def _students(self, unique_ids: set[str]) -> None:
        if not unique_ids:
            return
        schooled, organized, related, students = self.fetch_many(self.student_queries(unique_ids))
        ssas, seoas = _by(schooled, "student"), _by(organized, "student")
        scas = _by(related, "student")

        def build(ref: tor.Ref) -> list[Any]:
            out = []
            for s in students:
                uid = s["studentUniqueId"]
                out.append(
                    (
                        tor.student_user(s, ssas[uid], seoas[uid], scas[uid], ref),
                        tor.demographics(s, seoas[uid], ref),
                    )
                )
            return out

        pairs = self.translate(build)
        self._upsert_users([u for u, _ in pairs], [("demographics", [d for _, d in pairs], ())])

    def _staffs(self, unique_ids: set[str]) -> None:
        if not unique_ids:
            return
        ids = sorted(unique_ids)
        assigned, taught, placed, staffs = self.fetch_many(
            [
                ("staffEducationOrganizationAssignmentAssociations", {"staffUniqueId": ids}),
                ("staffSectionAssociations", {"staffUniqueId": ids}),
                ("staffSchoolAssociations", {"staffUniqueId": ids}),
                ("staffs", {"staffUniqueId": ids}),
            ]
        )
        assignments, sections = _by(assigned, "staff"), _by(taught, "staff")
        schools = _by(placed, "staff")
        users = self.translate(
            lambda ref: [
                tor.staff_user(
                    s,
                    assignments[s["staffUniqueId"]],
                    sections[s["staffUniqueId"]],
                    ref,
                    schools[s["staffUniqueId"]],
                )
                for s in staffs
            ]
        )
        self._upsert_users([u for u in users if u])
        roleless = [s["staffUniqueId"] for s, u in zip(staffs, users, strict=True) if u is None]
        store.tombstone(
            self.session, "user", [self.links("staffs", {"staffUniqueId": u}) for u in roleless]
        )

    def _contacts(self, unique_ids: set[str]) -> None:
        if not unique_ids:
            return
        ids = sorted(unique_ids)
        associated, contacts = self.fetch_many(
            [
                ("studentContactAssociations", {"contactUniqueId": ids}),
                ("contacts", {"contactUniqueId": ids}),
            ]
        )
        scas = _by(associated, "contact")
        students = {a["studentReference"]["studentUniqueId"] for g in scas.values() for a in g}
        schools = [
            (a["studentReference"]["studentUniqueId"], a["schoolReference"]["schoolId"])
            for a in self.fetch("studentSchoolAssociations", studentUniqueId=students)
        ]

        def build(ref: tor.Ref) -> list[Any]:
            student_orgs: dict[str, list[str]] = defaultdict(list)
            for uid, school_id in schools:
                student_orgs[uid].append(tor.org_ref(ref, school_id))
            return [
                tor.contact_user(c, scas[c["contactUniqueId"]], student_orgs, ref) for c in contacts
            ]

        users = self.translate(build)
        self._upsert_users([u for u in users if u])
        roleless = [c["contactUniqueId"] for c, u in zip(contacts, users, strict=True) if u is None]
        store.tombstone(
            self.session,
            "user",
            [self.links("contacts", {"contactUniqueId": u}) for u in roleless],
        )

    def _upsert_users(
        self,
        users: list[dict[str, Any]],
        along: list[tuple[str, list[dict[str, Any]], store.Computed]] | None = None,
    ) -> None:
        """usernames are unique in OneRoster: a person whose login is taken by another user falls
        back to their sourcedId (never someone else's account). Records of other entities
        `along` are written in the same statement when they can be."""
        along = along or []
        if not users:
            return
        names = [u["username"] for u in users]
        ids = {u["sourcedId"] for u in users}
        if len(set(names)) == len(names) and all(
            u["username"] == u["sourcedId"] or u["username"] not in ids for u in users
        ):
            # no two of these users can end with one username: the database alone decides
            self._upsert_together([("user", users, username_unless_taken()), *along])
            return
        table = store.entity("user").table
        taken: dict[str, str] = dict(
            self.session.execute(
                sa.select(table.c.username, table.c.sourced_id).where(table.c.username.in_(names))
            )
            .tuples()
            .all()
        )
        seen: dict[str, str] = {}
        for user in users:
            holder = taken.get(user["username"], seen.get(user["username"], user["sourcedId"]))
            if holder != user["sourcedId"]:
                user["username"] = user["sourcedId"]
            seen[user["username"]] = user["sourcedId"]
        self._upsert_together([("user", users, ()), *along])


@cache
def username_unless_taken() -> store.Computed:
    """The username of a user record, or its sourcedId when another user holds that username."""
    users = store.entity("user").table.name
    return (
        (
            "username",
            f"CASE WHEN EXISTS (SELECT FROM {users} u WHERE u.username = r.username "
            "AND u.sourced_id <> r.sourced_id) THEN r.sourced_id ELSE r.username END",
        ),
    )


def _by(docs: list[dict[str, Any]], person: str) -> dict[str, list[dict[str, Any]]]:
    """Association documents grouped by the person they reference (student, staff, contact)."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        out[doc[f"{person}Reference"][f"{person}UniqueId"]].append(doc)
    return out
