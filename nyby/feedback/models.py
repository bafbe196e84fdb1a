from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class FeedbackSide(StrEnum):
    VOLUNTEER = "volunteer"  # whoever did the task
    POSTER = "poster"  # the professional who posted it, on the client's behalf


class TaskFeedback(TenantScoped, Base):
    """A rating and comment on a completed task: one from each side, once."""

    __tablename__ = "task_feedback"
    __audited__ = True
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["author_id"], "memberships"),
        # Once each: of two identical POSTs at once (a retry), one row is kept.
        UniqueConstraint("tenant_id", "task_id", "side"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    side: Mapped[str] = mapped_column(String(10))
    rating: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Thanks(TenantScoped, Base):
    """A coordinator's thumbs-up to a volunteer, for a task or in general."""

    __tablename__ = "thanks"
    __audited__ = True
    __table_args__ = (
        tenant_fk(["recipient_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["sender_id"], "memberships"),
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        Index("ix_thanks_recipient", "tenant_id", "recipient_id", "created_at"),
        Index("ix_thanks_task", "tenant_id", "task_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recipient_id: Mapped[uuid.UUID]
    sender_id: Mapped[uuid.UUID]
    task_id: Mapped[uuid.UUID | None]
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
