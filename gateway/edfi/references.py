"""Reference links, descriptor and reference checks shared by the resource service."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway import precompiled
from gateway.auth.org_ids import ORG_TYPE_RESOURCES
from gateway.edfi import documents, nested
from gateway.edfi.definitions import Reference, Registry, Resource
from gateway.errors import UnresolvedReference


class DescriptorCache:
    """Descriptor values recently found to exist, per process (as the ODS caches descriptors):
    most writes then skip that look-up. Entries expire after `ttl` seconds, and this process
    forgets them all when it writes a descriptor, so a deleted value is refused again at once
    here and within `ttl` in other workers."""

    def __init__(self, ttl: float = 60.0, size: int = 20_000):
        self.ttl, self.size = ttl, size
        self.entries: dict[tuple, float] = {}

    def fresh(self, key: tuple) -> bool:
        expires = self.entries.get(key)
        return expires is not None and expires > time.monotonic()

    def remember(self, key: tuple) -> None:
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[key] = time.monotonic() + self.ttl

    def forget_all(self) -> None:
        self.entries.clear()


KNOWN_DESCRIPTORS = DescriptorCache()


def base_conditions(res: Resource) -> list[sa.ColumnElement[bool]]:
    """Descriptor resources share one table, told apart by descriptor name."""
    return [res.table.c.descriptor_name == res.entity] if res.descriptor else []


class ReferenceChecks:
    session: Session
    registry: Registry

    def links(self, res: Resource, rows: list[Any]) -> dict[str, dict]:
        """Reference name -> {key tuple: link}: one indexed lookup per reference per page."""
        out: dict[str, dict] = {}
        for ref in res.references:
            if not ref.targets:
                continue
            cols = [res.table.c[res.columns[flat].name] for _, flat in ref.fields]
            keys = {tuple(getattr(r, "_mapping", r)[c] for c in cols) for r in rows}
            keys = {k for k in keys if all(v is not None for v in k)}
            if not keys:
                continue
            found = self._links_to(ref, keys)
            out[ref.name] = found
        for ref in res.item_references:
            if ref.targets:
                assert ref.column is not None  # an item reference
                column = res.table.c[ref.column]
                self._item_links(ref, [getattr(r, "_mapping", r)[column] for r in rows], out)
        return out

    def document_item_links(self, res: Resource, docs: list[dict]) -> dict[str, dict]:
        """links() of the references inside collection items, read from documents."""
        out: dict[str, dict] = {}
        for ref in res.item_references:
            if ref.targets:
                self._item_links(ref, [doc.get(ref.steps[0][0]) for doc in docs], out)
        return out

    def _item_links(self, ref: Reference, roots: list[Any], out: dict[str, dict]) -> None:
        keys = set()
        for root in roots:
            for _path, obj in nested.reference_objects(root, ref):
                key = nested.reference_key(ref, obj)
                if key is not None:
                    keys.add(key)
        if keys:
            # item references are told apart by their path (two may share a name)
            out[ref.path] = self._links_to(ref, keys)

    def _links_to(self, ref: Reference, keys: set[tuple]) -> dict[tuple, dict]:
        found: dict = {}
        for target_name in ref.targets:
            target = self.registry.resources[target_name]
            tcols = self._target_columns(ref, target)
            stmt = sa.select(target.table.c.id, *tcols).where(sa.tuple_(*tcols).in_(list(keys)))
            for row in self.session.execute(stmt):
                found[tuple(row[1:])] = {
                    "rel": target.entity,
                    "href": f"/ed-fi/{target.name}/{row[0].hex}",
                }
        return found

    @staticmethod
    def _target_columns(ref: Reference, target: Resource) -> list[sa.Column]:
        cols = []
        for field, _flat in ref.fields:
            if field in target.columns:
                cols.append(target.table.c[target.columns[field].name])
            else:
                # an abstract reference (educationOrganizationId) names the concrete
                # target's single key
                cols.append(target.table.c[target.key_columns[0]])
        return cols

    # --- checks --------------------------------------------------------------------------------
    def check_descriptors(self, problems: documents.Problems) -> dict[str, str]:
        """Every descriptor value the body names must exist. As in the ODS/API, a value matches
        in any letter case; returns {JSON path: the descriptor's own URI} for those sent in
        another case."""
        wanted: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
        for name, uri, path in problems.descriptors:
            namespace, sep, code = uri.partition("#")
            if not sep or not namespace or not code:
                problems.add(  # the ODS/API's words
                    path,
                    f"{name} value '{uri}' is not a valid value for use as a descriptor (a '#' is "
                    "expected to delineate the namespace and code value portions).",
                )
                continue
            if not KNOWN_DESCRIPTORS.fresh((name, namespace, code)):
                wanted.setdefault((name, namespace, code), []).append((uri, path))
        d = self.registry.resources["gradeLevelDescriptors"].table
        columns = (d.c.descriptor_name, d.c.namespace, d.c.code_value)
        if wanted:
            rows = self.session.execute(
                sa.select(*columns).where(sa.tuple_(*columns).in_(list(wanted)))
            )
            for row in rows:
                wanted.pop(tuple(row), None)
                KNOWN_DESCRIPTORS.remember(tuple(row))
        canonical: dict[str, str] = {}
        if wanted:  # the rest, in any letter case (the exact match above uses the unique index)
            folded = {(n, ns.lower(), c.lower()): (n, ns, c) for n, ns, c in wanted}
            lowered = (
                d.c.descriptor_name,
                sa.func.lower(d.c.namespace),
                sa.func.lower(d.c.code_value),
            )
            rows = self.session.execute(
                sa.select(*columns, *lowered)
                .where(sa.tuple_(*lowered).in_(list(folded)))
                .order_by(*columns)
            )
            for row in rows:
                sent = folded.get(tuple(row[3:]))
                if sent is None or sent not in wanted:
                    continue
                for _uri, path in wanted.pop(sent):
                    canonical[path] = f"{row[1]}#{row[2]}"
        for (name, _ns, _code), uses in wanted.items():
            for uri, path in uses:
                problems.add(path, f"{name} value '{uri}' does not exist.")
        problems.raise_if_any()
        return canonical

    def check_references(self, res: Resource, values: dict[str, Any]) -> None:
        checks: list[tuple[Reference, dict[str, Any]]] = []
        for ref in res.references:
            if not ref.targets:
                continue  # target not served here (schoolYearTypes, graduationPlans …)
            key = {field: values.get(flat) for field, flat in ref.fields}
            if any(v is None for v in key.values()):
                continue
            checks.append((ref, key))
        missing: dict[str, list[str]] = {}
        if checks:
            # every reference of the document in one round trip: one EXISTS per target, compiled
            # once per resource and set of references given
            shape = (
                "edfi.references",
                id(self.registry),
                res.name,
                tuple(r.name for r, _ in checks),
            )
            params = {
                f"r{n}_{i}": value
                for n, (_ref, key) in enumerate(checks)
                for i, value in enumerate(key.values())
            }
            _names, rows = precompiled.fetch_all(
                self.session, shape, lambda: self._exists_statement(checks), params
            )
            for (ref, key), exists in zip(checks, rows[0], strict=True):
                if not exists:
                    shown = ", ".join(f"{k}={documents.json_value(v)}" for k, v in key.items())
                    missing[f"$.{ref.name}"] = [
                        f"The referenced '{ref.entity}' item does not exist ({shown})."
                    ]
        missing.update(self.missing_item_references(res, values))
        if missing:
            # the ODS/API's detail names the first; each reference's keys are in its error
            first = next(iter(missing.values()))[0]
            raise UnresolvedReference(first.split(" (", 1)[0] + ".", validation_errors=missing)

    def missing_item_references(self, res: Resource, values: dict[str, Any]) -> dict[str, list]:
        """References inside collection items, checked like top-level ones: one query per
        reference and target for all the items, reported by each item's JSON path."""
        missing: dict[str, list[str]] = {}
        for ref in res.item_references:
            if not ref.targets:
                continue
            uses: dict[tuple, list[str]] = {}
            for path, obj in nested.reference_objects(values.get(ref.steps[0][0]), ref):
                key = nested.reference_key(ref, obj)
                if key is not None:
                    uses.setdefault(key, []).append(path)
            if not uses:
                continue
            found = self.existing_keys(ref, list(uses))
            for key, paths in uses.items():
                if key in found:
                    continue
                shown = ", ".join(
                    f"{field}={documents.json_value(v)}"
                    for (field, _), v in zip(ref.fields, key, strict=True)
                )
                for path in paths:
                    missing[path] = [
                        f"The referenced '{ref.entity}' item does not exist ({shown})."
                    ]
        return missing

    def education_organization_ids_taken(self, res: Resource, ids: set[Any]) -> dict[Any, str]:
        """Which of `ids` another kind of education organization holds already, each with the
        reason to refuse it.

        Ed-Fi identifies every education organization (a local education agency, a school …) by
        one educationOrganizationId, the key an abstract EducationOrganization reference names: a
        school may not take an LEA's id. The ids are locked until the transaction ends, so two
        concurrent writes cannot both take one."""
        kinds = self.registry.storage["abstractTargets"].get("EducationOrganization", ())
        ids = {i for i in ids if i is not None}
        if res.name not in kinds or not ids:
            return {}
        self.session.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(hashtextextended('educationOrganizationId:' "
                "|| i::text, 0)) FROM unnest(CAST(:ids AS bigint[])) AS u(i) ORDER BY i"
            ),
            {"ids": sorted(ids)},
        )
        taken: dict[Any, str] = {}
        for other in kinds:
            if other == res.name:
                continue
            column = self.registry.resources[other].table.c[
                self.registry.resources[other].key_columns[0]
            ]
            for (value,) in self.session.execute(sa.select(column).where(column.in_(ids))):
                taken.setdefault(
                    value,
                    f"The educationOrganizationId {value} already identifies an item of "
                    f"{other}; every education organization needs its own.",
                )
        # A OneRoster org is the education organization its identifier names
        # (gateway.auth.org_ids): one of another kind, born in a CSV package, holds the id too.
        held = self.session.execute(
            sa.text(
                "SELECT identifier, type FROM organizations "
                "WHERE status = 'active' AND identifier = ANY(:names)"
            ),
            {"names": [str(i) for i in sorted(ids)]},
        )
        for identifier, org_type in held:
            if ORG_TYPE_RESOURCES.get(org_type) != res.name:
                value = int(identifier)
                taken.setdefault(
                    value,
                    f"The educationOrganizationId {value} already identifies a OneRoster org "
                    f"of type '{org_type}'; every education organization needs its own.",
                )
        return taken

    def existing_keys(self, ref: Reference, keys: list[tuple]) -> set[tuple]:
        """Which of `keys` (in the reference's field order) resolve to a stored record."""
        found: set[tuple] = set()
        for target_name in ref.targets:
            target = self.registry.resources[target_name]
            cols = self._target_columns(ref, target)
            stmt = sa.select(*cols).where(sa.tuple_(*cols).in_(keys), *base_conditions(target))
            found.update(tuple(row) for row in self.session.execute(stmt))
        return found

    def _exists_statement(self, checks: list[tuple[Reference, dict[str, Any]]]) -> sa.Select:
        """Whether each reference's record exists, its key values bound as `r<n>_<field>`."""
        return sa.select(
            *(
                sa.or_(
                    *(
                        self._exists(self.registry.resources[t], ref, n, len(key))
                        for t in ref.targets
                    )
                )
                for n, (ref, key) in enumerate(checks)
            )
        )

    def _exists(self, target: Resource, ref: Reference, n: int, size: int) -> sa.ColumnElement:
        cols = self._target_columns(ref, target)
        conditions = [c == sa.bindparam(f"r{n}_{i}", type_=c.type) for i, c in enumerate(cols)]
        assert len(conditions) == size
        return sa.exists().where(*conditions, *base_conditions(target))
