from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, and_, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.configuration.models import Team
from nyby.core.db import Base, Timestamped, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk

# What reports count of a member, by id (the index ix_memberships_counted).
COUNTED_COLUMNS = (
    "tenant_id",
    "id",
    "is_volunteer",
    "created_at",
    "is_active",
    "deactivated_at",
    "first_on_duty_at",
    "home_area_cell",
)


class Membership(TenantScoped, Timestamped, Base):
    """A person's place in one tenant, with the platform roles they hold there.

    Roles are flags rather than rows: the vocabulary is fixed, and "the tenant's
    coordinators" must stay a cheap indexed query at a 650,000-volunteer tenant.
    """

    __tablename__ = "memberships"
    __audited__ = True  # nyby.audit.trail records every change
    __audit_ignore__ = ("waiting_since",)  # kept by each wave of offers, not a change
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id"),
        # Campaigns are only ever deactivated, never deleted (like roles).
        tenant_fk(["campaign_id"], "campaigns"),
        Index("ix_memberships_campaign", "tenant_id", "campaign_id"),
        # Reports look each approved role's member up by id for what they count (a
        # volunteer, joined, active, first on duty, home area): Table 2 for a nation,
        # from the index alone (nyby.reporting.metrics.volunteers_by_role).
        Index("ix_memberships_counted", *COUNTED_COLUMNS),
        # "The tenant's safeguarding leads", told of every concern (nyby.safeguarding).
        Index(
            "ix_memberships_safeguarding_leads",
            "tenant_id",
            postgresql_where=text("is_safeguarding_lead"),
            sqlite_where=text("is_safeguarding_lead"),
        ),
    )

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
    # Not a role: any member an admin names reads and handles safeguarding concerns.
    is_safeguarding_lead: Mapped[bool] = mapped_column(default=False)
    # Where a volunteer or staff member starts from, and how far they will go.
    home_latitude: Mapped[float | None]
    home_longitude: Mapped[float | None]
    home_area_cell: Mapped[str | None] = mapped_column(String(16))
    travel_radius_km: Mapped[float | None]
    # Sign-up (onboarding.signup). The membership's created_at is when they signed up.
    campaign_id: Mapped[uuid.UUID | None]
    agreement_accepted_at: Mapped[datetime | None]
    # When they can help: [{"day": "mon", "part": "morning"}, ...]
    availability: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. "driving"
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. "pl", "ur"
    # Under-18s: a parent or guardian consents (by a mailed link) before any approval.
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_email: Mapped[str | None] = mapped_column(String(254))
    guardian_consent_at: Mapped[datetime | None]
    # The first time a coordinator approved them in a role: sign-up to approval is measured.
    first_approved_at: Mapped[datetime | None]
    # Push dispatch (nyby.dispatch): offered tasks only while on duty (until a time, if set),
    # within their availability, outside quiet hours (tenant's local time) and under their
    # daily alert limit; preferred roles first.
    on_duty: Mapped[bool] = mapped_column(default=False)
    on_duty_until: Mapped[datetime | None]
    # The first time they went on duty: "volunteers ever on duty" (nyby.reporting) is
    # counted from it. Stamped whenever on_duty becomes true (see the listener below).
    first_on_duty_at: Mapped[datetime | None]
    preferred_roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # role keys
    # Since their last offer of a task (dispatch.waves writes it with the offers), or since
    # they joined if never offered: who has waited longest is asked first, read from the
    # membership itself rather than from every offer they ever had.
    waiting_since: Mapped[datetime] = mapped_column(default=utcnow)
    max_alerts_per_day: Mapped[int | None]  # None: the tenant's dispatch policy decides
    quiet_hours_start: Mapped[time | None]
    quiet_hours_end: Mapped[time | None]
    # Channels besides the in-app inbox, per kind of notice (nyby.notifications.channels):
    # {"offers": ["push", "sms"], "updates": ["email"]}; empty: the defaults there.
    notification_channels: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
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


@event.listens_for(Membership.on_duty, "set")
def _first_time_on_duty(
    member: Membership, value: bool | None, old: object, initiator: object
) -> None:
    """Every way of going on duty (the duty switch, the demo, a simulation) is recorded
    once, without each caller having to remember it."""
    if value and member.first_on_duty_at is None:
        member.first_on_duty_at = utcnow()


class MembershipTeam(TenantScoped, Base):
    """A member's place in one of the tenant's teams (a person may be in several)."""

    __tablename__ = "membership_teams"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["team_id"], "teams", ondelete="CASCADE"),
        Index("ix_membership_teams_team", "tenant_id", "team_id"),
    )

    membership_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class Invitation(TenantScoped, Timestamped, Base):
    """An admin's invitation to join as staff, sent by email; the link holds a token
    stored here only as a hash, and it expires."""

    __tablename__ = "invitations"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        UniqueConstraint("tenant_id", "token_hash"),
        tenant_fk(["invited_by"], "memberships", ondelete="CASCADE"),
        Index("ix_invitations_email", "tenant_id", "email"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    # Platform roles given on acceptance ("staff", "professional", "coordinator"...).
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Staff-only volunteer roles (keys) they may take at once, without onboarding.
    role_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    invited_by: Mapped[uuid.UUID]
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
