"""Coordinators approve people into roles and record their checks.

The rule these feed, who may take a task, is ``onboarding.qualification``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

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
