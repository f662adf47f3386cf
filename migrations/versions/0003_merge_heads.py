"""Join the context branches into one head; widen OneRoster phone/sms for Ed-Fi telephone numbers.

Ed-Fi telephone numbers are up to 24 characters; the core model's `users.phone`/`users.sms` hold 20,
so a valid Ed-Fi telephone could not be projected. Widening a varchar takes no table rewrite.

Revision ID: 0003
Revises: 0002, profiles_0001, csv_0001, mapping_0001, edfi_0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = ("0002", "profiles_0001", "csv_0001", "mapping_0001", "edfi_0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("phone", "sms"):
        op.alter_column("users", column, type_=sa.String(24), existing_type=sa.String(20))


def downgrade() -> None:
    for column in ("phone", "sms"):
        op.alter_column("users", column, type_=sa.String(20), existing_type=sa.String(24))
