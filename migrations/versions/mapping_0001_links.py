"""Mapping links: which OneRoster sourcedId each Ed-Fi record projects to (and back).

Merges the Ed-Fi and OneRoster revision chains: the mapping layer needs both.

Revision ID: mapping_0001
Revises: edfi_0001, oneroster_0001
"""

from alembic import op

revision = "mapping_0001"
down_revision = ("edfi_0001", "oneroster_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A link outlives a delete (edfi_id set to NULL, natural key kept) so that a record deleted and
    # created again gets its sourcedId back; edfi_id survives Ed-Fi key changes, cascades included.
    op.execute(
        """
        CREATE TABLE mapping_links (
            sourced_id varchar(255) PRIMARY KEY,
            edfi_resource varchar(100) NOT NULL,
            natural_key jsonb NOT NULL,
            edfi_id uuid,
            origin varchar(20) NOT NULL DEFAULT 'edfi',
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_mapping_links_edfi_id ON mapping_links (edfi_resource, edfi_id) "
        "WHERE edfi_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_mapping_links_natural_key ON mapping_links (edfi_resource, natural_key)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS mapping_links")
