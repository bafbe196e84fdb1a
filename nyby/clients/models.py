from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class ClientStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # no new tasks for now (in hospital, away)
    ENDED = "ended"  # no longer needs support


# The needs and risks a helper should know before they go, as yes/no flags on a client.
NEED_FLAGS = (
    "hearing_impairment",
    "dementia",
    "mobility_needs",
    "pets",
    "key_safe",
    "lone_working_risk",
)


class Client(TenantScoped, Timestamped, Base):
    """A person the tenant supports. Volunteers only ever see what a task needs."""

    __tablename__ = "clients"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        Index("ix_clients_tenant_id_area_cell", "tenant_id", "area_cell"),
        # Memberships are deactivated, never deleted, so the recorder stays known.
        tenant_fk(["consent_recorded_by"], "memberships"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str | None] = mapped_column(String(16))
    latitude: Mapped[float]
    longitude: Mapped[float]
    area_cell: Mapped[str] = mapped_column(String(16))
    street_cell: Mapped[str] = mapped_column(String(16))
    # Needs and risks a helper should know about before they go.
    hearing_impairment: Mapped[bool] = mapped_column(default=False)
    dementia: Mapped[bool] = mapped_column(default=False)
    interpreter_language: Mapped[str | None] = mapped_column(String(35))
    mobility_needs: Mapped[bool] = mapped_column(default=False)
    pets: Mapped[bool] = mapped_column(default=False)
    key_safe: Mapped[bool] = mapped_column(default=False)  # the code itself is never stored
    lone_working_risk: Mapped[bool] = mapped_column(default=False)
    risk_assessment: Mapped[str] = mapped_column(Text, default="")
    # Consent to share their details with helpers, as recorded by a professional.
    consent_given_at: Mapped[datetime | None]
    consent_recorded_by: Mapped[uuid.UUID | None]
    consent_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default=ClientStatus.ACTIVE.value)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    # Read-only: services write the link rows themselves (no two writers of tenant_id).
    professional_links: Mapped[list[ClientProfessional]] = relationship(
        primaryjoin=lambda: and_(
            Client.tenant_id == foreign(ClientProfessional.tenant_id),
            Client.id == foreign(ClientProfessional.client_id),
        ),
        order_by=lambda: ClientProfessional.membership_id,
        lazy="selectin",
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version_id}


class ClientProfessional(TenantScoped, Base):
    """A professional responsible for a client (there may be several)."""

    __tablename__ = "client_professionals"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["client_id"], "clients", ondelete="CASCADE"),
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        Index("ix_client_professionals_membership", "tenant_id", "membership_id"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
