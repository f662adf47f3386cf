"""users keeps only the indexes a lookup needs: fewer to rebuild after a bulk CSV load.

Each users index was weighed against the queries that read the table (OneRoster REST filters and
nested lookups, an organization's reach, the CSV import's joins, the mapping layer and profiles);
`tests/csv/test_user_indexes.py` shows the plan of each query shape using its index.

- `idx_users_status (status)` indexed fifty thousand rows to find the few that are not `active`;
  as for enrollments, a partial index over the `tobedeleted` rows answers `filter=status=…` and
  the active ones match most of the table, which the primary key's order scan serves.
- `ix_users_role_sourced (role, sourced_id)`: `/teachers` and other roles but students are a few
  percent of the users and keep a partial index; `/students` (most rows) reads the primary key's
  order and skips the others.
- `idx_users_role_org (role, (org_ids->>0))` served no query: the organizations of a user are
  looked up with `@>` / `?|` on the whole list, which `ix_users_org_ids` (GIN) answers.

Revision ID: csv_0003
Revises: 0004
"""

from alembic import op

revision = "csv_0003"
down_revision = "0004"
branch_labels = None
depends_on = None

DROPPED = (
    ("idx_users_status", "(status)"),
    ("ix_users_role_sourced", "(role, sourced_id)"),
    ("idx_users_role_org", "(role, (org_ids->>0))"),
)
ADDED = (
    ("ix_users_tobedeleted", "(sourced_id) WHERE status = 'tobedeleted'"),
    ("ix_users_role_not_student", "(role, sourced_id) WHERE role <> 'student'"),
)


def upgrade() -> None:
    for name, _definition in DROPPED:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, definition in ADDED:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON users {definition}")


def downgrade() -> None:
    for name, _definition in ADDED:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, definition in DROPPED:
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON users {definition}")
