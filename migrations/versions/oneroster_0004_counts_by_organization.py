"""OneRoster collection counts per organization, so an organization-limited client's X-Total-Count
is a sum of a few stored figures instead of a count of every row it reaches.

A client limited to a district reaches every user of its 50 schools: counting them through the
organization condition (jsonb `?|` tested on each row) costs most of what a 100-record page costs.
The stored counts of oneroster_0002/0003 gain a third key, `org_key`, the value of the column the
table's reach rule reads (gateway.oneroster.catalogue, routes.json `reach`): the school of a class
or enrollment, the org of a course, the org itself, the jsonb list of a user's orgs as text. The
rows of a client's organizations are then the figures whose key is one of them (for users: whose
list overlaps them), each row counted once. Tables whose reach goes through another table
(demographics, line items, results) and tables without organizations keep '' as their key.

A row's key can change (a class moved to another school, a user's orgs edited), so every table with
a key gets the UPDATE trigger the discriminated tables had. The figures are rebuilt from the tables
under the locks that re-creating the triggers takes, so no write falls between them.

Revision ID: oneroster_0004
Revises: edfi_0004
"""

from alembic import op

revision = "oneroster_0004"
down_revision = "edfi_0004"
branch_labels = None
depends_on = None

# table → (the column its typed views select on, the column its reach rule reads); the same
# lists as gateway.oneroster.counts (a test compares them with the triggers' arguments).
COUNTED = {
    "academic_sessions": ("type", None),
    "organizations": ("type", "sourced_id"),
    "users": ("role", "org_ids"),
    "oneroster_courses": (None, "org_sourced_id"),
    "classes": (None, "school_sourced_id"),
    "enrollments": (None, "school_sourced_id"),
    "demographics": (None, None),
    "resources": (None, None),
    "categories": (None, None),
    "line_items": (None, None),
    "results": (None, None),
}

# A trigger argument names a column, or is '' for none; its value as text ('' when NULL).
_KEY_FUNCTION = """
CREATE OR REPLACE FUNCTION oneroster_count_discriminator(column_name text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF column_name IS NULL OR column_name = '' THEN
        RETURN '''''::text';
    END IF;
    RETURN format('coalesce(%I::text, '''')', column_name);
END $$;
"""

# Each statement's net change per (discriminator, org key): %1$s and %2$s are the two keys'
# expressions for TG_ARGV[0] and TG_ARGV[1].
_DELTAS = {
    "inserted": "SELECT $1, d, k, count(*) FROM (SELECT %1$s AS d, %2$s AS k FROM new_rows) r "
    "GROUP BY d, k",
    "deleted": "SELECT $1, d, k, -count(*) FROM (SELECT %1$s AS d, %2$s AS k FROM old_rows) r "
    "GROUP BY d, k",
    "updated": "SELECT $1, d, k, sum(x) FROM (SELECT %1$s AS d, %2$s AS k, 1 AS x FROM new_rows "
    "UNION ALL SELECT %1$s, %2$s, -1 FROM old_rows) r GROUP BY d, k HAVING sum(x) <> 0",
}


def _delta_function(name: str, delta: str, columns: str, keys: int) -> str:
    """The trigger function `name` appending `delta` into `columns`, from TG_ARGV's first `keys`
    arguments."""
    arguments = ", ".join(f"oneroster_count_discriminator(TG_ARGV[{i}])" for i in range(keys))
    return f"""
CREATE OR REPLACE FUNCTION oneroster_count_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('INSERT INTO oneroster_counts ({columns}) {delta}', {arguments})
      USING TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""


def _truncated_function(keys: str) -> str:
    """TRUNCATE cancels the table's figures (per `keys`) with rows of their own (oneroster_0003)."""
    return f"""
CREATE OR REPLACE FUNCTION oneroster_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'TRUNCATE %: counted OneRoster tables are truncated under READ COMMITTED',
            TG_TABLE_NAME USING ERRCODE = 'feature_not_supported';
    END IF;
    INSERT INTO oneroster_counts (table_name, {keys}, n)
    SELECT table_name, {keys}, -sum(n) FROM oneroster_counts
     WHERE table_name = TG_TABLE_NAME GROUP BY table_name, {keys} HAVING sum(n) <> 0;
    RETURN NULL;
END $$;
"""


