"""Staff invitations: an admin invites someone by email; the mailed link makes them a
member with the invited platform roles, and with staff-only volunteer roles at once
(staff take those without the volunteer onboarding: ``onboarding.qualification``).

The link's token is stored only as its SHA-256 hash, like refresh tokens: a leaked
database cannot be used to join a tenant.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Select, select, update

from nyby.auth.models import Account
from nyby.auth.permissions import Action, Role
from nyby.auth.services import create_account, normalise_email
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Forbidden, Gone, NotFound, Unauthorized, Unprocessable
from nyby.members.models import Invitation, Membership
from nyby.members.services import add_member
from nyby.notifications.services import send_mail
from nyby.onboarding.models import AssignmentStatus, RoleAssignment
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

VALID_FOR = timedelta(days=7)
# Platform roles an invitation may give. Admins are made by admins, on the member.
INVITABLE_ROLES = (Role.STAFF, Role.PROFESSIONAL, Role.COORDINATOR)


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


def status_of(invitation: Invitation) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= utcnow():
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- admins ------------------------------------------------------------------------


def invite(actor: Actor, body: dict[str, Any]) -> Invitation:
    """Invite someone as staff and mail them the link (valid for 7 days).

    Inviting again replaces a pending invitation to the same address: the old link
    stops working. An active member cannot be invited (change their roles instead).
    """
    actor.require(Action.CHANGE_MEMBERS)
    email = normalise_email(body["email"])
    roles = sorted(set(body["roles"]))
    role_keys = sorted(set(body.get("role_keys", [])))
    _check_role_keys(roles, role_keys)
    account = db.session.scalar(select(Account).where(Account.email == email))
    if account is not None and db.session.scalar(
        select(Membership.id).where(Membership.account_id == account.id, Membership.is_active)
    ):
        raise Conflict("This person is already a member here; change their roles instead.")
    now = utcnow()
    db.session.execute(
        update(Invitation)
        .where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        name=body["name"].strip(),
        roles=roles,
        role_keys=role_keys,
        invited_by=actor.membership.id,
        token_hash=_hash(token),
        expires_at=now + VALID_FOR,
    )
    db.session.add(invitation)
    db.session.flush()
    _mail(actor, invitation, token, account)
    return invitation


def _check_role_keys(roles: list[str], role_keys: list[str]) -> None:
    if not role_keys:
        return
    if Role.STAFF.value not in roles:
        raise Unprocessable(
            "Staff-only roles are for staff: add the staff role.",
            errors={"roles": ["Staff-only roles need the staff role."]},
        )
    found = set(
        db.session.scalars(
            select(VolunteerRole.key).where(
                VolunteerRole.key.in_(role_keys),
                VolunteerRole.is_active,
                VolunteerRole.staff_only,
            )
        )
    )
    unknown = {
        i: ["Not a staff-only role here."] for i, k in enumerate(role_keys) if k not in found
    }
    if unknown:
        names = ", ".join(k for k in role_keys if k not in found)
        raise Unprocessable(
            f"Not a staff-only role of this tenant: {names}.", errors={"role_keys": unknown}
        )


def _mail(actor: Actor, invitation: Invitation, token: str, account: Account | None) -> None:
    tenant = actor.tenant
    link = url_for("web.accept_invitation", tenant=tenant.slug, token=token, _external=True)
    with force_locale((account.locale if account else None) or tenant.locale):
        subject = _("You are invited to join %(tenant)s", tenant=tenant.name)
        body = _(
            "Hello %(name)s,\n\n%(inviter)s invites you to join %(tenant)s as a member of "
            "staff.\n\nAccept the invitation with this link within 7 days:\n%(link)s\n\n"
            "If you did not expect this, you can ignore this message.",
            name=invitation.name,
            inviter=actor.account.name,
            tenant=tenant.name,
            link=link,
        )
    send_mail(invitation.email, "invitation", subject, body)


def list_invitations(actor: Actor, status: str | None = None) -> Select[Any]:
    """Invitations, newest first; optionally only those pending, accepted, expired or
    revoked."""
    actor.require(Action.CHANGE_MEMBERS)
    statement = select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id)
    now = utcnow()
    undecided = Invitation.accepted_at.is_(None) & Invitation.revoked_at.is_(None)
    if status == InvitationStatus.PENDING:
        statement = statement.where(undecided, Invitation.expires_at > now)
    elif status == InvitationStatus.EXPIRED:
        statement = statement.where(undecided, Invitation.expires_at <= now)
    elif status == InvitationStatus.ACCEPTED:
        statement = statement.where(Invitation.accepted_at.is_not(None))
    elif status == InvitationStatus.REVOKED:
        statement = statement.where(
            Invitation.accepted_at.is_(None), Invitation.revoked_at.is_not(None)
        )
    return statement


def staff_only_roles(actor: Actor) -> list[VolunteerRole]:
    """The roles an invitation may give at once: active and for staff only."""
    actor.require(Action.CHANGE_MEMBERS)
    return list(
        db.session.scalars(
            select(VolunteerRole)
            .where(VolunteerRole.is_active, VolunteerRole.staff_only)
            .order_by(VolunteerRole.position, VolunteerRole.key)
        )
    )


def get_invitation_or_404(actor: Actor, invitation_id: uuid.UUID) -> Invitation:
    """Admins only; anyone else gets the same 404 as for an invitation that does not
    exist."""
    if not actor.can(Action.CHANGE_MEMBERS):
        raise NotFound("No such invitation.")
    invitation = db.session.scalar(select(Invitation).where(Invitation.id == invitation_id))
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def revoke(actor: Actor, invitation: Invitation) -> Invitation:
    """Withdraw an invitation: its link stops working. An accepted one is a membership
    now (change that instead): 409. Revoking twice changes nothing."""
    actor.require(Action.CHANGE_MEMBERS)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted; change the member instead.")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db.session.flush()
    return invitation


# -- the invited person (public) ---------------------------------------------------


@dataclass(frozen=True)
class Found:
    """An invitation a link names, and whether its email already has an account."""

    invitation: Invitation
    account: Account | None


def find(token: str) -> Found:
    """The usable invitation a link's token names. Unknown: 404; ended: 410 saying why."""
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token)))
    if invitation is None:
        raise NotFound("No such invitation.")
    status = status_of(invitation)
    if status is InvitationStatus.ACCEPTED:
        raise Gone(_("This invitation has already been used. Log in to continue."))
    if status is InvitationStatus.REVOKED:
        raise Gone(
            _("This invitation was withdrawn. Ask the person who invited you for a new one.")
        )
    if status is InvitationStatus.EXPIRED:
        raise Gone(
            _(
                "This invitation expired on %(date)s. Ask the person who invited you for a new "
                "one.",
                date=invitation.expires_at.date().isoformat(),
            )
        )
    account = db.session.scalar(select(Account).where(Account.email == invitation.email))
    return Found(invitation, account)


