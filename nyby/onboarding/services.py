"""Coordinators approve people into roles and record their checks.

The rule these feed, who may take a task, is ``onboarding.qualification``; what a
volunteer does themself (evidence, training, the expiry sweep) is ``onboarding.checks``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from flask_babel import gettext
from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.configuration.models import CheckType, RoleCheckType, VolunteerRole
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.members.models import Membership
from nyby.notifications.services import notify
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment
from nyby.onboarding.qualification import ADULT_AGE, age_on, qualifications_for
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
    kinds = {c.id: c for c in db.session.scalars(select(CheckType))}
    return {
        "roles": [
            {
                "role": role.key,
                "name": role.name,
                "status": assignments[role.id].status if role.id in assignments else None,
                "reason": assignments[role.id].reason if role.id in assignments else "",
                "version": assignments[role.id].version_id if role.id in assignments else None,
                "may_take_tasks": q.qualified,
                "missing_checks": list(q.missing_checks),
            }
            for role, q in zip(roles, qualifications_for(member, roles, now), strict=True)
        ],
        "checks": [
            {
                "id": c.id,
                "check_type": kinds[c.check_type_id].key,
                "name": kinds[c.check_type_id].name,
                "status": c.status,
                "reason": c.reason,
                "verified_at": c.verified_at,
                "verified_by": c.verified_by,
                "source": c.source,
                "expires_at": c.expires_at,
                "submitted_at": c.submitted_at,
                "evidence_sent": c.evidence_key is not None or c.evidence_number is not None,
                "version": c.version_id,
            }
            for c in sorted(checks, key=lambda c: kinds[c.check_type_id].position)
        ],
    }


# --------------------------------------------------------------------------- approval


class Missing(StrEnum):
    """What stands between an applicant and approval in a role."""

    CHECK = "check"  # not sent, rejected, lapsed or otherwise not verified
    EVIDENCE_TO_CHECK = "evidence_to_check"  # sent, waiting for a coordinator
    EMAIL_NOT_VERIFIED = "email_not_verified"
    GUARDIAN_CONSENT = "guardian_consent"  # under 18, no parent's or guardian's consent yet


def describe_missing(item: dict[str, Any]) -> str:
    """One missing thing in the reader's words."""
    what = item["what"]
    if what == Missing.EMAIL_NOT_VERIFIED:
        return gettext("email address not confirmed")
    if what == Missing.GUARDIAN_CONSENT:
        return gettext("a parent's or guardian's consent (under 18)")
    if what == Missing.EVIDENCE_TO_CHECK:
        return gettext("%(check)s: evidence waiting to be checked", check=item["name"])
    return gettext("%(check)s not verified", check=item["name"])


def _person_missing(member: Membership, today: date) -> list[dict[str, Any]]:
    found = []
    account = member.account
    if account.email_verified_at is None:
        found.append({"what": Missing.EMAIL_NOT_VERIFIED.value, "check": None, "name": ""})
    born = account.date_of_birth
    if born is not None and age_on(born, today) < ADULT_AGE and member.guardian_consent_at is None:
        found.append({"what": Missing.GUARDIAN_CONSENT.value, "check": None, "name": ""})
    return found


def _checks_missing(
    required: Sequence[CheckType], records: Mapping[uuid.UUID, CheckRecord], now: datetime
) -> list[dict[str, Any]]:
    found = []
    for check_type in required:
        record = records.get(check_type.id)
        if record is not None and record.status == CheckStatus.VERIFIED:
            if record.expires_at is None or record.expires_at > now:
                continue
        waiting = (
            record is not None
            and record.status == CheckStatus.PENDING
            and record.submitted_at is not None
        )
        what = Missing.EVIDENCE_TO_CHECK if waiting else Missing.CHECK
        found.append(
            {
                "what": what.value,
                "check": check_type.key,
                "name": check_type.name,
                "status": record.status if record is not None else None,
            }
        )
    return found


def _required_checks(role_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[CheckType]]:
    required: dict[uuid.UUID, list[CheckType]] = {}
    for role_id, check_type in db.session.execute(
        select(RoleCheckType.role_id, CheckType)
        .join(CheckType, CheckType.id == RoleCheckType.check_type_id)
        .where(RoleCheckType.role_id.in_(list(role_ids)))
        .order_by(CheckType.position, CheckType.key)
    ).tuples():
        required.setdefault(role_id, []).append(check_type)
    return required


def _records_of(member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[uuid.UUID, CheckRecord]]:
    found: dict[uuid.UUID, dict[uuid.UUID, CheckRecord]] = {}
    for record in db.session.scalars(
        select(CheckRecord).where(CheckRecord.membership_id.in_(list(member_ids)))
    ):
        found.setdefault(record.membership_id, {})[record.check_type_id] = record
    return found


