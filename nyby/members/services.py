"""Memberships: who belongs to a tenant, with which roles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager

from nyby.auth.models import Account
from nyby.auth.permissions import Action, Role
from nyby.auth.services import normalise_email
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.members.models import Membership
from nyby.tenancy.resolution import Actor


def list_members(actor: Actor, role: str | None = None, active: bool | None = None) -> Select[Any]:
    actor.require(Action.VIEW_MEMBERS)
    statement = (
        select(Membership)
        .join(Membership.account)
        .options(contains_eager(Membership.account))  # one join, used for sorting and loading
        .order_by(Account.name, Membership.id)
    )
    if role is not None:
        statement = statement.where(getattr(Membership, f"is_{Role(role).value}"))
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
    if "roles" in changes:
        member.roles = {Role(r) for r in changes["roles"]}
    if "is_active" in changes and changes["is_active"] != member.is_active:
        member.is_active = changes["is_active"]
        # Access is checked on every request, so this takes effect at once.
        member.deactivated_at = None if member.is_active else utcnow()
    db.session.flush()
    if _active_admins() == 0:
        raise Conflict("A tenant must keep at least one active admin.")
    return member


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.is_admin, Membership.is_active)
        )
        or 0
    )
