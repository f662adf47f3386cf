"""What the stored documents (gateway.oneroster.documents) must always be: for every user and
enrollment, the document the read path builds from the row, byte for byte."""

from __future__ import annotations

from sqlalchemy import func, literal_column, or_, select

from gateway.oneroster.catalogue import catalogue
from gateway.oneroster.documents import STORED_TABLES, stored_fields
from gateway.oneroster.serialize import HREF_BASE as BOUND_BASE
from gateway.oneroster.serialize import Serializer

HREF_BASE = "http://stored.example/ims/oneroster/v1p1"


def stale_documents(session) -> dict[str, list[str]]:
    """{table: sourcedIds whose stored document is missing or differs from the built one}."""
    found = {}
    for entity in catalogue().entities.values():
        table = entity.table
        if table.name not in STORED_TABLES:
            continue
        built = Serializer(entity, stored_fields(entity)).expression
        stored = func.replace(table.c.document, literal_column("chr(1)"), BOUND_BASE)
        differs = select(table.c.sourced_id).where(
            or_(table.c.document.is_(None), stored.is_distinct_from(built))
        )
        found[table.name] = list(
            session.scalars(differs.order_by(table.c.sourced_id), {"href_base": HREF_BASE})
        )
    return found


def assert_documents_current(session) -> None:
    assert stale_documents(session) == {table: [] for table in STORED_TABLES}