def missing_for_role(
    member: Membership, role: VolunteerRole, now: datetime
) -> list[dict[str, Any]]:
    """Everything that must be done before ``member`` can be approved in ``role``."""
    if role.staff_only and member.is_staff:
        return []  # staff take staff-only roles without the volunteer onboarding
    required = _required_checks([role.id]).get(role.id, [])
    records = _records_of([member.id]).get(member.id, {})
    return _person_missing(member, now.date()) + _checks_missing(required, records, now)


def missing_by_role(actor: Actor, member: Membership) -> dict[str, list[dict[str, Any]]]:
    """For a coordinator's page: what each role the member applied for (or was paused
    in) still needs before approval, by role key."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    roles = db.session.scalars(
        select(VolunteerRole)
        .join(RoleAssignment, RoleAssignment.role_id == VolunteerRole.id)
        .where(
            RoleAssignment.membership_id == member.id,
            RoleAssignment.status != AssignmentStatus.APPROVED.value,
        )
    ).all()
    now = utcnow()
    return {role.key: missing_for_role(member, role, now) for role in roles}


def _to_verify(record: CheckRecord) -> bool:
    """Evidence sent and not yet decided on (a first check, or a renewal of one)."""
    if record.submitted_at is None:
        return False
    if record.status == CheckStatus.PENDING:
        return True
    return (
        record.status == CheckStatus.VERIFIED
        and record.verified_at is not None
        and record.submitted_at > record.verified_at
    )


def waiting_for_decision(actor: Actor) -> Rows:
    """The approval queue: members with a role application, or evidence to check,
    oldest sign-up first, each role with what is still missing."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    applied = (
        select(RoleAssignment.id)
        .where(
            RoleAssignment.membership_id == Membership.id,
            RoleAssignment.status == AssignmentStatus.APPLIED.value,
        )
        .exists()
    )
    sent = (
        select(CheckRecord.id)
        .where(
            CheckRecord.membership_id == Membership.id,
            CheckRecord.submitted_at.is_not(None),
            (CheckRecord.status == CheckStatus.PENDING.value)
            | (
                (CheckRecord.status == CheckStatus.VERIFIED.value)
                & (CheckRecord.submitted_at > CheckRecord.verified_at)
            ),
        )
        .exists()
    )
    statement = (
        select(Membership)
        .where(Membership.is_active, applied | sent)
        .order_by(Membership.created_at, Membership.id)
    )
    return Rows(statement, lambda rows: _applicants([row[0] for row in rows], utcnow()))


def _applicants(members: Sequence[Membership], now: datetime) -> list[dict[str, Any]]:
    ids = [m.id for m in members]
    applications: dict[uuid.UUID, list[tuple[RoleAssignment, VolunteerRole]]] = {}
    for assignment, role in db.session.execute(
        select(RoleAssignment, VolunteerRole)
        .join(VolunteerRole, VolunteerRole.id == RoleAssignment.role_id)
        .where(
            RoleAssignment.membership_id.in_(ids),
            RoleAssignment.status == AssignmentStatus.APPLIED.value,
        )
        .order_by(VolunteerRole.position, VolunteerRole.key)
    ).tuples():
        applications.setdefault(assignment.membership_id, []).append((assignment, role))
    required = _required_checks({role.id for found in applications.values() for _, role in found})
    records = _records_of(ids)
    kinds = {c.id: c for c in db.session.scalars(select(CheckType))}
    queue = []
    for member in members:
        own = records.get(member.id, {})
        person = _person_missing(member, now.date())
        queue.append(
            {
                "member_id": member.id,
                "name": member.account.name,
                "email": member.account.email,
                "signed_up_at": member.created_at,
                "roles": [
                    {
                        "role": role.key,
                        "name": role.name,
                        "applied_at": assignment.created_at,
                        "version": assignment.version_id,
                        "missing": (
                            missing := person + _checks_missing(required.get(role.id, []), own, now)
                        ),
                        "ready": not missing,
                    }
                    for assignment, role in applications.get(member.id, [])
                ],
                "checks_to_verify": [
                    {
                        "check_id": record.id,
                        "check_type": kinds[record.check_type_id].key,
                        "name": kinds[record.check_type_id].name,
                        "submitted_at": record.submitted_at,
                        "renewal": record.status == CheckStatus.VERIFIED,
                    }
                    for record in sorted(
                        own.values(), key=lambda r: kinds[r.check_type_id].position
                    )
                    if _to_verify(record)
                ],
            }
        )
    return queue


