"""OneRoster collection counts kept by the database, so X-Total-Count of a whole collection is O(1).

`oneroster_counts` holds the number of rows of each OneRoster table per value of the column its
typed views select on (users.role, organizations.type, academic_sessions.type; '' for the others).
Statement-level AFTER triggers with transition tables keep it: one aggregate per statement, never
one per row, so a CSV bulk load or a `gateway purge` pays one GROUP BY over the rows it wrote. Any
writer (REST gradebook, CSV import, the mapping layer's projection, purge, psql) is counted, and
the figure is transactional: a rolled-back write never touched it, and a reader sees the count of
its own snapshot. An UPDATE touches a count row only when its net change is non-zero (a role
change), so ordinary updates neither lock a count row nor serialise concurrent writers. Inserts and
deletes lock the count rows they change until they commit (one statement locks them in key order),
so concurrent transactions adding rows of the same table and type queue on that row.

Revision ID: oneroster_0002
Revises: csv_0002
"""

from alembic import op

revision = "oneroster_0002"
down_revision = "csv_0002"
branch_labels = None
depends_on = None

# table → the column its typed views select on (gateway.oneroster.counts.COUNTED agrees; a test
# compares it with the triggers' arguments).
COUNTED = {
    "academic_sessions": "type",
    "organizations": "type",
    "users": "role",
    "oneroster_courses": None,
    "classes": None,
    "enrollments": None,
    "demographics": None,
    "resources": None,
    "categories": None,
    "line_items": None,
    "results": None,
}

# TG_ARGV[0] (NULL when not given) names the discriminator column; the statements are dynamic only
# in that name, each run once per writing statement. ORDER BY: count rows are locked in key order.
_FUNCTIONS = """
CREATE FUNCTION oneroster_count_discriminator(column_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF column_name IS NULL THEN
        RETURN '''''::text';
    END IF;
    RETURN format('coalesce(%I::text, '''')', column_name);
END $$;

CREATE FUNCTION oneroster_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO oneroster_counts AS c (table_name, discriminator, n)
         SELECT $1, d, count(*) FROM (SELECT %s AS d FROM new_rows) r GROUP BY d ORDER BY d
         ON CONFLICT (table_name, discriminator) DO UPDATE SET n = c.n + excluded.n',
        oneroster_count_discriminator(TG_ARGV[0])) USING TG_TABLE_NAME;
    RETURN NULL;
END $$;

CREATE FUNCTION oneroster_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO oneroster_counts AS c (table_name, discriminator, n)
         SELECT $1, d, -count(*) FROM (SELECT %s AS d FROM old_rows) r GROUP BY d ORDER BY d
         ON CONFLICT (table_name, discriminator) DO UPDATE SET n = c.n + excluded.n',
        oneroster_count_discriminator(TG_ARGV[0])) USING TG_TABLE_NAME;
    RETURN NULL;
END $$;

-- Only the net change per discriminator: an update that changes no role writes nothing.
CREATE FUNCTION oneroster_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO oneroster_counts AS c (table_name, discriminator, n)
         SELECT $1, d, sum(k) FROM (SELECT %1$s AS d, 1 AS k FROM new_rows
                                    UNION ALL SELECT %1$s, -1 FROM old_rows) r
          GROUP BY d HAVING sum(k) <> 0 ORDER BY d
         ON CONFLICT (table_name, discriminator) DO UPDATE SET n = c.n + excluded.n',
        oneroster_count_discriminator(TG_ARGV[0])) USING TG_TABLE_NAME;
    RETURN NULL;
END $$;

CREATE FUNCTION oneroster_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM oneroster_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""


def _triggers(table: str, column: str | None) -> str:
    arg = f"'{column}'" if column else ""
    statements = [
        f"CREATE TRIGGER oneroster_count_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION oneroster_count_inserted({arg})",
        f"CREATE TRIGGER oneroster_count_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION oneroster_count_deleted({arg})",
        f"CREATE TRIGGER oneroster_count_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION oneroster_count_truncated()",
    ]
    if column:  # without a discriminator an UPDATE never changes a count: no trigger, no cost
        statements.append(
            f"CREATE TRIGGER oneroster_count_update AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION oneroster_count_updated({arg})"
        )
    return ";\n".join(statements)


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE oneroster_counts (
            table_name text NOT NULL,
            discriminator text NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (table_name, discriminator)
        )
        """
    )
    op.execute(_FUNCTIONS)
    for table, column in COUNTED.items():
        # The trigger first, then the count: CREATE TRIGGER holds off writers until this commits,
        # so no write falls between the initial figure and the first counted statement.
        op.execute(_triggers(table, column))
        discriminator = f"coalesce({column}::text, '')" if column else "''"
        op.execute(
            f"INSERT INTO oneroster_counts (table_name, discriminator, n) "
            f"SELECT '{table}', {discriminator}, count(*) FROM {table} GROUP BY 2"
        )


def downgrade() -> None:
    for table, column in COUNTED.items():
        events = ["insert", "delete", "truncate"] + (["update"] if column else [])
        for event in events:
            op.execute(f"DROP TRIGGER oneroster_count_{event} ON {table}")
    for name in ("inserted", "deleted", "updated", "truncated"):
        op.execute(f"DROP FUNCTION oneroster_count_{name}()")
    op.execute("DROP FUNCTION oneroster_count_discriminator(text)")
    op.execute("DROP TABLE oneroster_counts")
