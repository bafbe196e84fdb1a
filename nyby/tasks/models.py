from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from nyby.configuration.models import VolunteerRole
from nyby.core.db import Base, Timestamped, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class TaskStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # due time passed with no taker
    UNMET = "unmet"  # closed by a coordinator: nobody could do it


class Urgency(StrEnum):
    ROUTINE = "routine"
    SOON = "soon"
    URGENT = "urgent"


class Task(TenantScoped, Timestamped, Base):
    __tablename__ = "tasks"
    __table_args__ = (
        tenant_fk(["client_id"], "clients"),
        tenant_fk(["role_id"], "volunteer_roles"),
        tenant_fk(["posted_by"], "memberships"),
        tenant_fk(["assignee_id"], "memberships"),
        Index("ix_tasks_tenant_id_status_area_cell", "tenant_id", "status", "area_cell"),
        Index("ix_tasks_tenant_id_assignee_id", "tenant_id", "assignee_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    client_id: Mapped[uuid.UUID | None]
    role_id: Mapped[uuid.UUID]
    posted_by: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    estimated_minutes: Mapped[int]
    earliest_start: Mapped[datetime]
    due_by: Mapped[datetime]
    urgency: Mapped[str] = mapped_column(String(8), default=Urgency.ROUTINE.value)
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    payment_note: Mapped[str] = mapped_column(Text, default="")
    # Where: shown only as the area until someone has taken the task.
    address: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    area_cell: Mapped[str | None] = mapped_column(String(16))
    street_cell: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default=TaskStatus.OPEN.value)
    assignee_id: Mapped[uuid.UUID | None]
    assigned_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    minutes_spent: Mapped[int | None]
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    closing_reason: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    role: Mapped[VolunteerRole] = relationship(
        primaryjoin=lambda: and_(
            Task.tenant_id == foreign(VolunteerRole.tenant_id),
            Task.role_id == foreign(VolunteerRole.id),
        ),
        lazy="joined",
        innerjoin=True,
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def role_key(self) -> str:
        return self.role.key


class TaskEvent(TenantScoped, Base):
    """Every change of a task's status: who, when, from what to what."""

    __tablename__ = "task_events"
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["actor_id"], "memberships"),
        Index("ix_task_events_task", "tenant_id", "task_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    actor_id: Mapped[uuid.UUID | None]
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDecline(TenantScoped, Base):
    """A volunteer said no: the task is never shown or offered to them again."""

    __tablename__ = "task_declines"
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
