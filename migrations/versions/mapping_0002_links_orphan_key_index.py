"""mapping_links: index natural keys only where a lookup by natural key happens (orphan links).

A link is looked up by its natural key only once its Ed-Fi record is gone (edfi_id NULL: the same
record created again gets its sourcedId back). Indexing every link's JSONB key made each link
written by a projection (hundreds of thousands per district import) pay for an entry nobody reads;
the partial index holds the orphans only.

Revision ID: mapping_0002
Revises: 0003
"""

from alembic import op

revision = "mapping_0002"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_mapping_links_orphan_key ON mapping_links (edfi_resource, natural_key) "
        "WHERE edfi_id IS NULL"
    )
    op.execute("DROP INDEX IF EXISTS ix_mapping_links_natural_key")


def downgrade() -> None:
    op.execute(
        "CREATE INDEX ix_mapping_links_natural_key ON mapping_links (edfi_resource, natural_key)"
    )
    op.execute("DROP INDEX IF EXISTS ix_mapping_links_orphan_key")
