"""Tombstones and key changes keep the namespace of their record.

/deletes and /keyChanges of a resource authorized by namespace (NamespaceBased) compare the
record's namespace with the client's prefixes. They read it from the key values, which hold it
where the namespace is part of the key (assessments); an educationContent's is not, so its
tombstones matched no client. The namespace of the record is kept in its own column now; rows
written before keep it in their key values (the query reads either).

Revision ID: gen_0001
Revises: rls_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "gen_0001"
down_revision = "rls_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("edfi_tracked_changes", sa.Column("namespace", sa.String(255)))


def downgrade() -> None:
    op.drop_column("edfi_tracked_changes", "namespace")
