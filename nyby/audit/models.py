from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped


class AuditEntry(TenantScoped, Base):
    """One change to (or read of) one object. Append-only: on PostgreSQL the app's role
    may insert and select these rows, never update or delete them (migration 0013).

    No foreign keys to the actor or the object: a row outlives what it describes, and
    writing it must never be what makes a change fail.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_at", "tenant_id", "at"),
        Index("ix_audit_entries_object", "tenant_id", "object_type", "object_id", "at"),
        Index("ix_audit_entries_actor", "tenant_id", "actor_membership_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The member who acted, in this tenant; the account as well, for a person acting from
    # no membership here (signing up) or from another tenant (a passport).
    actor_membership_id: Mapped[uuid.UUID | None]
    actor_account_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(32))  # create, update, delete, read
    object_type: Mapped[str] = mapped_column(String(64))  # client, task, membership ...
    # The object's key without the tenant: its id, or "a/b" for a link row.
    object_id: Mapped[str] = mapped_column(String(200))
    # {field: [before, after]}; a create has no before, a delete no after.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
    job: Mapped[str | None] = mapped_column(String(100))
