from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class Milestone(StrEnum):
    """What a badge is for; each is measured from the data, never entered by hand."""

    TASKS_COMPLETED = "tasks_completed"
    HOURS = "hours"
    CLIENTS_HELPED = "clients_helped"  # distinct people helped
    YEARS_ACTIVE = "years_active"  # whole years since their first completed task
    THANKS = "thanks"  # coordinators' thumbs-up (nyby.feedback)


class Tier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


class Badge(TenantScoped, Base):
    """A tier of a milestone a member reached: once each, whoever awards it."""

    __tablename__ = "badges"
    __table_args__ = (
        tenant_fk(["member_id"], "memberships", ondelete="CASCADE"),
        # A retried or duplicated award job (or two at once) awards a badge once.
        UniqueConstraint("tenant_id", "member_id", "milestone", "tier"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID]
    milestone: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(8))
    # The tenant's threshold when it was awarded, and the figure that reached it.
    threshold: Mapped[int]
    value: Mapped[int]
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecognitionOptOut(TenantScoped, Base):
    """A member who wants no badges, no notices about them and no leaderboard place."""

    __tablename__ = "recognition_opt_outs"
    __table_args__ = (tenant_fk(["member_id"], "memberships", ondelete="CASCADE"),)

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityRecord(TenantScoped, Base):
    """A volunteer's activity record as issued: the figures are frozen here, so the
    public verification page shows what the employer was given even as they change.
    The code is 128 random bits: it proves the record and grants nothing else."""

    __tablename__ = "activity_records"
    __table_args__ = (
        tenant_fk(["member_id"], "memberships", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "code"),
        Index("ix_activity_records_member", "tenant_id", "member_id", "issued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID]
    code: Mapped[str] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
