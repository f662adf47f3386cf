"""Gradebook titles without a length limit: OneRoster 1.1 sets none, so a lineItem or category
title of any length written over REST (or imported) is stored as sent (issue 17). varchar → text
is binary-compatible in PostgreSQL: no table rewrite, no index rebuild.

Revision ID: orrest_0001
Revises: edfi_clients_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "orrest_0001"
down_revision = "edfi_clients_0001"
branch_labels = None
depends_on = None

COLUMNS = (("line_items", "title"), ("categories", "title"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(255))


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = left({column}, 255)")
        op.alter_column(table, column, type_=sa.String(255), existing_type=sa.Text())
