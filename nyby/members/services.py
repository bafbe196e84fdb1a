"""Memberships: who belongs to a tenant, with which roles, in which teams."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import contains_eager, selectinload

from nyby.auth.models import Account
from nyby.auth.permissions import Action, Role
from nyby.auth.services import normalise_email
from nyby.configuration.models import Team
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.geo import Place
from nyby.members.models import Membership, MembershipTeam
from nyby.tenancy.resolution import Actor


def display_names(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Members' display names (never their contact details), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = db.session.scalars(select(Membership).where(Membership.id.in_(wanted)))
    return {member.id: member.account.name for member in found}


def list_members(
    actor: Actor, role: str | None = None, team: str | None = None, active: bool | None = None
) -> Select[Any]:
    actor.require(Action.VIEW_MEMBERS)
    statement = (
        select(Membership)
        .join(Membership.account)
        .options(
            contains_eager(Membership.account),  # one join, used for sorting and loading
            selectinload(Membership.teams),  # one query for the whole page
        )
        .order_by(Account.name, Membership.id)
    )
    if role is not None:
        statement = statement.where(getattr(Membership, f"is_{Role(role).value}"))
    if team is not None:
        in_team = (
            select(MembershipTeam.membership_id)
            .join(
                Team,
                (Team.tenant_id == MembershipTeam.tenant_id) & (Team.id == MembershipTeam.team_id),
            )
            .where(Team.key == team)
        )
        statement = statement.where(Membership.id.in_(in_team))
    if active is not None:
        statement = statement.where(Membership.is_active == active)
    return statement


def add_member_by_email(actor: Actor, email: str, roles: list[str]) -> Membership:
    actor.require(Action.CHANGE_MEMBERS)
    account = db.session.scalar(select(Account).where(Account.email == normalise_email(email)))
    if account is None:
        raise Unprocessable(
            "No account has this email.",
            errors={"email": ["No account has this email; ask the person to sign up first."]},
        )
    if db.session.scalar(select(Membership.id).where(Membership.account_id == account.id)):
        raise Conflict("This person is already a member; change their roles instead.")
    return add_member(account, {Role(r) for r in roles})


def add_member(account: Account, roles: set[Role]) -> Membership:
    """Give a person a place in the current tenant (or new roles if they have one)."""
    member = db.session.scalar(select(Membership).where(Membership.account_id == account.id))
    if member is None:
        member = Membership(account_id=account.id, account=account)
        db.session.add(member)
    member.roles = member.roles | roles
    member.is_active = True
    member.deactivated_at = None
    db.session.flush()
    return member


def update_member(actor: Actor, member: Membership, changes: dict[str, Any]) -> Membership:
    actor.require(Action.CHANGE_MEMBERS)
    if "teams" in changes and set_teams(member, changes["teams"]):
        # Only link rows changed: bump the version so a stale If-Match fails.
        member.updated_at = utcnow()
    if "roles" in changes:
        member.roles = {Role(r) for r in changes["roles"]}
    if "is_safeguarding_lead" in changes:
        member.is_safeguarding_lead = changes["is_safeguarding_lead"]
    if "is_active" in changes and changes["is_active"] != member.is_active:
        member.is_active = changes["is_active"]
        # Access is checked on every request, so this takes effect at once.
        member.deactivated_at = None if member.is_active else utcnow()
    db.session.flush()
    if _active_admins() == 0:
        raise Conflict("A tenant must keep at least one active admin.")
    return member


def set_teams(member: Membership, keys: Sequence[str]) -> bool:
    """Put the member in exactly these teams (keys of the current tenant); True if changed.

    An unknown key (another tenant's teams are unknown here too) is a 422 naming it,
    and nothing changes.
    """
    rows = db.session.execute(select(Team.key, Team.id).where(Team.key.in_(keys))).tuples()
    found = dict(rows.all())
    unknown = {i: [f"No team {key!r} here."] for i, key in enumerate(keys) if key not in found}
    if unknown:
        names = ", ".join(repr(key) for key in keys if key not in found)
        raise Unprocessable(f"Unknown team key(s): {names}.", errors={"teams": unknown})
    current = set(
        db.session.scalars(
            select(MembershipTeam.team_id).where(MembershipTeam.membership_id == member.id)
        )
    )
    wanted = {found[key] for key in keys}
    if removed := current - wanted:
        db.session.execute(
            delete(MembershipTeam).where(
                MembershipTeam.membership_id == member.id, MembershipTeam.team_id.in_(removed)
            )
        )
    for team_id in sorted(wanted - current):
        db.session.add(MembershipTeam(membership_id=member.id, team_id=team_id))
    db.session.flush()
    changed = bool(removed or wanted - current)
    if changed:
        db.session.expire(member, ["teams"])
    return changed


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.is_admin, Membership.is_active)
        )
        or 0
    )


def set_home_area(actor: Actor, area: dict[str, Any]) -> Membership:
    """Where I start from and how far I will travel: "open tasks near me" and, with
    dispatch, offers use it. Null latitude and longitude clear it."""
    member = actor.membership
    latitude, longitude = area["latitude"], area["longitude"]
    member.home_latitude, member.home_longitude = latitude, longitude
    member.home_area_cell = None if latitude is None else Place(latitude, longitude).area_cell
    member.travel_radius_km = area["travel_radius_km"]
    db.session.flush()
    return member
