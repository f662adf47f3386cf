"""Join the branches of this round into one head (no schema change).

Revision ID: 0004
Revises: mapping_0002, oneroster_0002
Create Date: 2026-11-22
"""

from __future__ import annotations

revision = "0004"
down_revision = ("mapping_0002", "oneroster_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
