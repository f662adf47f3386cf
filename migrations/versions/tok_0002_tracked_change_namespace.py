"""A tombstone keeps its record's namespace, so /deletes of a namespace-authorized resource whose
key has no namespace (educationContents) shows each client the deletions in its namespaces, as
the ODS/API does. Older tombstones take the namespace of their key values where there is one.

Revision ID: tok_0002
Revises: tok_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "tok_0002"
down_revision = "tok_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("edfi_tracked_changes", sa.Column("namespace", sa.String(255), nullable=True))
    op.execute(
        "UPDATE edfi_tracked_changes SET namespace = old_key_values->>'namespace' "
        "WHERE old_key_values ? 'namespace'"
    )


def downgrade() -> None:
    op.drop_column("edfi_tracked_changes", "namespace")
