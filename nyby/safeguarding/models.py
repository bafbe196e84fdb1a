from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class ConcernCategory(StrEnum):
    """The kinds of abuse and neglect named by the Care Act 2014 statutory guidance."""

    PHYSICAL = "physical"
    EMOTIONAL = "emotional"
    SEXUAL = "sexual"
    FINANCIAL = "financial"
    NEGLECT = "neglect"
    SELF_NEGLECT = "self_neglect"
    DOMESTIC = "domestic"
    DISCRIMINATORY = "discriminatory"
    ORGANISATIONAL = "organisational"
    MODERN_SLAVERY = "modern_slavery"
    OTHER = "other"


class ConcernStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    REFERRED = "referred"  # passed on: the local authority, the police, a GP
    CLOSED = "closed"


class SafeguardingConcern(TenantScoped, Timestamped, Base):
    """A worry about a client's safety or wellbeing, raised from a task or a client.

    Only the tenant's safeguarding leads read it whole; the person who raised it sees
    what they wrote and its status. It never goes into a task's chat or a notice's text.
    """

    __tablename__ = "safeguarding_concerns"
    __audited__ = True
    # Admins read the audit trail but not concerns: it records that these changed, not how.
    __audit_withheld__ = ("description", "outcome")
    __table_args__ = (
        tenant_fk(["raised_by"], "memberships"),
        tenant_fk(["task_id"], "tasks"),
        tenant_fk(["client_id"], "clients"),
        tenant_fk(["status_changed_by"], "memberships"),
        Index("ix_safeguarding_concerns_status", "tenant_id", "status", "created_at"),
        Index("ix_safeguarding_concerns_raised_by", "tenant_id", "raised_by", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    raised_by: Mapped[uuid.UUID]
    # About whom: the task's client when raised from a task that has one.
    task_id: Mapped[uuid.UUID | None]
    client_id: Mapped[uuid.UUID | None]
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    # When it happened or was noticed, if the person knows.
    occurred_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=ConcernStatus.OPEN.value)
    # What the leads decided; the raiser does not see it (nor the notes).
    outcome: Mapped[str] = mapped_column(Text, default="")
    status_changed_at: Mapped[datetime | None]
    status_changed_by: Mapped[uuid.UUID | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class ConcernNote(TenantScoped, Base):
    """A safeguarding lead's note on a concern (calls made, who was told): leads only."""

    __tablename__ = "concern_notes"
    __audited__ = True
    __audit_withheld__ = ("body",)  # for the leads only, like the concern's words
    __table_args__ = (
        tenant_fk(["concern_id"], "safeguarding_concerns", ondelete="CASCADE"),
        tenant_fk(["author_id"], "memberships"),
        Index("ix_concern_notes_concern", "tenant_id", "concern_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    concern_id: Mapped[uuid.UUID]
    author_id: Mapped[uuid.UUID]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
