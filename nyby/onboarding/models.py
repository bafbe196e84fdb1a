from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
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
    EXPIRED = "expired"  # was verified; the daily sweep found it past its expiry


class PassportDecision(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class RoleAssignment(TenantScoped, Timestamped, Base):
    """A member's place in one volunteer role (shopping, patient transport...)."""

    __tablename__ = "role_assignments"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        UniqueConstraint("tenant_id", "membership_id", "role_id"),
        # A member's approved roles read from the index alone: Table 2's count of approved
        # volunteers per role over a whole nation (nyby.reporting), dispatch's role test.
        Index(
            "ix_role_assignments_member_status",
            "tenant_id",
            "membership_id",
            "status",
            "approved_at",
            "role_id",
        ),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["role_id"], "volunteer_roles"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    membership_id: Mapped[uuid.UUID]
    role_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.APPLIED.value)
    approved_at: Mapped[datetime | None]
    # Who decided last, when, and why (a rejection or suspension always says why).
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class CheckRecord(TenantScoped, Timestamped, Base):
    """The current state of one check (ID, DBS, training...) for one member."""

    __tablename__ = "check_records"
    __audited__ = True  # nyby.audit.trail records every change
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
    verified_by: Mapped[uuid.UUID | None]  # None: passed online (a training module)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was rejected
    # Where a verified check came from when not this tenant's coordinators (a passport).
    source: Mapped[str] = mapped_column(Text, default="")
    # Evidence the volunteer sent: a file in storage and/or a certificate number.
    submitted_at: Mapped[datetime | None]
    evidence_key: Mapped[str | None] = mapped_column(String(300))
    evidence_file_name: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence_size: Mapped[int | None]
    evidence_number: Mapped[str | None] = mapped_column(String(64))
    # The daily sweep's 30-day warning, sent once per expiry date.
    expiry_warned_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class PassportConsent(TenantScoped, Timestamped, Base):
    """A volunteer's consent, kept by the tenant that verified their checks, to show
    them to another tenant. Revoking it withdraws what that tenant has not decided."""

    __tablename__ = "passport_consents"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        UniqueConstraint("tenant_id", "membership_id", "to_tenant_id"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    membership_id: Mapped[uuid.UUID]
    to_tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    given_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class PassportCheck(TenantScoped, Timestamped, Base):
    """One verified check shared with this tenant from another: who verified what, when.

    The receiving tenant's coordinators accept it (it becomes their own verified check)
    or decline it (the check is done again).
    """

    __tablename__ = "passport_checks"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        UniqueConstraint("tenant_id", "membership_id", "from_tenant_id", "check_kind"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    membership_id: Mapped[uuid.UUID]
    from_tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    from_tenant_name: Mapped[str] = mapped_column(String(200))
    check_kind: Mapped[str] = mapped_column(String(32))
    check_name: Mapped[str] = mapped_column(String(200))
    verified_by_name: Mapped[str] = mapped_column(String(200))  # "" when passed online
    verified_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    decision: Mapped[str] = mapped_column(String(16), default=PassportDecision.PENDING.value)
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}
