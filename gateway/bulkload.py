"""Loading many rows into a table that has few: build its secondary indexes once, afterwards.

Shared by the CSV importer (its OneRoster tables) and the mapping's projection (the Ed-Fi tables
and `mapping_links`), whose first loads are a district's hundreds of thousands of rows.

Maintaining seven btree and GIN indexes row by row costs several times the insert itself. When a
file brings more rows than the table holds (a first load, in practice), the secondary indexes are
dropped inside the import's transaction and rebuilt from their own definitions before it commits
(partial indexes excepted). The price is that readers of that one table wait for the commit;
unique constraints stay, so the checks they make are never skipped. Into an empty table the primary
key and the unique constraints go too (unless a foreign key leans on them) and are added back from
their own definitions: one sort of the keys is cheaper than keeping a btree ordered row by row
(which also needs the rows sorted on their way in), and adding them back still checks that every
key is unique, failing with the same constraint name. A rollback restores the indexes and keys.
Only the tables' owner may (the operator's `gateway import-csv`); an import over HTTP runs as the
serving role and maintains the indexes row by row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

# Partial indexes stay: they cover the few rows their predicate picks, so keeping them costs a
# predicate test per row where a rebuild would read the whole table again.
_SECONDARY = """
    SELECT i.indexname, i.indexdef FROM pg_indexes i
      JOIN pg_index x ON x.indexrelid = format('%%I.%%I', i.schemaname, i.indexname)::regclass
     WHERE i.schemaname = current_schema() AND i.tablename = %s AND x.indpred IS NULL
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                        WHERE c.conrelid = %s::regclass AND c.conname = i.indexname)
     ORDER BY i.indexname
"""


_KEYS = """
    SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
     WHERE conrelid = %s::regclass AND contype IN ('p', 'u')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                        WHERE f.contype = 'f' AND f.confrelid = %s::regclass)
     ORDER BY contype  -- the primary key first: it proves the rows unique before the rest
"""


# TRUNCATE refuses a table another table's foreign key refers to.
_TRUNCATABLE = """
    SELECT NOT EXISTS (SELECT 1 FROM pg_constraint
                        WHERE contype = 'f' AND confrelid = %s::regclass AND conrelid <> confrelid)
       AND NOT EXISTS (SELECT 1 FROM {} LIMIT 1)
"""


def row_count(conn: psycopg.Connection, table: str, up_to: int | None = None) -> int:
    """The table's rows; with `up_to`, counted no further than that (enough to compare with the
    rows coming, without reading a big table through)."""
    name = sql.Identifier(table)
    query = (
        sql.SQL("SELECT count(*) FROM {}").format(name)
        if up_to is None
        else sql.SQL("SELECT count(*) FROM (SELECT FROM {} LIMIT {}) t").format(
            name, sql.Literal(up_to)
        )
    )
    row = conn.execute(query).fetchone()
    return row[0] if row else 0


def owns(conn: psycopg.Connection, table: str) -> bool:
    """Whether the connection's role may drop and rebuild `table`'s indexes: its owner (the
    operator's commands). The serving role owns nothing (gateway.dbroles): its loads keep them."""
    row = conn.execute(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class "
        "WHERE oid = %s::regclass",
        (table,),
    ).fetchone()
    return bool(row and row[0])


@contextmanager
def indexes_rebuilt_after(
    conn: psycopg.Connection, table: str, enabled: bool, empty: bool = False
) -> Iterator[None]:
    """`enabled`: drop and rebuild the secondary indexes; `empty`: the primary key and unique
    constraints as well (the table holds no rows; or few, when the caller can retry without this
    on a duplicate key: adding the constraint back fails on one). Only an empty table is emptied."""
    if not enabled or not owns(conn, table):
        yield
        return
    indexes = conn.execute(_SECONDARY, (table, table)).fetchall()
    keys = conn.execute(_KEYS, (table, table)).fetchall() if empty else []
    for name, _definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    for name, _definition in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    if empty:
        # Emptying a table that is still empty once locked (dropping its indexes locked it
        # already) changes nothing but its file: one new in this transaction, which a server
        # with wal_level=minimal writes once, to the table, instead of also to the WAL.
        name = sql.Identifier(table)
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(name))
        if conn.execute(sql.SQL(_TRUNCATABLE).format(name), (table,)).fetchone() == (True,):
            conn.execute(sql.SQL("TRUNCATE {}").format(name))
    yield
    for name, definition in keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
        )
    for _name, definition in indexes:
        conn.execute(definition)
