"""OneRoster collection counts without writer contention: writers append deltas, never update.

oneroster_0002 kept one row per (table, discriminator) and upserted it, so a statement inserting
or deleting rows held that row until its transaction ended: a long CSV import queued every Ed-Fi
student create behind it, and two transactions touching several roles in opposite orders could
deadlock. Here every counted statement appends its net change per discriminator as new rows; no
writer updates or deletes a count row, so writers never wait for one another on the counts. The
figure is the sum of a key's rows, still transactional (a rolled-back statement's rows vanish
with it). gateway.oneroster.counts.compact() folds a key's rows back into one, race-free, outside
any request.

Revision ID: oneroster_0003
Revises: csv_0003
"""

from alembic import op

revision = "oneroster_0003"
down_revision = "csv_0003"
branch_labels = None
depends_on = None

# Each trigger's aggregate over its transition table(s), one row per discriminator; %s (%1$s) is
# the discriminator expression oneroster_count_discriminator() renders for TG_ARGV[0].
_DELTAS = {
    "inserted": "SELECT $1, d, count(*) FROM (SELECT %s AS d FROM new_rows) r GROUP BY d",
    "deleted": "SELECT $1, d, -count(*) FROM (SELECT %s AS d FROM old_rows) r GROUP BY d",
    # Only the net change per discriminator: an update that changes no role appends nothing.
    "updated": "SELECT $1, d, sum(k) FROM (SELECT %1$s AS d, 1 AS k FROM new_rows "
    "UNION ALL SELECT %1$s, -1 FROM old_rows) r GROUP BY d HAVING sum(k) <> 0",
}

# oneroster_0002's upsert, for the downgrade (its rows locked in key order).
_UPSERT = " ORDER BY d ON CONFLICT (table_name, discriminator) DO UPDATE SET n = c.n + excluded.n"


def _delta_function(name: str, suffix: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION oneroster_count_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO oneroster_counts AS c (table_name, discriminator, n) {_DELTAS[name]}{suffix}',
        oneroster_count_discriminator(TG_ARGV[0])) USING TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""


# TRUNCATE cancels the table's figure with rows of its own instead of deleting rows a compaction
# may hold. Its ACCESS EXCLUSIVE lock has waited for every writer of the table, and a compaction
# is net zero in any snapshot, so the sum read here (a fresh statement snapshot under READ
# COMMITTED) is the table's whole figure. A REPEATABLE READ snapshot may predate the lock and miss
# writers that committed meanwhile: refused rather than counted wrong.
_TRUNCATED = """
CREATE OR REPLACE FUNCTION oneroster_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'TRUNCATE %: counted OneRoster tables are truncated under READ COMMITTED',
            TG_TABLE_NAME USING ERRCODE = 'feature_not_supported';
    END IF;
    INSERT INTO oneroster_counts (table_name, discriminator, n)
    SELECT table_name, discriminator, -sum(n) FROM oneroster_counts
     WHERE table_name = TG_TABLE_NAME GROUP BY 1, 2 HAVING sum(n) <> 0;
    RETURN NULL;
END $$;
"""

_TRUNCATED_0002 = """
CREATE OR REPLACE FUNCTION oneroster_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM oneroster_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute("ALTER TABLE oneroster_counts DROP CONSTRAINT oneroster_counts_pkey")
    # A reader sums its key's rows from the index alone (n included).
    op.execute(
        "CREATE INDEX ix_oneroster_counts_table_name_discriminator "
        "ON oneroster_counts (table_name, discriminator) INCLUDE (n)"
    )
    for name in _DELTAS:
        op.execute(_delta_function(name, ""))
    op.execute(_TRUNCATED)


def downgrade() -> None:
    op.execute(
        "WITH gone AS (DELETE FROM oneroster_counts RETURNING table_name, discriminator, n) "
        "INSERT INTO oneroster_counts (table_name, discriminator, n) "
        "SELECT table_name, discriminator, sum(n) FROM gone GROUP BY 1, 2"
    )
    op.execute("DROP INDEX ix_oneroster_counts_table_name_discriminator")
    op.execute("ALTER TABLE oneroster_counts ADD PRIMARY KEY (table_name, discriminator)")
    for name in _DELTAS:
        op.execute(_delta_function(name, _UPSERT))
    op.execute(_TRUNCATED_0002)
