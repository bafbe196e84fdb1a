from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import StrEnum

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk

# What matching reads of the pool, each index holding it all (read without the table):
# near a place, the role's people by home area cell; for a remote role, who waited longest.
POOL_AREA_COLUMNS = (
    "tenant_id",
    "role_id",
    "home_area_cell",
    "home_latitude",
    "home_longitude",
    "travel_radius_km",
    "on_duty_until",
    "qualified_until",
    "quiet_hours_start",
    "quiet_hours_end",
    "waiting_since",
    "membership_id",
)
POOL_WAITING_COLUMNS = (
    "tenant_id",
    "role_id",
    "waiting_since",
    "membership_id",
    "on_duty_until",
    "qualified_until",
    "quiet_hours_start",
    "quiet_hours_end",
)


class PoolEntry(TenantScoped, Base):
    """Someone who may be offered the role's tasks: on duty, active, and qualified for
    the role as ``onboarding.qualification`` decides, with what matching reads of them.

    Derived, never written by hand: ``nyby.dispatch.pool`` keeps it as the truth changes.
    Time passing changes nothing here: ``on_duty_until`` and ``qualified_until`` (the
    first of the role's required checks to expire; None: none expires) are compared
    with the moment when read.
    """

    __tablename__ = "dispatch_pool"
    __table_args__ = (
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["role_id"], "volunteer_roles", ondelete="CASCADE"),
        Index("ix_dispatch_pool_area", *POOL_AREA_COLUMNS),
        Index("ix_dispatch_pool_waiting", *POOL_WAITING_COLUMNS),
        # A person's entries, in every role: kept as they change (and moved back a wave).
        Index("ix_dispatch_pool_member", "tenant_id", "membership_id"),
    )

    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    home_area_cell: Mapped[str | None] = mapped_column(String(16))
    home_latitude: Mapped[float | None]
    home_longitude: Mapped[float | None]
    travel_radius_km: Mapped[float | None]
    waiting_since: Mapped[datetime]
    on_duty_until: Mapped[datetime | None]
    qualified_until: Mapped[datetime | None]
    # Their quiet hours (tenant local time), so those asleep are left out in SQL.
    quiet_hours_start: Mapped[time | None]
    quiet_hours_end: Mapped[time | None]


class OfferStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # someone else took the task, or it closed
    EXPIRED = "expired"  # its wave timed out unanswered


class TaskDispatch(TenantScoped, Timestamped, Base):
    """Where a push task's offering stands: one row per task, written with the task.

    The row is also the outbox for dispatch: a wave is due when ``next_wave_at`` has
    passed, so a task posted while Redis is down still goes out when a sweep finds it.
    """

    __tablename__ = "task_dispatches"
    __table_args__ = (
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        Index("ix_task_dispatches_due", "tenant_id", "next_wave_at"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    waves_sent: Mapped[int] = mapped_column(default=0)
    radius_km: Mapped[float | None]  # of the last wave (grows per wave)
    # None: nothing more to do (taken, closed, or escalated).
    next_wave_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class Offer(TenantScoped, Base):
    """A task offered to one person in one wave; never offered to them twice."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "task_id", "membership_id"),
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        # My open offers; my offers today (alert limits); fairness (recent offers).
        Index("ix_offers_member", "tenant_id", "membership_id", "offered_at"),
        Index("ix_offers_task_status", "tenant_id", "task_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    wave: Mapped[int]
    score: Mapped[float]
    status: Mapped[str] = mapped_column(String(12), default=OfferStatus.OFFERED.value)
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
