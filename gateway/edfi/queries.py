"""Collection reads: filters on scalars and flattened reference keys, offset and cursor paging,
change-version windows, /deletes, /keyChanges, /partitions. Rows are read as plain mappings and
serialised directly (no ORM objects)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, aggregate_order_by
from sqlalchemy.orm import Session

from gateway.auth.row_security import EDFI_POLICIES, within_reach
from gateway.edfi import documents, jsonsql, paging
from gateway.edfi.definitions import Registry, Resource, tracked_changes
from gateway.edfi.references import base_conditions
from gateway.edfi.security import Authorizer
from gateway.edfi.service import ResourceService
from gateway.errors import ParameterValidationFailed, ValidationFailed


@dataclass
class Page:
    body: str  # the JSON array, already serialised
    ids: list[str]
    total_count: int | None = None
    next_page_token: str | None = None


def _lower_args(args: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in args.items()}


def _parse_filter(res: Resource, name: str, raw: str) -> tuple[sa.Column, Any]:
    column = res.columns[name]
    spec = column.spec
    t, fmt = spec.get("type"), spec.get("format")
    try:
        if column.kind == "json":
            raise ValueError
        if t == "integer":
            value: Any = int(raw)
            sql_type = res.table.c[column.name].type
            limit = 2**63 if isinstance(sql_type, sa.BigInteger) else 2**31
            if not -limit <= value < limit:
                raise ValueError
        elif t == "number":
            value = float(raw)
        elif t == "boolean":
            if raw.lower() not in ("true", "false"):
                raise ValueError
            value = raw.lower() == "true"
        elif fmt == "date":
            value = date.fromisoformat(raw)
        elif fmt == "date-time":
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        else:
            value = raw
    except ValueError:
        raise ParameterValidationFailed(
            f"The value '{raw}' is not valid for {name}.",
            validation_errors={name: [f"The value '{raw}' is not valid for {name}."]},
        ) from None
    return res.table.c[column.name], value


def serializer(res: Resource) -> documents.Serializer:
    plan = _serializers.get(res.name)
    if plan is None:
        plan = _serializers[res.name] = documents.Serializer(
            res, [c.name for c in res.table.columns]
        )
    return plan


_serializers: dict[str, documents.Serializer] = {}


def change_window(column: sa.Column, p: paging.Paging) -> list[sa.ColumnElement[bool]]:
    """minChangeVersion / maxChangeVersion as conditions on a change-version column."""
    out = []
    if p.min_change_version is not None:
        out.append(column >= p.min_change_version)
    if p.max_change_version is not None:
        out.append(column <= p.max_change_version)
    return out


class CollectionReader:
    def __init__(self, session: Session, registry: Registry, authorizer: Authorizer):
        self.session = session
        self.registry = registry
        self.auth = authorizer

    def _filters(self, res: Resource, args: dict[str, str]) -> list[sa.ColumnElement[bool]]:
        by_lower = {flat.lower(): flat for flat, c in res.columns.items() if c.kind != "json"}
        conditions = list(base_conditions(res))
        for key, raw in args.items():
            if key in paging.PAGING_PARAMS:
                continue
            if "\x00" in raw:
                raise ParameterValidationFailed(f"The value of '{key}' is not valid.")
            if key == "id":
                wanted = documents.parse_id(raw)
                if wanted is None:
                    raise ValidationFailed(
                        documents.VALIDATION_DETAIL,
                        validation_errors={"$.id": [f"The value '{raw}' is not valid for Id."]},
                    )
                conditions.append(res.table.c.id == wanted)
                continue
            flat = by_lower.get(key)
            if flat is None:
                # as the ODS/API: a parameter that names no property is ignored (clients add
                # their own, e.g. correlationId)
                continue
            column, value = _parse_filter(res, flat, raw)
            conditions.append(column == value)
        scope = self.auth.collection_filter(res)
        if scope is not None:
            conditions.append(scope)
        return conditions

    def read(self, res: Resource, raw_args: Any) -> Page:
        args = _lower_args(raw_args)
        p = paging.parse(args)
        table = res.table
        conditions = self._filters(res, args)
        conditions += change_window(table.c.change_version, p)
        total = None
        # the page's ids first (an index scan), then the documents for those ids only: rows that
        # OFFSET skips are never serialised
        page = sa.select(table.c.id).where(*conditions).order_by(table.c.id)
        if p.cursor:
            if p.after is not None:
                page = page.where(table.c.id > p.after)
            if p.upper is not None:
                page = page.where(table.c.id <= p.upper)
            page = page.limit(p.limit)
        else:
            page = page.offset(p.offset).limit(p.limit)
        ids: Any
        with within_reach(self.session, self.auth.reach(res), EDFI_POLICIES) as secured:
            if p.total_count:
                total = self.session.scalar(
                    sa.select(sa.func.count()).select_from(table).where(*conditions)
                )
            if p.limit == 0:
                return Page("[]", [], total)
            if secured:
                # The database picks the page's rows under the client's reach; their documents
                # are read after, so that links to referenced records the client may not read
                # are kept (gateway.edfi.service.ResourceService.get says why).
                page_ids = list(self.session.scalars(page))
                ids = sa.bindparam("page_ids", page_ids, type_=ARRAY(UUID(as_uuid=True)))
        if not secured:
            # id = ANY(ARRAY(page)): an index look-up per id (a join may be planned as a seq scan)
            ids = sa.func.array(page.correlate(None).scalar_subquery())
        document = jsonsql.document_column(res, self.registry)
        columns = [table.c.id, document] if document is not None else list(table.c)
        stmt = sa.select(*columns).where(table.c.id == sa.any_(ids)).order_by(table.c.id)
        rows = list(self.session.execute(stmt).all())
        # as the ODS/API 7.3: every non-empty page names the next one, whichever paging asked for
        # it, so a client that starts without pageSize can follow the tokens to the end
        token = paging.encode_token(rows[-1].id, p.upper) if rows else None
        if document is not None:
            texts = [r[1] for r in rows]
            if rows and any(ref.targets for ref in res.item_references):
                texts = self._with_item_links(res, texts)
        else:
            links = ResourceService(self.session, self.registry, self.auth).links(res, rows)
            serialize = serializer(res)
            texts = [json.dumps(serialize(r, links), ensure_ascii=False) for r in rows]
        return Page("[" + ",".join(texts) + "]", [r.id.hex for r in rows], total, token)

    def _with_item_links(self, res: Resource, texts: list[str]) -> list[str]:
        """The database's documents with links on the references inside collection items (found
        with one query per reference for the page, as for a single record)."""
        docs = [json.loads(t) for t in texts]
        service = ResourceService(self.session, self.registry, self.auth)
        links = service.document_item_links(res, docs)
        for doc in docs:
            documents.add_item_links(res.item_references, doc, links)
        return [json.dumps(doc, ensure_ascii=False) for doc in docs]

    def partitions(self, res: Resource, raw_args: Any) -> list[str]:
        """Page tokens splitting the (filtered) collection into `number` similar id ranges."""
        args = _lower_args(raw_args)
        raw = args.pop("number", None)
        small = args.pop("allowsmallpartitions", "false").lower() == "true"
        try:
            number = paging.DEFAULT_PARTITIONS if raw is None else int(raw)
        except ValueError:
            number = 0
        if not 1 <= number <= paging.MAX_PARTITIONS:
            rule = f"Number of partitions must be between 1 and {paging.MAX_PARTITIONS}."
            raise ParameterValidationFailed(
                paging.INVALID_REQUEST, errors=[rule], validation_errors={"number": [rule]}
            )
        window = paging.parse(
            {k: v for k, v in args.items() if k in ("minchangeversion", "maxchangeversion")}
        )
        conditions = self._filters(res, args) + change_window(res.table.c.change_version, window)
        if not small:
            # as the ODS/API: no partition smaller than five of the largest pages
            with within_reach(self.session, self.auth.reach(res), EDFI_POLICIES):
                total = self.session.scalar(
                    sa.select(sa.func.count()).select_from(res.table).where(*conditions)
                )
            number = max(1, min(number, math.ceil((total or 0) / paging.MIN_PARTITION_SIZE)))
        table = res.table
        part = sa.func.ntile(number).over(order_by=table.c.id).label("part")
        inner = sa.select(table.c.id, part).where(*conditions).subquery()
        # the last id of each part (PostgreSQL has no max(uuid)): where the next row's part differs
        following = sa.func.lead(inner.c.part).over(order_by=inner.c.id).label("next_part")
        edges = sa.select(inner.c.id, inner.c.part, following).subquery()
        with within_reach(self.session, self.auth.reach(res), EDFI_POLICIES):
            uppers = self.session.scalars(
                sa.select(edges.c.id)
                .where(edges.c.next_part.is_distinct_from(edges.c.part))
                .order_by(edges.c.id)
            ).all()
        tokens, previous = [], None
        for upper in uppers:
            tokens.append(paging.encode_token(previous, upper))
            previous = upper
        return tokens

    def tracked(
        self, res: Resource, kind: str, raw_args: Any
    ) -> tuple[list[dict[str, Any]], int | None]:
        """/deletes and /keyChanges: tombstones and key changes in change-version order, and
        their number when totalCount=true asks for it."""
        args = _lower_args(raw_args)
        p = paging.parse_tracked(args)
        t = tracked_changes
        conditions = [t.c.resource == res.name, t.c.kind == kind]
        conditions += change_window(t.c.change_version, p)
        plan = self.auth.plan(res, "ReadChanges")
        if plan.namespace:
            namespace = t.c.old_key_values["namespace"].astext
            conditions.append(
                sa.or_(
                    sa.false(),
                    *(
                        namespace.startswith(p, autoescape=True)
                        for p in self.auth.namespace_prefixes
                    ),
                )
            )
        if plan.relationships and not res.descriptor:
            ids = sorted(self.auth.scope.edfi_ids)
            element = (
                sa.func.jsonb_array_elements_text(t.c.edorg_ids).table_valued("value").alias("e")
            )
            conditions.append(
                sa.exists(
                    sa.select(sa.literal(1))
                    .select_from(element)
                    .where(sa.cast(element.c.value, sa.BigInteger).in_(ids))
                )
            )
        if kind == "keyChange":
            # as the ODS/API: one entry per record in the window, from its first old key to its
            # last new key, at the change version of its last key change
            def first(column: sa.Column, *order: Any) -> sa.ColumnElement:
                agg = sa.func.array_agg(aggregate_order_by(column, *order), type_=ARRAY(JSONB))
                return agg[1]

            entries = (
                sa.select(
                    t.c.id,
                    sa.func.max(t.c.change_version).label("change_version"),
                    first(t.c.old_key_values, t.c.change_version).label("old_key_values"),
                    first(t.c.new_key_values, t.c.change_version.desc()).label("new_key_values"),
                )
                .where(*conditions)
                .group_by(t.c.id)
                .subquery()
            )
        else:
            entries = sa.select(t).where(*conditions).subquery()
        stmt = sa.select(entries).order_by(entries.c.change_version).offset(p.offset).limit(p.limit)
        out = []
        total = None
        with within_reach(self.session, self.auth.reach(res, "ReadChanges"), EDFI_POLICIES):
            if p.total_count:
                total = self.session.scalar(sa.select(sa.func.count()).select_from(entries))
            rows = self.session.execute(stmt).mappings().all()
        for row in rows:
            item: dict[str, Any] = {"id": row["id"].hex, "changeVersion": row["change_version"]}
            if kind == "delete":
                item["keyValues"] = row["old_key_values"]
            else:
                item["oldKeyValues"] = row["old_key_values"]
                item["newKeyValues"] = row["new_key_values"]
            out.append(item)
        return out, total


def available_change_versions(session: Session) -> dict[str, int]:
    newest = session.scalar(
        sa.text("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_version_seq")
    )
    return {"oldestChangeVersion": 0, "newestChangeVersion": int(newest or 0)}
