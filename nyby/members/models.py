from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.configuration.models import Team
from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class Membership(TenantScoped, Timestamped, Base):
    """A person's place in one tenant, with the platform roles they hold there.

    Roles are flags rather than rows: the vocabulary is fixed, and "the tenant's
    coordinators" must stay a cheap indexed query at a 650,000-volunteer tenant.
    """

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "account_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    is_professional: Mapped[bool] = mapped_column(default=False)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_volunteer: Mapped[bool] = mapped_column(default=False)
    # Where a volunteer or staff member starts from, and how far they will go.
    home_latitude: Mapped[float | None]
    home_longitude: Mapped[float | None]
    home_area_cell: Mapped[str | None] = mapped_column(String(16))
    travel_radius_km: Mapped[float | None]
    version_id: Mapped[int] = mapped_column(default=1)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)
    # Read-only: members.services writes MembershipTeam rows itself. Loaded on use
    # (lists load it in bulk), so resolving the caller on every request stays one query.
    teams: Mapped[list[Team]] = relationship(
        secondary="membership_teams",
        primaryjoin=lambda: and_(
            Membership.tenant_id == MembershipTeam.tenant_id,
            Membership.id == MembershipTeam.membership_id,
        ),
        secondaryjoin=lambda: and_(
            Team.tenant_id == MembershipTeam.tenant_id,
            Team.id == MembershipTeam.team_id,
        ),
        order_by=lambda: (Team.position, Team.key),
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for role in Role if getattr(self, f"is_{role.value}"))

    @roles.setter
    def roles(self, roles: frozenset[Role] | set[Role] | list[Role]) -> None:
        wanted = {Role(r) for r in roles}
        for role in Role:
            setattr(self, f"is_{role.value}", role in wanted)


class MembershipTeam(TenantScoped, Base):
    """A member's place in one of the tenant's teams (a person may be in several)."""

    __tablename__ = "membership_teams"
    __table_args__ = (
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["team_id"], "teams", ondelete="CASCADE"),
        Index("ix_membership_teams_team", "tenant_id", "team_id"),
    )

    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
