"""Who may take a task in a role: the one place this rule is decided.

An active member who is a volunteer or staff; for a staff-only role, staff; holding
the role (an approved assignment; staff need none for staff-only roles); and every
check the role requires verified and not expired at the moment of taking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db
from nyby.core.errors import Forbidden
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment


@dataclass(frozen=True)
class Qualification:
    role_key: str
    reasons: tuple[str, ...]
    missing_checks: tuple[str, ...]

    @property
    def qualified(self) -> bool:
        return not self.reasons and not self.missing_checks

    def require(self) -> None:
        """Raise 403 naming exactly what is missing."""
        if self.qualified:
            return
        problems = list(self.reasons)
        if self.missing_checks:
            problems.append("missing or expired checks: " + ", ".join(self.missing_checks))
        raise Forbidden(
            f"Not qualified for the role {self.role_key!r}: " + "; ".join(problems) + ".",
            errors={"checks": list(self.missing_checks)} if self.missing_checks else None,
        )


def qualification(membership: Membership, role: VolunteerRole, at: datetime) -> Qualification:
    reasons: list[str] = []
    if not membership.is_active:
        reasons.append("the membership is not active")
    if not (membership.is_volunteer or membership.is_staff):
        reasons.append("only volunteers and staff take tasks")
    if not role.is_active:
        reasons.append("the role is no longer offered")
    if role.staff_only and not membership.is_staff:
        reasons.append("the role is for staff only")
    staff_without_onboarding = role.staff_only and membership.is_staff
    if not staff_without_onboarding and not _holds(membership, role):
        reasons.append("the role has not been approved for you")
    return Qualification(role.key, tuple(reasons), tuple(_missing_checks(membership, role, at)))


def _holds(membership: Membership, role: VolunteerRole) -> bool:
    return (
        db.session.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.membership_id == membership.id,
                RoleAssignment.role_id == role.id,
                RoleAssignment.status == AssignmentStatus.APPROVED.value,
            )
        )
        is not None
    )


def _missing_checks(membership: Membership, role: VolunteerRole, at: datetime) -> list[str]:
    valid = set(
        db.session.scalars(
            select(CheckRecord.check_type_id).where(
                CheckRecord.membership_id == membership.id,
                CheckRecord.status == CheckStatus.VERIFIED.value,
                (CheckRecord.expires_at.is_(None)) | (CheckRecord.expires_at > at),
            )
        )
    )
    required: list[CheckType] = list(role.check_types)
    return [check.key for check in required if check.id not in valid]
