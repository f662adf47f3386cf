"""Import jobs say what they import: a OneRoster CSV package or an Ed-Fi bulk package.

Ed-Fi bulk jobs (`/data/v3/bulkOperations`) are recorded, leased and swept like CSV import jobs, in
the same table; `kind` tells them apart, and each API lists and reads only its own. Existing rows
are CSV imports. Adding a column with a constant default rewrites nothing (PostgreSQL keeps the
default in the catalogue), so the table is locked only for the catalogue change.

Revision ID: bulk_0001
Revises: rls_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "bulk_0001"
down_revision = "rls_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "csv_import_jobs",
        sa.Column("kind", sa.String(20), nullable=False, server_default="oneroster-csv"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM csv_import_jobs WHERE kind <> 'oneroster-csv'")
    op.drop_column("csv_import_jobs", "kind")
