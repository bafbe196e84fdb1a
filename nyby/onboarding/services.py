"""Coordinators approve people into roles and record their checks.

The rule these feed, who may take a task, is ``onboarding.qualification``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from nyby.auth.permissions import Action
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Unprocessable
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment
from nyby.onboarding.qualification import qualifications_for
from nyby.tenancy.resolution import Actor


def qualifications(actor: Actor, member: Membership) -> dict[str, Any]:
    """A member's roles and checks, and for each active role whether they may take it
    now and what is missing."""
    if member.id != actor.membership.id:
        actor.require(Action.VIEW_MEMBERS)
    now = utcnow()
    roles = db.session.scalars(
        select(VolunteerRole).where(VolunteerRole.is_active).order_by(VolunteerRole.position)
    ).all()
    assignments = {
        a.role_id: a
        for a in db.session.scalars(
            select(RoleAssignment).where(RoleAssignment.membership_id == member.id)
        )
    }
    checks = db.session.scalars(
        select(CheckRecord).where(CheckRecord.membership_id == member.id)
    ).all()
    kinds = {c.id: c.key for c in db.session.scalars(select(CheckType))}
    return {
        "roles": [
            {
                "role": role.key,
                "status": assignments[role.id].status if role.id in assignments else None,
                "may_take_tasks": q.qualified,
                "missing_checks": list(q.missing_checks),
            }
            for role, q in zip(roles, qualifications_for(member, roles, now), strict=True)
        ],
        "checks": [
            {
                "check_type": kinds[c.check_type_id],
                "status": c.status,
                "verified_at": c.verified_at,
                "expires_at": c.expires_at,
            }
            for c in checks
        ],
    }


@dataclass(frozen=True)
class Waiting:
    """A member with something for a coordinator to decide, oldest request first."""

    member: Membership
    roles: list[str]  # names of the roles they applied for
    checks: list[str]  # names of the checks waiting to be verified
    since: datetime


def waiting_for_decision(actor: Actor) -> list[Waiting]:
    """The approval queue: role applications and checks not yet decided, per member."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    applied = db.session.execute(
        select(RoleAssignment.membership_id, VolunteerRole.name, RoleAssignment.created_at)
        .join(VolunteerRole, VolunteerRole.id == RoleAssignment.role_id)
        .where(RoleAssignment.status == AssignmentStatus.APPLIED.value)
    ).all()
    pending = db.session.execute(
        select(CheckRecord.membership_id, CheckType.name, CheckRecord.created_at)
        .join(CheckType, CheckType.id == CheckRecord.check_type_id)
        .where(CheckRecord.status == CheckStatus.PENDING.value)
    ).all()
    found: dict[Any, dict[str, Any]] = {}
    for kind, rows in (("roles", applied), ("checks", pending)):
        for member_id, name, at in rows:
            entry = found.setdefault(member_id, {"roles": [], "checks": [], "since": at})
            entry[kind].append(name)
            entry["since"] = min(entry["since"], at)
    members = {
        m.id: m
        for m in db.session.scalars(
            select(Membership)
            .where(Membership.id.in_(found))
            .options(selectinload(Membership.account))
        )
    }
    queue = [
        Waiting(members[mid], sorted(e["roles"]), sorted(e["checks"]), e["since"])
        for mid, e in found.items()
        if mid in members
    ]
    return sorted(queue, key=lambda w: w.since)


def decide_role(actor: Actor, member: Membership, role_key: str, status: str) -> RoleAssignment:
    """Approve, reject or suspend a member in a role (one row per member and role)."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    role = db.session.scalar(select(VolunteerRole).where(VolunteerRole.key == role_key))
    if role is None:
        raise Unprocessable("This tenant has no such role.", errors={"role": ["No such role."]})
    assignment = db.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.membership_id == member.id, RoleAssignment.role_id == role.id
        )
    )
    if assignment is None:
        assignment = RoleAssignment(membership_id=member.id, role_id=role.id)
        db.session.add(assignment)
    assignment.status = status
    assignment.approved_at = utcnow() if status == AssignmentStatus.APPROVED else None
    db.session.flush()
    return assignment


def record_check(
    actor: Actor,
    member: Membership,
    check_key: str,
    status: str,
    expires_at: datetime | None = None,
) -> CheckRecord:
    """Record the outcome of a check. A verified check expires after the check type's
    validity period unless the coordinator gives the date (from the certificate)."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    check_type = db.session.scalar(select(CheckType).where(CheckType.key == check_key))
    if check_type is None:
        raise Unprocessable(
            "This tenant has no such check.", errors={"check_type": ["No such check."]}
        )
    record = db.session.scalar(
        select(CheckRecord).where(
            CheckRecord.membership_id == member.id, CheckRecord.check_type_id == check_type.id
        )
    )
    if record is None:
        record = CheckRecord(membership_id=member.id, check_type_id=check_type.id)
        db.session.add(record)
    now = utcnow()
    record.status = status
    if status == CheckStatus.VERIFIED:
        record.verified_at = now
        if expires_at is None and check_type.validity_months is not None:
            expires_at = now + relativedelta(months=check_type.validity_months)
        record.expires_at = expires_at
    else:
        record.verified_at = record.expires_at = None
    db.session.flush()
    return record
