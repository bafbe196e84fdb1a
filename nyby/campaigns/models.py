from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nyby.configuration.models import VolunteerRole
from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class Campaign(TenantScoped, Timestamped, Base):
    """A recruitment drive (drivers, young people, Polish speakers...) with its own link.

    Keyed by a slug unique per tenant, like the rest of the tenant file. Sign-ups keep
    the campaign they came through, so a campaign is only deactivated, never deleted.
    """

    __tablename__ = "campaigns"
    __audited__ = True  # nyby.audit.trail records every change
    __audit_ignore__ = ("visits",)  # a counter of page views, not a change
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text, default="")  # the landing page's words
    # Who it is aimed at: {"min_age", "max_age", "skills", "languages",
    # "area": {"latitude", "longitude", "radius_km"}}; every part optional.
    target_group: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    target_sign_ups: Mapped[int | None]
    # Landing page visits: one atomic UPDATE per visit, no row per visitor.
    visits: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    version_id: Mapped[int] = mapped_column(default=1)

    roles: Mapped[list[VolunteerRole]] = relationship(
        secondary="campaign_roles",
        primaryjoin=lambda: and_(
            Campaign.tenant_id == CampaignRole.tenant_id,
            Campaign.id == CampaignRole.campaign_id,
        ),
        secondaryjoin=lambda: and_(
            VolunteerRole.tenant_id == CampaignRole.tenant_id,
            VolunteerRole.id == CampaignRole.role_id,
        ),
        order_by=lambda: (VolunteerRole.position, VolunteerRole.key),
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version_id}


class CampaignRole(TenantScoped, Base):
    """A role a campaign offers."""

    __tablename__ = "campaign_roles"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["campaign_id"], "campaigns", ondelete="CASCADE"),
        tenant_fk(["role_id"], "volunteer_roles"),
        Index("ix_campaign_roles_role", "tenant_id", "role_id"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
