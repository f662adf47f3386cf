"""OneRoster CSV import jobs: status, progress, counts and the report of every import.

Revision ID: csv_0001
Revises: oneroster_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "csv_0001"
down_revision = "oneroster_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csv_import_jobs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("client_key", sa.String(64)),
        sa.Column("filename", sa.String(255)),
        sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("phase", sa.String(20)),
        sa.Column("progress_done", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("progress_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("counts", JSONB),
        sa.Column("report", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index(
        "ix_csv_import_jobs_client_key", "csv_import_jobs", ["client_key", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("csv_import_jobs")