# oneroster_0003's functions, for the downgrade.
_DELTAS_0003 = {
    "inserted": "SELECT $1, d, count(*) FROM (SELECT %s AS d FROM new_rows) r GROUP BY d",
    "deleted": "SELECT $1, d, -count(*) FROM (SELECT %s AS d FROM old_rows) r GROUP BY d",
    "updated": "SELECT $1, d, sum(k) FROM (SELECT %1$s AS d, 1 AS k FROM new_rows "
    "UNION ALL SELECT %1$s, -1 FROM old_rows) r GROUP BY d HAVING sum(k) <> 0",
}


def _row_triggers(table: str, args: str, with_update: bool) -> None:
    op.execute(
        f"DROP TRIGGER oneroster_count_insert ON {table};"
        f"DROP TRIGGER oneroster_count_delete ON {table};"
        f"DROP TRIGGER IF EXISTS oneroster_count_update ON {table};"
        f"CREATE TRIGGER oneroster_count_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION oneroster_count_inserted({args});"
        f"CREATE TRIGGER oneroster_count_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION oneroster_count_deleted({args})"
    )
    if with_update:  # a key that cannot change needs no UPDATE trigger, which costs every update
        op.execute(
            f"CREATE TRIGGER oneroster_count_update AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION oneroster_count_updated({args})"
        )


def _expression(column: str | None) -> str:
    return f"coalesce({column}::text, '')" if column else "''"


def upgrade() -> None:
    op.execute("ALTER TABLE oneroster_counts ADD COLUMN org_key text NOT NULL DEFAULT ''")
    op.execute("DROP INDEX ix_oneroster_counts_table_name_discriminator")
    op.execute(
        "CREATE INDEX ix_oneroster_counts_keys "
        "ON oneroster_counts (table_name, discriminator, org_key) INCLUDE (n)"
    )
    op.execute(_KEY_FUNCTION)
    for name, delta in _DELTAS.items():
        op.execute(_delta_function(name, delta, "table_name, discriminator, org_key, n", 2))
    op.execute(_truncated_function("discriminator, org_key"))
    for table, (column, key) in COUNTED.items():
        if key is None:
            continue
        # The triggers first: re-creating them locks out writers until this commits.
        _row_triggers(table, f"'{column or ''}', '{key}'", with_update=True)
        op.execute(f"DELETE FROM oneroster_counts WHERE table_name = '{table}'")
        op.execute(
            "INSERT INTO oneroster_counts (table_name, discriminator, org_key, n) "
            f"SELECT '{table}', {_expression(column)}, {_expression(key)}, count(*) "
            f"FROM {table} GROUP BY 2, 3"
        )


def downgrade() -> None:
    for table, (column, key) in COUNTED.items():
        if key is not None:
            _row_triggers(table, f"'{column}'" if column else "", with_update=column is not None)
    op.execute(
        "WITH gone AS (DELETE FROM oneroster_counts RETURNING table_name, discriminator, n) "
        "INSERT INTO oneroster_counts (table_name, discriminator, n) "
        "SELECT table_name, discriminator, sum(n) FROM gone GROUP BY 1, 2 HAVING sum(n) <> 0"
    )
    op.execute("DROP INDEX ix_oneroster_counts_keys")
    op.execute("ALTER TABLE oneroster_counts DROP COLUMN org_key")
    op.execute(
        "CREATE INDEX ix_oneroster_counts_table_name_discriminator "
        "ON oneroster_counts (table_name, discriminator) INCLUDE (n)"
    )
    for name, delta in _DELTAS_0003.items():
        op.execute(_delta_function(name, delta, "table_name, discriminator, n", 1))
    op.execute(_truncated_function("discriminator"))
