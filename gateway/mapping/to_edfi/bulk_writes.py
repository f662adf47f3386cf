"""Set-based writes of OneRoster-born records into the Ed-Fi tables.

Rows for one Ed-Fi resource are gathered in a temporary staging table (COPY from Python, or
INSERT … SELECT from SQL), then written with one `INSERT … SELECT` (an upsert where rows exist)
and linked to their sourcedIds with one more statement. The write does what the Ed-Fi service does
for a record (a change version per row from the global sequence, the etag, timestamps, `origin`),
but without the API validator: OneRoster cannot fill what Ed-Fi requires and nothing is invented.
An existing row keeps every column OneRoster leaves empty (its Ed-Fi-only fields, or a value
OneRoster dropped), so a column is only ever overwritten by a value.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.bulkload import indexes_rebuilt_after, row_count
from gateway.edfi.definitions import SYSTEM_COLUMNS, Resource, registry
from gateway.mapping.links import EDUCATION_ORGANIZATIONS, table_of

# a staging table column holding the sourcedId a row is linked to (NULL: no link), and the order
# rows were staged in (the last one staged for a natural key wins, as a write sequence would)
SOURCED_ID, SEQ = "_sourced_id", "_seq"
UNIQUE_VIOLATION = "23505"


def minted_id_sql(seq_sql: str) -> str:
    """An SQL expression minting a row's Ed-Fi `id` from its unique sequence number: the MD5 of a
    fresh 128-bit random seed (one per call, so per staging table and run) and the number. As
    unique and as unguessable as gen_random_uuid(), which costs one getrandom() call per row: on a
    district's 500,000 enrollments, 2 s of the 2.5 s their staging took. (Setting the version 4
    digits with overlay() would cost a third as much again; nothing reads them.) The expression is
    immutable, so it can define a generated column."""
    seed = secrets.token_hex(16)  # hex digits only: safe to inline as a literal
    return f"md5('{seed}' || ({seq_sql})::text)::uuid"


def driver(session: Session) -> psycopg.Connection:
    return session.connection().connection.driver_connection  # type: ignore[return-value]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@cache
def _flat_columns(resource: str) -> dict[str, tuple[tuple[str, str], ...] | str]:
    """Document property → its column, or ((reference field, column) …) for a reference."""
    res = registry().resources[resource]
    out: dict[str, tuple[tuple[str, str], ...] | str] = {}
    for prop in res.properties:
        if prop["kind"] == "reference":
            out[prop["name"]] = tuple(
                (f["name"], res.columns[f["flat"]].name) for f in prop["fields"]
            )
        else:
            out[prop["name"]] = res.columns[prop["name"]].name
    return out


# a value of these types is COPYed as it is; any other (a Decimal, a UUID) as its text
_AS_IS = frozenset((str, bool, int, float, date, datetime))
# one encoder: json.dumps with options builds a new encoder per call
_to_json = json.JSONEncoder(ensure_ascii=False).encode


class _Layout(NamedTuple):
    """Where a document's properties go, as positions in a row of `columns` (every column a
    document of the resource can fill): a scalar's, a JSON column's (a collection), and each field
    of a reference's (a reference is flattened into its fields' columns)."""

    columns: tuple[str, ...]
    scalars: dict[str, int]
    jsons: dict[str, int]
    references: dict[str, tuple[tuple[str, int], ...]]


@cache
def _row_layout(resource: str) -> _Layout:
    flat = _flat_columns(resource)
    columns = tuple(
        dict.fromkeys(
            c for t in flat.values() for c in ([t] if isinstance(t, str) else dict(t).values())
        )
    )
    at = {c: i for i, c in enumerate(columns)}
    table = table_of(registry().resources[resource])
    json_columns = {c.name for c in table.c if isinstance(c.type, sa.JSON)}
    plain = {name: t for name, t in flat.items() if isinstance(t, str)}
    return _Layout(
        columns,
        {name: at[c] for name, c in plain.items() if c not in json_columns},
        {name: at[c] for name, c in plain.items() if c in json_columns},
        {
            name: tuple((f, at[c]) for f, c in t)
            for name, t in flat.items()
            if not isinstance(t, str)
        },
    )


def data_columns(res: Resource) -> list[str]:
    return [c.name for c in table_of(res).c if c.name not in SYSTEM_COLUMNS]


class Stage:
    """The staging table of one Ed-Fi resource for one projection run."""

    def __init__(self, session: Session, resource: str) -> None:
        self.session = session
        self.resource = resource
        self.res = registry().resources[resource]
        self.table = table_of(self.res)
        self.name = f"mapping_stage_{self.table.name}"
        self.picked = f"mapping_picked_{self.table.name}"
        self.written_rows: int | None = 0
        self.sourced_ids: set[str] = set()
        self.repeated = False
        self.columns = data_columns(self.res)
        self.seq = 0
        cols = ", ".join(q(c) for c in self.columns)
        self.session.execute(sa.text(f"DROP TABLE IF EXISTS {self.name}"))
        self.session.execute(
            sa.text(
                f"CREATE TEMP TABLE {self.name} ON COMMIT DROP AS SELECT {cols}, "
                f"NULL::text AS {SOURCED_ID}, 0::bigint AS {SEQ} FROM {q(self.table.name)} "
                "WITH NO DATA"
            )
        )
        # each staged row gets the id and change version it is inserted with if it is new
        self.session.execute(
            sa.text(
                f"ALTER TABLE {self.name} ADD COLUMN id uuid GENERATED ALWAYS AS "
                f"({minted_id_sql(SEQ)}) STORED, "
                "ADD COLUMN cv bigint DEFAULT nextval('change_version_seq'), "
                "ADD COLUMN existed boolean DEFAULT false"
            )
        )
        self.written = self.name  # the table the links are made from: the stage, or `picked`

    def copy(self, docs: Iterable[tuple[dict[str, Any], str | None]]) -> None:
        """COPY Ed-Fi documents (each with the sourcedId to link, or None) into the stage, in
        one COPY: each document is a row of every column a document of the resource can fill,
        its properties placed by the resource's layout (a column it has no value for is NULL, as
        when left out)."""
        columns, scalars, jsons, references = _row_layout(self.resource)
        value = self._value
        empty: list[Any] = [None] * len(columns)
        rows = []
        for doc, sourced in docs:
            if sourced is not None:
                self.repeated = self.repeated or sourced in self.sourced_ids
                self.sourced_ids.add(sourced)
            self.seq += 1
            row: list[Any] = [*empty, sourced, self.seq]
            for name, given in doc.items():
                if given is None:
                    continue
                at = scalars.get(name)
                if at is not None:
                    row[at] = given if given.__class__ in _AS_IS else value(given)
                elif name in references:
                    for field, at in references[name]:
                        if field in given:
                            inner = given[field]
                            row[at] = inner if inner.__class__ in _AS_IS else value(inner)
                elif name in jsons:
                    row[jsons[name]] = _to_json(given)
            rows.append(row)
        names = ", ".join(q(c) for c in [*columns, SOURCED_ID, SEQ])
        copy_rows(self.session, f"COPY {self.name} ({names}) FROM STDIN", rows)

    def insert_select(self, values: dict[str, str], from_sql: str, **params: Any) -> int:
        """Stage rows computed in SQL: `values` maps Ed-Fi properties (flat names, plus
        SOURCED_ID) to SQL expressions over `from_sql`; returns how many rows were staged."""
        columns = [name if name == SOURCED_ID else self.res.columns[name].name for name in values]
        staged = self.session.execute(
            sa.text(
                f"INSERT INTO {self.name} ({', '.join(q(c) for c in columns)}, {SEQ}) "
                f"SELECT {', '.join(values.values())}, row_number() OVER () + :seq "
                f"FROM {from_sql}"
            ),
            {**params, "seq": self.seq},
        ).rowcount  # type: ignore[attr-defined]
        self.seq += staged
        return staged

    def filled(self) -> bool:
        return self.seq > 0

    @staticmethod
    def _value(value: Any) -> Any:
        """A value for a column that is not JSON, of a type outside _AS_IS: as it is when COPY
        adapts its type, else its text."""
        if value is None or isinstance(value, bool | int | float | date | datetime):
            return value
        return str(value)

    def upsert(self, now: datetime, origin: str, where: str = "") -> None:
        """Stage → the Ed-Fi table: insert, or update the columns the stage has a value for.
        `where` filters the staged rows (SQL over the alias `d`).

        When no staged row exists yet (a first load), the stage is inserted as it is, each row
        with its own id and change version. Otherwise — or when two staged rows share a natural
        key, which the insert finds out — the last row staged for each key is picked, with the
        id of the row it updates, and upserted. Either way the links need no join back to the
        Ed-Fi table."""
        keys = ", ".join(q(k) for k in self.res.key_columns)
        match = " AND ".join(f"t.{q(k)} = d.{q(k)}" for k in self.res.key_columns)
        later = " AND ".join(f"later.{q(k)} = d.{q(k)}" for k in self.res.key_columns)
        cols = ", ".join(q(c) for c in self.columns)
        condition = f" WHERE {where}" if where else ""
        params = {"now": now, "origin": origin}
        insert = (
            f"INSERT INTO {q(self.table.name)} AS t ({cols}, id, change_version, _etag, "
            "_last_modified_date, updated_at, created_at, origin) "
            "SELECT {cols}, id, cv, cv::text, :now, :now, :now, :origin FROM {source} d"
        )
        existing = self.session.scalar(
            sa.text(
                f"SELECT EXISTS (SELECT 1 FROM {self.name} d JOIN {q(self.table.name)} t "
                f"ON {match}{' AND ' + where if where else ''})"
            )
        )
        if not existing:
            plain = insert.format(cols=cols, source=self.name) + condition
            self.written_rows = insert_first(self.session, plain, params, self.table.name, self.seq)
            if self.written_rows is not None:
                self.written = self.name
                return
        # statistics for the anti-join's plan (a first load's plain insert needs none: its rows
        # are read once, in order, and sampling 500,000 staged enrollments took 0.2 s)
        self.session.execute(sa.text(f"ANALYZE {self.name}"))
        self.session.execute(sa.text(f"DROP TABLE IF EXISTS {self.picked}"))
        self.written_rows = self.session.execute(
            sa.text(
                f"CREATE TEMP TABLE {self.picked} ON COMMIT DROP AS SELECT "
                f"{', '.join('d.' + q(c) for c in self.columns)}, d.{SOURCED_ID}, d.{SEQ}, d.cv, "
                "COALESCE(t.id, d.id) AS id, t.id IS NOT NULL AS existed "
                f"FROM {self.name} d LEFT JOIN {q(self.table.name)} t ON {match} "
                # the last staged row of each key: an anti-join hashes, where DISTINCT ON sorts
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.name} later WHERE {later} "
                f"AND later.{SEQ} > d.{SEQ}){' AND ' + where if where else ''}"
            )
        ).rowcount  # type: ignore[attr-defined]
        updates = ", ".join(
            f"{q(c)} = COALESCE(EXCLUDED.{q(c)}, t.{q(c)})"
            for c in self.columns
            if c not in self.res.key_columns
        )
        self.session.execute(
            sa.text(
                f"{insert.format(cols=cols, source=self.picked)} ON CONFLICT ({keys}) DO UPDATE "
                f"SET {updates + ', ' if updates else ''}change_version = EXCLUDED.change_version, "
                "_etag = EXCLUDED._etag, _last_modified_date = EXCLUDED._last_modified_date, "
                "updated_at = EXCLUDED.updated_at"
            ),
            params,
        )
        self.written = self.picked

    def link(self, link_resource: str, origin: str) -> list[str]:
        """Link each picked row's sourcedId to the row; returns the staged sourcedIds left
        unlinked: their row is another OneRoster record's projection (two records with one
        natural key, or a row already linked), and the link table holds one sourcedId per row."""
        one_per_sid = (
            f"DISTINCT ON ({SOURCED_ID}) " if self.repeated else ""
        )  # a sourcedId staged more than once (a term, for each class) is linked once
        insert = (
            # no natural_key: a live link is found by its row's id (see gateway.mapping.links)
            "INSERT INTO mapping_links (sourced_id, edfi_resource, edfi_id, origin) "
            f"SELECT {one_per_sid}{SOURCED_ID}, CAST(:resource AS text), id, "
            "CAST(:origin AS text) "
            f"FROM {self.written} p WHERE {SOURCED_ID} IS NOT NULL AND (NOT existed OR NOT "
            "EXISTS (SELECT 1 FROM mapping_links l WHERE l.edfi_resource::text = "
            "CAST(:resource AS text) AND l.edfi_id = p.id "
            f"AND l.sourced_id <> p.{SOURCED_ID})) "
            f"{'ORDER BY ' + SOURCED_ID + ', ' + SEQ + ' DESC ' if self.repeated else ''}"
        )
        upsert = (
            f"{insert} ON CONFLICT (sourced_id) DO UPDATE SET "
            "edfi_resource = EXCLUDED.edfi_resource, edfi_id = EXCLUDED.edfi_id, "
            "natural_key = NULL"
        )
        params = {"resource": link_resource, "origin": origin}
        # a sourcedId linked before (a re-import, a record deleted and back) makes it an upsert
        linked = insert_first(self.session, insert, params, "mapping_links", self.seq)
        if linked is None:
            linked = self.session.execute(sa.text(upsert), params).rowcount  # type: ignore[attr-defined]
        if not self.repeated and self.written_rows == self.seq:
            # no row was dropped for a shared natural key: only a refused link is unlinked
            with_sid = self.session.scalar(
                sa.text(f"SELECT count(*) FROM {self.written} WHERE {SOURCED_ID} IS NOT NULL")
            )
            if linked == with_sid:
                return []
        match = " AND ".join(f"p.{q(k)} = s.{q(k)}" for k in self.res.key_columns)
        return list(
            self.session.scalars(
                sa.text(
                    f"SELECT DISTINCT s.{SOURCED_ID} FROM {self.name} s JOIN {self.written} p "
                    f"ON {match} WHERE s.{SOURCED_ID} IS NOT NULL AND NOT EXISTS (SELECT 1 "
                    f"FROM mapping_links l WHERE l.sourced_id = s.{SOURCED_ID} "
                    "AND l.edfi_id = p.id)"
                )
            )
        )


def insert_first(
    session: Session, insert: str, params: dict[str, Any], into: str = "", coming: int = 0
) -> int | None:
    """Run `insert`, a plain INSERT of rows expected to be new, inside a savepoint; returns how
    many rows it wrote, or None when one was there already (a concurrent write, a link kept from
    before), for the caller to upsert instead. The upsert's speculative insertion costs half as
    much again as a plain insert, on a first load's hundreds of thousands of rows.

    When the `coming` rows outnumber those of table `into` (a district's first load), its indexes
    and keys are built once, after the insert (gateway.bulkload); a duplicate key then shows when
    the key is added back, and the savepoint takes the table back as it was, keys included."""
    try:
        with session.begin_nested():
            conn = driver(session)  # the SAVEPOINT is only sent with the session's first use
            bulk = bool(into) and coming > row_count(conn, into, up_to=coming)
            with indexes_rebuilt_after(conn, into, bulk, empty=bulk):
                return session.execute(sa.text(insert), params).rowcount  # type: ignore[attr-defined]
    except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
        if getattr(getattr(exc, "orig", exc), "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return None


def copy_rows(session: Session, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """One COPY … FROM STDIN of the rows (text format: values as psycopg adapts them)."""
    with driver(session).cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def natural_key_sql(res: Resource, link_resource: str, alias: str = "t") -> str:
    """The natural key of row `alias` as mapping_links stores it (JSON values), built in SQL."""
    if link_resource == "educationOrganizations":
        edorg = res.columns[EDUCATION_ORGANIZATIONS[res.name]].name
        return f"jsonb_build_object('educationOrganizationId', {alias}.{q(edorg)})"
    # JSON renders a date in ISO 8601 whatever the DateStyle, as json_value does
    parts = [f"'{flat}', {alias}.{q(res.columns[flat].name)}" for flat in res.identity]
    return f"jsonb_build_object({', '.join(parts)})"


def link_resource_of(resource: str) -> str:
    return "educationOrganizations" if resource in EDUCATION_ORGANIZATIONS else resource
