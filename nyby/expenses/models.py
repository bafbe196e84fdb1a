from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class ExpenseCategory(StrEnum):
    MILEAGE = "mileage"  # distance x the tenant's rate per km
    SHOPPING = "shopping"  # paid upfront for the client
    PARKING = "parking"
    PUBLIC_TRANSPORT = "public_transport"
    OTHER = "other"


class ClaimStatus(StrEnum):
    CLAIMED = "claimed"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExpenseClaim(TenantScoped, Timestamped, Base):
    """Money a volunteer spent on a task they hold or held, to be paid back.

    Amounts are integers in the currency's minor unit (pence, øre): never floats.
    """

    __tablename__ = "expense_claims"
    __audited__ = True
    __table_args__ = (
        tenant_fk(["task_id"], "tasks"),
        tenant_fk(["claimant_id"], "memberships"),
        tenant_fk(["decided_by"], "memberships"),
        # The coordinators' queue (claimed, oldest first) and the export (approved in a period).
        Index("ix_expense_claims_status", "tenant_id", "status", "created_at"),
        Index("ix_expense_claims_decided", "tenant_id", "status", "decided_at"),
        Index("ix_expense_claims_claimant", "tenant_id", "claimant_id", "created_at"),
        Index("ix_expense_claims_task", "tenant_id", "task_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    task_id: Mapped[uuid.UUID]
    claimant_id: Mapped[uuid.UUID]
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # Mileage only: the distance in metres and the rate per km it was paid at (decimal text).
    distance_m: Mapped[int | None]
    rate_per_km: Mapped[str | None] = mapped_column(String(16))
    # The receipt's file, through file storage (JPEG, PNG or PDF, sniffed from the bytes).
    receipt_key: Mapped[str | None] = mapped_column(String(300))
    receipt_file_name: Mapped[str | None] = mapped_column(String(200))
    receipt_content_type: Mapped[str | None] = mapped_column(String(100))
    receipt_size_bytes: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(10), default=ClaimStatus.CLAIMED.value)
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
