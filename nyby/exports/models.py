from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class ExportStatus(StrEnum):
    QUEUED = "queued"  # asked for; its job is on the queue (or the sweep will send it)
    RUNNING = "running"
    DONE = "done"  # the file is stored under storage_key
    FAILED = "failed"  # error says why


class Export(TenantScoped, Timestamped, Base):
    """An admin's request for a CSV file, and the job's progress on it.

    The row is the job's outbox: it is written with the request, so a request made
    while Redis is down is still there for the sweep (``jobs.send_queued_exports``).
    """

    __tablename__ = "exports"
    __audited__ = True
    # Progress moves every batch: the trail records the request and each change of
    # status, not every thousand rows.
    __audit_ignore__ = ("rows_done", "heartbeat_at")
    __table_args__ = (
        tenant_fk(["requested_by"], "memberships"),
        # The page's list (newest first) and the sweep (queued or running, oldest first).
        Index("ix_exports_created", "tenant_id", "created_at"),
        Index("ix_exports_status", "tenant_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20))
    # What the kind reads: {"from": "2026-01-01", "to": "2026-01-31"} (local dates).
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=ExportStatus.QUEUED.value)
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None]
    requested_by: Mapped[uuid.UUID]
    # Each run that takes the export on counts one; a run finishes only its own attempt.
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    # Written with every batch: a running export whose heartbeat stops was left by a
    # dead worker, and the sweep gives it to another.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    storage_key: Mapped[str | None] = mapped_column(String(300))
    file_name: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)  # a big tenant: GBs
    error: Mapped[str] = mapped_column(Text, default="")