def decide_role(
    actor: Actor,
    member: Membership,
    role_key: str,
    status: str,
    reason: str = "",
    version: int | None = None,
) -> RoleAssignment:
    """Approve, reject or suspend a member in a role (one row per member and role).

    Approval waits until nothing is missing; a rejection or suspension says why. The
    member is told either way. ``version`` is the assignment's version the coordinator
    saw: if someone decided since, this is a 409 rather than a silent overwrite.
    """
    actor.require(Action.VERIFY_VOLUNTEERS)
    role = db.session.scalar(select(VolunteerRole).where(VolunteerRole.key == role_key))
    if role is None:
        raise Unprocessable("This tenant has no such role.", errors={"role": ["No such role."]})
    if status != AssignmentStatus.APPROVED and not reason.strip():
        raise Unprocessable(
            gettext("Say why, so the volunteer knows."),
            errors={"reason": [gettext("Missing data for required field.")]},
        )
    assignment = db.session.scalar(
        select(RoleAssignment)
        .where(RoleAssignment.membership_id == member.id, RoleAssignment.role_id == role.id)
        .with_for_update()
    )
    _require_version(assignment, version)
    now = utcnow()
    if status == AssignmentStatus.APPROVED:
        missing = missing_for_role(member, role, now)
        if missing:
            raise Conflict(
                gettext(
                    "%(name)s cannot be approved as %(role)s yet: %(missing)s.",
                    name=member.account.name,
                    role=role.name,
                    missing="; ".join(describe_missing(item) for item in missing),
                ),
                errors={"missing": [describe_missing(item) for item in missing]},
            )
    if assignment is None:
        assignment = RoleAssignment(membership_id=member.id, role_id=role.id)
        db.session.add(assignment)
    unchanged = assignment.status == status and assignment.reason == reason.strip()
    assignment.status = status
    assignment.approved_at = now if status == AssignmentStatus.APPROVED else None
    assignment.decided_by = actor.membership.id
    assignment.decided_at = now
    assignment.reason = "" if status == AssignmentStatus.APPROVED else reason.strip()
    if status == AssignmentStatus.APPROVED and member.first_approved_at is None:
        member.first_approved_at = now  # sign-up to approval is measured from here
    if not unchanged:
        notify(member.id, f"role_{status}", role=role.name, reason=assignment.reason)
    db.session.flush()
    return assignment


def _require_version(row: RoleAssignment | CheckRecord | None, version: int | None) -> None:
    if version is None:
        return
    if row is None or row.version_id != version:
        raise Conflict(
            gettext("Someone else decided this in the meantime; reload the page and look again.")
        )


def record_check(
    actor: Actor,
    member: Membership,
    check_key: str,
    status: str,
    expires_at: datetime | None = None,
    reason: str = "",
    version: int | None = None,
) -> CheckRecord:
    """Record the outcome of a check. A verified check expires after the check type's
    validity period unless the coordinator gives the date (from the certificate); a
    rejected one says why, and the volunteer sees it. The volunteer is told either way.
    """
    actor.require(Action.VERIFY_VOLUNTEERS)
    check_type = db.session.scalar(select(CheckType).where(CheckType.key == check_key))
    if check_type is None:
        raise Unprocessable(
            "This tenant has no such check.", errors={"check_type": ["No such check."]}
        )
    if status == CheckStatus.REJECTED and not reason.strip():
        raise Unprocessable(
            gettext("Say why the check was not passed, so the volunteer can put it right."),
            errors={"reason": [gettext("Missing data for required field.")]},
        )
    record = db.session.scalar(
        select(CheckRecord)
        .where(CheckRecord.membership_id == member.id, CheckRecord.check_type_id == check_type.id)
        .with_for_update()
    )
    _require_version(record, version)
    if record is None:
        record = CheckRecord(membership_id=member.id, check_type_id=check_type.id)
        db.session.add(record)
    now = utcnow()
    record.status = status
    record.verified_by = actor.membership.id
    record.source = ""
    if status == CheckStatus.VERIFIED:
        record.verified_at = now
        record.reason = ""
        record.expiry_warned_at = None
        if expires_at is None and check_type.validity_months is not None:
            expires_at = now + relativedelta(months=check_type.validity_months)
        record.expires_at = expires_at
        notify(
            member.id,
            "check_verified",
            check=check_type.name,
            date=expires_at.date().isoformat() if expires_at else "",
        )
    else:
        record.verified_at = record.expires_at = None
        record.reason = reason.strip()
        notify(member.id, f"check_{status}", check=check_type.name, reason=record.reason)
    db.session.flush()
    return record


def approval_times(actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Days from sign-up to first approval, for members first approved in the last
    90 days: the median and the 90th percentile (a success criterion)."""
    actor.require(Action.VERIFY_VOLUNTEERS)
    now = now or utcnow()
    since = now - APPROVAL_WINDOW
    rows = db.session.execute(
        select(Membership.created_at, Membership.first_approved_at).where(
            Membership.first_approved_at.is_not(None), Membership.first_approved_at >= since
        )
    ).all()
    days = sorted(
        max(0.0, (approved - signed_up).total_seconds() / 86400) for signed_up, approved in rows
    )
    return {
        "since": since,
        "count": len(days),
        "median_days": _percentile(days, 0.5),
        "p90_days": _percentile(days, 0.9),
    }


APPROVAL_WINDOW = timedelta(days=90)


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), to one decimal."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low), 1)
