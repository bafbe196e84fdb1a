from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class AssignmentStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"  # a required check lapsed, or a coordinator paused it


class CheckStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class RoleAssignment(TenantScoped, Timestamped, Base):
    """A member's place in one volunteer role (shopping, patient transport...)."""

    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "membership_id", "role_id"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["role_id"], "volunteer_roles"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    membership_id: Mapped[uuid.UUID]
    role_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.APPLIED.value)
    approved_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class CheckRecord(TenantScoped, Timestamped, Base):
    """The current state of one check (ID, DBS, training...) for one member."""

    __tablename__ = "check_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "membership_id", "check_type_id"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["check_type_id"], "check_types"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    membership_id: Mapped[uuid.UUID]
    check_type_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16), default=CheckStatus.PENDING.value)
    verified_at: Mapped[datetime | None]
    # None: does not expire (the check type has no validity period).
    expires_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}
