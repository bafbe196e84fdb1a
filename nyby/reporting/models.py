from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class Comparison(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class Status(StrEnum):
    MET = "met"
    AT_RISK = "at_risk"
    MISSED = "missed"
    NO_DATA = "no_data"  # nothing to measure yet (a median of no tasks)


class Trend(StrEnum):
    BETTER = "better"
    WORSE = "worse"
    SAME = "same"


# Within this share of the target on the wrong side, a criterion is "at risk", not missed.
DEFAULT_AT_RISK_MARGIN = 0.1


class SuccessCriterion(TenantScoped, Timestamped, Base):
    """A target the tenant judges its service by: a metric, compared with a target over
    a period (week, month, quarter in the tenant's time zone), optionally for one role
    and/or one area. Configured in the tenant file or through the admin API."""

    __tablename__ = "success_criteria"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        tenant_fk(["role_id"], "volunteer_roles"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(40))
    comparison: Mapped[str] = mapped_column(String(10))
    # Minutes for times, a fraction (0..1) for rates, a number otherwise.
    target: Mapped[float]
    period: Mapped[str] = mapped_column(String(8))
    role_id: Mapped[uuid.UUID | None]
    area_cell: Mapped[str | None] = mapped_column(String(16))
    # A share of the target: missing it by no more than this is "at risk".
    at_risk_margin: Mapped[float] = mapped_column(default=DEFAULT_AT_RISK_MARGIN)
    position: Mapped[int] = mapped_column(default=0)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class CriterionEvaluation(TenantScoped, Base):
    """One criterion measured over one period. The job re-measures the current period
    (and the one just ended) in place: one row per criterion and period."""

    __tablename__ = "criterion_evaluations"
    __table_args__ = (
        tenant_fk(["criterion_id"], "success_criteria", ondelete="CASCADE"),
        # One per period (the job is idempotent); also the index "latest first" reads.
        UniqueConstraint("tenant_id", "criterion_id", "period_start"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    criterion_id: Mapped[uuid.UUID]
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    value: Mapped[float | None]
    target: Mapped[float]  # as it was when measured
    status: Mapped[str] = mapped_column(String(8))
    # Against the previous period's value; None for the first period measured.
    trend: Mapped[str | None] = mapped_column(String(8))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The kept counts' row for volunteers approved in any role (a person in two counts once).
ALL_ROLES = "*"


class VolunteerCount(TenantScoped, Base):
    """Volunteers approved, and of them those who had gone on duty, per role and in all
    (``role_key`` ``ALL_ROLES``), at a moment past: a period's end, which is a local
    midnight. Counted once (``reporting.metrics.keep_volunteer_counts``, by the hourly
    job soon after each midnight) and kept: Table 2 of a period that has ended reads
    them rather than counting 900,000 approved roles again at NHS scale (about 1.5 s).
    Keyed by role key, not id, as ``provision.ProvisionCell`` is (roles are only ever
    deactivated, never deleted)."""

    __tablename__ = "volunteer_counts"

    at: Mapped[datetime] = mapped_column(primary_key=True)
    role_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    approved: Mapped[int]
    went_on_duty: Mapped[int]
    counted_at: Mapped[datetime]
