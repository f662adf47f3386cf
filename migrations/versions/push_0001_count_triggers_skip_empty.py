"""OneRoster count triggers return at once when their statement changed no row (issue 19).

The statement-level triggers of oneroster_0004 build their delta with dynamic SQL, planned anew at
every firing. An `INSERT … ON CONFLICT DO UPDATE` fires both the AFTER INSERT and the AFTER UPDATE
statement triggers whatever it did, so every projected upsert of a user planned and ran a delta
over an empty transition table, which appends nothing: the per-record Ed-Fi POST paid that once or
twice per OneRoster table it wrote. The functions now look at their transition table first (a
static query, planned once per session) and do what they did before only when it holds rows.
The figures written are the same.

Revision ID: push_0001
Revises: own_0001
"""

from alembic import op

revision = "push_0001"
down_revision = "own_0001"
branch_labels = None
depends_on = None

COLUMNS = "table_name, discriminator, org_key, n"
ARGUMENTS = "oneroster_count_discriminator(TG_ARGV[0]), oneroster_count_discriminator(TG_ARGV[1])"

# oneroster_0004's deltas (%1$s, %2$s: the two keys' expressions), and the transition table each
# reads first
DELTAS = {
    "inserted": (
        "new_rows",
        "SELECT $1, d, k, count(*) FROM (SELECT %1$s AS d, %2$s AS k FROM new_rows) r "
        "GROUP BY d, k",
    ),
    "deleted": (
        "old_rows",
        "SELECT $1, d, k, -count(*) FROM (SELECT %1$s AS d, %2$s AS k FROM old_rows) r "
        "GROUP BY d, k",
    ),
    "updated": (
        "new_rows",
        "SELECT $1, d, k, sum(x) FROM (SELECT %1$s AS d, %2$s AS k, 1 AS x FROM new_rows "
        "UNION ALL SELECT %1$s, %2$s, -1 FROM old_rows) r GROUP BY d, k HAVING sum(x) <> 0",
    ),
}


def _function(name: str, delta: str, first: str | None) -> str:
    check = f"    IF NOT EXISTS (SELECT FROM {first}) THEN\n        RETURN NULL;\n    END IF;\n"
    insert = f"EXECUTE format('INSERT INTO oneroster_counts ({COLUMNS}) {delta}', {ARGUMENTS})"
    return f"""
CREATE OR REPLACE FUNCTION oneroster_count_{name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{check if first else ""}    {insert}
      USING TG_TABLE_NAME;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    for name, (first, delta) in DELTAS.items():
        op.execute(_function(name, delta, first))


def downgrade() -> None:
    for name, (_first, delta) in DELTAS.items():
        op.execute(_function(name, delta, None))
