"""sourcedIds compare bytewise; enrollments keep only the indexes that earn their build; import jobs
hold a lease.

- Every OneRoster sourcedId and reference column (and the mapping links' sourcedId) gets
  `COLLATE "C"`. They are identifiers, not words: byte order is a valid order for them (the REST
  sort's tie-break by sourcedId stays stable), and a btree on them sorts several times faster
  than under a libc locale, which is most of what rebuilding the indexes after a bulk CSV load
  costs. No table is rewritten, only the indexes on these columns.
- `enrollments (status)` and `enrollments (role)` indexed half a million rows to find the few that
  are not `active` / not students. Partial indexes over just those rows answer the same filters
  (`status='tobedeleted'`, `role='teacher'`…) for almost nothing; the common values match most
  of the table, so the primary key's order scan serves them better than any index would.
- The nested lookups (`/classes/{id}/students|teachers`, `…/classes/{id}/enrollments`,
  `/users/{id}/classes`) look enrollments up by class or by user: the other columns they read
  ride along as INCLUDE columns instead of key columns, which the build need not sort by.
- `users (status)` was indexed twice (idx_users_status from the core model, ix_users_status).
- `csv_import_jobs` records who runs a job and a lease renewed while it runs, so a job whose
  worker died is reported `failed` instead of `running` forever.

Revision ID: csv_0002
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "csv_0002"
down_revision = "0003"
branch_labels = None
depends_on = None

# table → its columns holding a sourcedId (its own, or one it refers to)
SOURCED_ID_COLUMNS = {
    "organizations": ("sourced_id", "parent_id"),
    "users": ("sourced_id",),
    "academic_sessions": ("sourced_id", "parent_sourced_id"),
    "oneroster_courses": ("sourced_id", "school_year_sourced_id", "org_sourced_id"),
    "classes": ("sourced_id", "course_sourced_id", "school_sourced_id"),
    "enrollments": ("sourced_id", "user_sourced_id", "class_sourced_id", "school_sourced_id"),
    "demographics": ("sourced_id",),
    "categories": ("sourced_id",),
    "line_items": (
        "sourced_id",
        "class_sourced_id",
        "category_sourced_id",
        "grading_period_sourced_id",
    ),
    "results": ("sourced_id", "line_item_sourced_id", "student_sourced_id"),
    "resources": ("sourced_id",),
    "class_resources": ("sourced_id", "class_sourced_id", "resource_sourced_id"),
    "course_resources": ("sourced_id", "course_sourced_id", "resource_sourced_id"),
    # The mapping layer joins its links to the tables above by sourcedId: a comparison between
    # two collations could not use the links' primary key.
    "mapping_links": ("sourced_id",),
}

# (name suffix, definition) of the enrollment lookups by class and by user, before and after
ENROLLMENT_LOOKUPS_BEFORE = (
    ("class_role_user", "(class_sourced_id, role, user_sourced_id)"),
    ("user_class", "(user_sourced_id, class_sourced_id)"),
)
ENROLLMENT_LOOKUPS = (
    ("class", "(class_sourced_id) INCLUDE (role, user_sourced_id)"),
    ("user", "(user_sourced_id) INCLUDE (class_sourced_id)"),
)


def _collate(collation: str) -> None:
    for table, columns in SOURCED_ID_COLUMNS.items():
        changes = ", ".join(
            f'ALTER COLUMN {c} TYPE varchar(255) COLLATE "{collation}"' for c in columns
        )
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    # Dropped before the collation changes, which rebuild every index on the columns.
    for name in ("enrollments_status", "enrollments_role", "users_status"):
        op.execute(f"DROP INDEX IF EXISTS ix_{name}")
    for name, _definition in ENROLLMENT_LOOKUPS_BEFORE:
        op.execute(f"DROP INDEX IF EXISTS ix_enrollments_{name}")
    _collate("C")
    for name, definition in ENROLLMENT_LOOKUPS:
        op.execute(f"CREATE INDEX ix_enrollments_{name} ON enrollments {definition}")
    op.execute(
        "CREATE INDEX ix_enrollments_tobedeleted ON enrollments (sourced_id) "
        "WHERE status = 'tobedeleted'"
    )
    op.execute(
        "CREATE INDEX ix_enrollments_role_not_student ON enrollments (role, sourced_id) "
        "WHERE role <> 'student'"
    )
    op.add_column("csv_import_jobs", sa.Column("worker", sa.String(255)))
    op.add_column("csv_import_jobs", sa.Column("lease_expires_at", sa.DateTime(timezone=True)))
    op.execute(
        "CREATE INDEX ix_csv_import_jobs_unfinished ON csv_import_jobs (lease_expires_at) "
        "WHERE status IN ('queued', 'running')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_csv_import_jobs_unfinished")
    for column in ("lease_expires_at", "worker"):
        op.drop_column("csv_import_jobs", column)
    op.execute("DROP INDEX IF EXISTS ix_enrollments_role_not_student")
    op.execute("DROP INDEX IF EXISTS ix_enrollments_tobedeleted")
    for name, _definition in ENROLLMENT_LOOKUPS:
        op.execute(f"DROP INDEX IF EXISTS ix_enrollments_{name}")
    for name, definition in ENROLLMENT_LOOKUPS_BEFORE:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_enrollments_{name} ON enrollments {definition}")
    op.execute("CREATE INDEX IF NOT EXISTS ix_users_status ON users (status)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_enrollments_role ON enrollments (role)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_enrollments_status ON enrollments (status)")
    _collate("default")
