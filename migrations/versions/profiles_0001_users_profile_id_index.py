"""profiles: index users by metadata->>'profile_id' (the OneRoster user linked to a profile)

Revision ID: profiles_0001
Revises: 0001
"""

from alembic import op

revision = "profiles_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # GET /profiles/{id} looks up the linked user on every read; without this it scans users.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_users_metadata_profile_id "
        "ON users ((metadata->>'profile_id')) "
        "WHERE (metadata->>'profile_id') IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_users_metadata_profile_id")
