"""A token may be narrowed to one of its client's education organizations (`scope=<id>` in the
token request, as the Ed-Fi ODS/API 7.3 allows): the token row keeps that organization.

Revision ID: tok_0001
Revises: rls_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "tok_0001"
down_revision = "rls_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "access_tokens", sa.Column("education_organization_id", sa.String(64), nullable=True)
    )


def downgrade() -> None:
    # The previous code version would read a narrowed token as reaching all its client reaches.
    op.execute(
        "UPDATE access_tokens SET revoked_at = now() WHERE education_organization_id IS NOT NULL"
    )
    op.drop_column("access_tokens", "education_organization_id")
