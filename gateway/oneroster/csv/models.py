"""The import-job table (schema: migrations/versions/csv_0001_import_jobs.py, csv_0002_…)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class CsvImportJob(Base):
    __tablename__ = "csv_import_jobs"
    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    client_key: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    # what the job imports: "oneroster-csv" or "edfi-bulk" (migration bulk_0001)
    kind: Mapped[str] = mapped_column(String(20), default="oneroster-csv")
    # queued → running → applied | rejected | dry-run | failed
    status: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str | None] = mapped_column(String(20))
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # host:pid of the process that runs the job, and until when it has vouched for it (lease.py)
    worker: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
