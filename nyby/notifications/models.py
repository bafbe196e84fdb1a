from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class Notification(TenantScoped, Base):
    """One message in a member's in-app inbox.

    Written in the same transaction as the change it reports, so a change is never
    committed without its message, nor a message without its change. Only the kind
    and its parameters are stored: the text is rendered in the reader's language.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        tenant_fk(["recipient_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        Index("ix_notifications_recipient", "tenant_id", "recipient_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recipient_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[uuid.UUID | None]
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
