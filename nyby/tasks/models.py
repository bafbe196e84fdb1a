from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint, and_, literal_column, text
from sqlalchemy.orm import Mapped, declared_attr, foreign, mapped_column, relationship

from nyby.configuration.models import TaskCategory, VolunteerRole
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


class TaskDetails:
    """What a task asks for, for whom and where: posted on a task, or on a series and
    copied to each of its visits (``DETAIL_FIELDS``)."""

    client_id: Mapped[uuid.UUID | None]
    role_id: Mapped[uuid.UUID]
    category_id: Mapped[uuid.UUID | None]
    posted_by: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    estimated_minutes: Mapped[int]
    urgency: Mapped[str] = mapped_column(String(8), default=Urgency.ROUTINE.value)
    what_to_bring: Mapped[str] = mapped_column(Text, default="")
    payment_note: Mapped[str] = mapped_column(Text, default="")
    # Where: shown only as the area until someone has taken the task.
    address: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    area_cell: Mapped[str | None] = mapped_column(String(16))
    street_cell: Mapped[str | None] = mapped_column(String(16))

    @declared_attr
    def role(cls) -> Mapped[VolunteerRole]:
        return relationship(
            VolunteerRole,
            # Both Task and TaskSeries are tenant-scoped: tenant_id is theirs, not the mixin's.
            primaryjoin=lambda: and_(
                cls.tenant_id == foreign(VolunteerRole.tenant_id),  # type: ignore[attr-defined]
                cls.role_id == foreign(VolunteerRole.id),  # type: ignore[arg-type]
            ),
            lazy="joined",
            innerjoin=True,
            viewonly=True,
        )

    @property
    def role_key(self) -> str:
        return self.role.key


DETAIL_FIELDS = tuple(TaskDetails.__annotations__)


# What a search for open tasks filters on besides place and role (tasks.browse).
OPEN_TASK_FILTERS = (
    "due_by",
    "earliest_start",
    "reserved_until",
    "client_id",
    "category_id",
    "id",
)


class Task(TaskDetails, TenantScoped, Timestamped, Base):
    __tablename__ = "tasks"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["client_id"], "clients"),
        tenant_fk(["role_id"], "volunteer_roles"),
        tenant_fk(["category_id"], "task_categories"),
        tenant_fk(["series_id"], "task_series"),
        tenant_fk(["posted_by"], "memberships"),
        tenant_fk(["assignee_id"], "memberships"),
        # Browsing reads only these two partial indexes, never the table (an index-only
        # scan): open tasks by area cell for travelling roles, by role for remote ones.
        Index(
            "ix_tasks_open_by_area",
            "tenant_id",
            "area_cell",
            "role_id",
            *OPEN_TASK_FILTERS,
            "latitude",
            "longitude",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_tasks_open_by_role",
            "tenant_id",
            "role_id",
            *OPEN_TASK_FILTERS,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        # "Tasks I hold" and "clients I helped" (continuity) read it on every browse.
        Index("ix_tasks_tenant_id_assignee_id_status", "tenant_id", "assignee_id", "status"),
        # One occurrence per start: two generators running at once cannot duplicate a visit.
        UniqueConstraint("tenant_id", "series_id", "earliest_start"),
        Index("ix_tasks_tenant_id_client_id", "tenant_id", "client_id"),
        # Reports read the tasks posted in a period from a range of it, without the table:
        # the metrics by role and status and the hours spent (nyby.reporting), need and
        # whether it was met by area (nyby.provision).
        Index(
            "ix_tasks_posted",
            "tenant_id",
            "created_at",
            "area_cell",
            "role_id",
            "status",
            "due_by",
            "minutes_spent",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # An occurrence of a repeat series, if it is one.
    series_id: Mapped[uuid.UUID | None]
    # Continuity: until then, only the client's previous helpers may take it.
    reserved_until: Mapped[datetime | None]
    earliest_start: Mapped[datetime]
    due_by: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default=TaskStatus.OPEN.value)
    assignee_id: Mapped[uuid.UUID | None]
    assigned_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    minutes_spent: Mapped[int | None]
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    closing_reason: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    category: Mapped[TaskCategory | None] = relationship(
        primaryjoin=lambda: and_(
            Task.tenant_id == foreign(TaskCategory.tenant_id),
            Task.category_id == foreign(TaskCategory.id),
        ),
        lazy="joined",
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def category_key(self) -> str | None:
        return self.category.key if self.category is not None else None


# "The task is open", written into the SQL rather than bound as a parameter: a planner
# may use the partial indexes above only when it sees the query asks for open tasks.
# SQLite given ``status = ?`` still reads them, but visits the table for every row to
# check the status (twice as slow); PostgreSQL's generic plans could not use them at all.
IS_OPEN = Task.status == literal_column(f"'{TaskStatus.OPEN.value}'")


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"  # no more occurrences; open ones were cancelled


class TaskSeries(TaskDetails, TenantScoped, Timestamped, Base):
    """A task that repeats (RFC 5545 RRULE in the tenant's time zone).

    The series holds the template; a scheduled job generates its occurrences as
    ordinary tasks some days ahead. Whoever takes the series (``holder_id``) is
    given every occurrence; with no holder, a new occurrence is kept for the
    client's previous helpers for a while before anyone else may take it.
    """

    __tablename__ = "task_series"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["client_id"], "clients"),
        tenant_fk(["role_id"], "volunteer_roles"),
        tenant_fk(["category_id"], "task_categories"),
        tenant_fk(["posted_by"], "memberships"),
        tenant_fk(["holder_id"], "memberships"),
        Index("ix_task_series_tenant_id_status", "tenant_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    rrule: Mapped[str] = mapped_column(Text)
    # The first occurrence's window; later ones keep the same local time and length.
    first_start: Mapped[datetime]
    window_minutes: Mapped[int]
    status: Mapped[str] = mapped_column(String(8), default=SeriesStatus.ACTIVE.value)
    holder_id: Mapped[uuid.UUID | None]
    # Occurrences up to here exist as tasks.
    generated_until: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


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
        # "Not declined by me": read on every browse.
        Index("ix_task_declines_membership", "tenant_id", "membership_id", "task_id"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskAttachment(TenantScoped, Base):
    """A file the care team attached to a task: a photo of the prescription, a letter.

    The bytes live in file storage under ``storage_key`` (always inside the tenant's
    own ``tenants/<id>/`` prefix); this row says what they are and who added them.
    """

    __tablename__ = "task_attachments"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["uploaded_by"], "memberships"),
        Index("ix_task_attachments_task", "tenant_id", "task_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    uploaded_by: Mapped[uuid.UUID]
    # As given by the uploader (made safe), with an extension that matches the content.
    file_name: Mapped[str] = mapped_column(String(200))
    # Sniffed from the bytes, never taken from the client.
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
