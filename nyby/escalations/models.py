from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class ContactMethod(StrEnum):
    DOOR = "door"  # no answer at the door
    PHONE = "phone"  # no answer on the phone


class EscalationReason(StrEnum):
    NO_TAKER = "no_taker"  # push dispatch: nobody took it after the last wave
    FAILED_CONTACT = "failed_contact"  # the holder could not reach the client, N times


class EscalationStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    REASSIGNED = "reassigned"  # a coordinator gave the task to someone
    CLIENT_CONTACTED = "client_contacted"  # a coordinator reached the client
    CLOSED_UNMET = "closed_unmet"  # a coordinator closed the task as unmet
    # The task moved on by itself: someone took it, or it ended.
    TAKEN = "taken"
    TASK_ENDED = "task_ended"


class ContactAttempt(TenantScoped, Base):
    """An attempt to reach a task's client: the holder's that failed ("no answer at the
    door / on the phone"), or a coordinator's while working an escalation (``reached``).

    ``escalation_id``: the escalation it led to or was part of; attempts not yet part of
    one are counted towards the tenant's limit.
    """

    __tablename__ = "contact_attempts"
    __audited__ = True
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["membership_id"], "memberships"),
        tenant_fk(["escalation_id"], "escalations"),
        Index("ix_contact_attempts_task", "tenant_id", "task_id", "attempted_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(8))
    reached: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    # When it happened (the person says; at most now); recorded_at is when they said it.
    attempted_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    escalation_id: Mapped[uuid.UUID | None]


class Escalation(TenantScoped, Base):
    """A task the coordinators must act on, open until one of them resolves it (or the
    task moves on by itself). At most one open escalation per task."""

    __tablename__ = "escalations"
    __audited__ = True
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["resolved_by"], "memberships"),
        Index(
            "uq_escalations_one_open_per_task",
            "tenant_id",
            "task_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_escalations_queue", "tenant_id", "status", "opened_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(8), default=EscalationStatus.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[uuid.UUID | None]
    resolved_at: Mapped[datetime | None]