def accept(
    tenant: Tenant,
    token: str,
    caller: Account | None,
    name: str | None = None,
    password: str | None = None,
) -> tuple[Membership, Account]:
    """Join with an invitation's token.

    A new email gets an account (name and a password of at least 10 characters; the
    link proved the address, so it counts as verified). An email with an account must
    be the logged-in caller's. The invitation is spent by one conditional UPDATE, so of
    two acceptances at once exactly one joins and the other gets 410.
    """
    found = find(token)
    invitation, account = found.invitation, found.account
    if account is not None:
        if caller is None:
            raise Unauthorized(
                _("Log in as %(email)s to accept this invitation.", email=invitation.email)
            )
        if caller.id != account.id:
            raise Forbidden(
                _("This invitation is for %(email)s; log in as them.", email=invitation.email)
            )
    elif not password or len(password) < 10:
        raise Unprocessable(
            _("Choose a password of at least 10 characters."),
            errors={"password": [_("At least 10 characters.")]},
        )
    now = utcnow()
    claimed = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise Gone(_("This invitation has already been used. Log in to continue."))
    if account is None:
        account = create_account(
            invitation.email, (name or "").strip() or invitation.name, password
        )
    if account.email_verified_at is None:
        account.email_verified_at = now
    member = add_member(account, {Role(r) for r in invitation.roles})
    _give_staff_roles(member, invitation, now)
    return member, account


def _give_staff_roles(member: Membership, invitation: Invitation, now: Any) -> None:
    """Approved at once: the admin chose them; a role withdrawn since is skipped."""
    roles = db.session.scalars(
        select(VolunteerRole).where(
            VolunteerRole.key.in_(invitation.role_keys), VolunteerRole.is_active
        )
    ).all()
    held = {
        a.role_id: a
        for a in db.session.scalars(
            select(RoleAssignment).where(RoleAssignment.membership_id == member.id)
        )
    }
    for role in roles:
        assignment = held.get(role.id)
        if assignment is None:
            assignment = RoleAssignment(membership_id=member.id, role_id=role.id)
            db.session.add(assignment)
        assignment.status = AssignmentStatus.APPROVED.value
        assignment.approved_at = now
        assignment.decided_by = invitation.invited_by
        assignment.decided_at = now
        assignment.reason = "Invited as staff"
    db.session.flush()
