"""The models and the migrations describe the same columns."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from gateway.db import Base
from gateway.oneroster.catalogue import catalogue

COLUMN_CHANGES = {"add_column", "remove_column", "add_table", "remove_table"}


def _table_of(diff) -> str | None:
    if isinstance(diff, list):  # modify_* entries come grouped
        return diff[0][2]
    if diff[0] in ("add_table", "remove_table"):
        return diff[1].name
    if diff[0] in ("add_column", "remove_column"):
        return diff[2]
    return None


def test_models_match_migrations(db_session):
    ours = {e.table.name for e in catalogue().entities.values()} | {
        "class_resources",
        "course_resources",
    }
    context = MigrationContext.configure(db_session.connection(), opts={"compare_type": True})
    diffs = [d for d in compare_metadata(context, Base.metadata) if _table_of(d) in ours]
    structural = [d for d in diffs if isinstance(d, list) or d[0] in COLUMN_CHANGES]
    assert [(d[0][0], d[0][2], d[0][3]) if isinstance(d, list) else d[:3] for d in structural] == []
