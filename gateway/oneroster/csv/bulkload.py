"""Loading many rows into a table that has few: build its secondary indexes once, afterwards.

Maintaining seven btree and GIN indexes row by row costs several times the insert itself. When a
file brings more rows than the table holds (a first load, in practice), the secondary indexes are
dropped inside the import's transaction and rebuilt from their own definitions before it commits.
The price is that readers of that one table wait for the commit; the primary key and unique
constraints stay, so the checks they make are never skipped. A rollback restores the indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

_SECONDARY = """
    SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = %s
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                        WHERE c.conrelid = %s::regclass AND c.conname = i.indexname)
     ORDER BY i.indexname
"""


def row_count(conn: psycopg.Connection, table: str) -> int:
    found = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    row = found.fetchone()
    return row[0] if row else 0


@contextmanager
def indexes_rebuilt_after(conn: psycopg.Connection, table: str, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    indexes = conn.execute(_SECONDARY, (table, table)).fetchall()
    for name, _definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    for _name, definition in indexes:
        conn.execute(definition)
