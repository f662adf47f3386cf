"""API clients as the Ed-Fi ODS models them: several namespace prefixes, a claim set, approved or
not, and reaching every organization as an explicit flag.

Existing clients keep what they could do: an empty organization list meant "every organization",
so those get the flag; the one namespace prefix becomes a one-element list; the claim set is
"Gateway Legacy" (schemas/edfi/security/gateway-claim-sets.xml), which authorizes as the gateway
did before claim sets. `namespace_prefix` stays (the first prefix) for the previous code version.

Revision ID: edfi_clients_0001
Revises: bulk_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "edfi_clients_0001"
down_revision = "bulk_0001"
branch_labels = None
depends_on = None

LEGACY_CLAIM_SET = "Gateway Legacy"


def upgrade() -> None:
    op.add_column(
        "api_clients",
        sa.Column("all_organizations", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "api_clients",
        sa.Column("namespace_prefixes", JSONB, nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        "api_clients",
        sa.Column("claim_set", sa.String(255), nullable=False, server_default=LEGACY_CLAIM_SET),
    )
    op.add_column(
        "api_clients",
        sa.Column("approved", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.execute(
        """
        UPDATE api_clients
           SET all_organizations = (education_organization_ids = '[]'::jsonb),
               namespace_prefixes = CASE WHEN namespace_prefix IS NULL THEN '[]'::jsonb
                                         ELSE jsonb_build_array(namespace_prefix) END
        """
    )
    # New rows name their claim set (the previous code version's inserts get the legacy one).


def downgrade() -> None:
    # The previous code version reads an empty list as every organization: a client that reached
    # none must not come out of the downgrade reaching all, so it is deactivated.
    op.execute(
        """
        UPDATE api_clients SET active = false, revoked_at = coalesce(revoked_at, now())
         WHERE NOT all_organizations AND education_organization_ids = '[]'::jsonb
        """
    )
    op.execute(
        """
        UPDATE api_clients SET education_organization_ids = '[]'::jsonb
         WHERE all_organizations
        """
    )
    op.drop_column("api_clients", "approved")
    op.drop_column("api_clients", "claim_set")
    op.drop_column("api_clients", "namespace_prefixes")
    op.drop_column("api_clients", "all_organizations")
