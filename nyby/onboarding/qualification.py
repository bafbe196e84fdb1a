"""Who may take a task in a role: the one place this rule is decided.

An active member who is a volunteer or staff; for a staff-only role, staff; holding
the role (an approved assignment; staff need none for staff-only roles); and every
check the role requires verified and not expired at the moment of taking.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from nyby.configuration.models import CheckType, RoleCheckType, VolunteerRole
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


def age_on(born: date, today: date) -> int:
    """Whole years old on ``today`` (roles set minimum ages; under 18 needs a guardian)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


ADULT_AGE = 18


def qualification(membership: Membership, role: VolunteerRole, at: datetime) -> Qualification:
    return qualifications_for(membership, [role], at)[0]


def qualifications_for(
    membership: Membership, roles: Sequence[VolunteerRole], at: datetime
) -> list[Qualification]:
    """The rule for several roles at once (browsing asks for every role): the member's
    approved roles are read once, then the roles' required checks they lack."""
    held = set(
        db.session.scalars(
            select(RoleAssignment.role_id).where(
                RoleAssignment.membership_id == membership.id,
                RoleAssignment.status == AssignmentStatus.APPROVED.value,
            )
        )
    )
    valid = select(CheckRecord.check_type_id).where(
        CheckRecord.membership_id == membership.id,
        CheckRecord.status == CheckStatus.VERIFIED.value,
        (CheckRecord.expires_at.is_(None)) | (CheckRecord.expires_at > at),
    )
    required: dict[uuid.UUID, list[str]] = {role.id: [] for role in roles}
    if roles:
        for role_id, key in db.session.execute(
            select(RoleCheckType.role_id, CheckType.key)
            .join(CheckType, CheckType.id == RoleCheckType.check_type_id)
            .where(RoleCheckType.role_id.in_(required), CheckType.id.not_in(valid))
            .order_by(CheckType.position, CheckType.key)
        ):
            required[role_id].append(key)
    return [_decide(membership, role, role.id in held, required[role.id]) for role in roles]


def _decide(
    membership: Membership, role: VolunteerRole, holds: bool, missing_checks: list[str]
) -> Qualification:
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
    if not staff_without_onboarding and not holds:
        reasons.append("the role has not been approved for you")
    return Qualification(role.key, tuple(reasons), tuple(missing_checks))
