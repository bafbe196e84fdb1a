"""Badges for milestones reached, and the volunteer's activity record.

Every figure is computed from the data with aggregate SQL (tasks completed, hours,
different people helped, years since the first task, coordinators' thumbs-up), never
entered by hand. Awarding is idempotent: one row per member, milestone and tier (a
unique constraint), so a retried or duplicated job awards and notifies once.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import Select, and_, delete, func, select
from sqlalchemy.exc import IntegrityError

from nyby.auth.permissions import Action
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Forbidden, NotFound
from nyby.feedback.models import FeedbackSide, TaskFeedback, Thanks
from nyby.members.models import Membership
from nyby.members.services import display_names
from nyby.notifications.services import notify
from nyby.onboarding.models import CheckRecord, CheckStatus
from nyby.recognition.models import ActivityRecord, Badge, Milestone, RecognitionOptOut, Tier
from nyby.recognition.schemas import RecognitionSettingsSchema
from nyby.tasks.models import Task, TaskStatus
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

log = logging.getLogger(__name__)

TIER_ORDER = (Tier.BRONZE, Tier.SILVER, Tier.GOLD)


# -- settings ----------------------------------------------------------------------------


def settings(tenant: Tenant) -> dict[str, Any]:
    """``recognition`` from the tenant file with every default filled in."""
    return RecognitionSettingsSchema().load(tenant.recognition or {}, unknown=ma.EXCLUDE)  # type: ignore[no-any-return]


def change_settings(actor: Actor, tenant: Tenant, new: dict[str, Any]) -> dict[str, Any]:
    """Admins replace the recognition settings (until the tenant file is next applied)."""
    actor.require(Action.CHANGE_CONFIGURATION)
    tenant.recognition = new
    db.session.flush()
    return settings(tenant)


# -- figures ------------------------------------------------------------------------------


@dataclass
class Totals:
    """One member's figures for every milestone."""

    tasks_completed: int = 0
    minutes: int = 0
    clients_helped: int = 0
    first_task_at: datetime | None = None
    thanks: int = 0

    def value(self, milestone: str, today: date) -> int:
        if milestone == Milestone.TASKS_COMPLETED:
            return self.tasks_completed
        if milestone == Milestone.HOURS:
            return self.minutes // 60  # whole hours: 599 minutes is 9 hours
        if milestone == Milestone.CLIENTS_HELPED:
            return self.clients_helped
        if milestone == Milestone.YEARS_ACTIVE:
            return whole_years(self.first_task_at.date(), today) if self.first_task_at else 0
        return self.thanks


def whole_years(since: date, today: date) -> int:
    years = today.year - since.year
    return years - 1 if (today.month, today.day) < (since.month, since.day) else years


def totals_for(member_ids: list[uuid.UUID] | None = None) -> dict[uuid.UUID, Totals]:
    """Every helper's figures in two grouped queries (tasks, thanks); ``member_ids``
    narrows them to those members."""
    done = (
        select(
            Task.assignee_id,
            func.count(),
            func.coalesce(func.sum(Task.minutes_spent), 0),
            func.count(func.distinct(Task.client_id)),
            func.min(Task.completed_at),
        )
        .where(Task.status == TaskStatus.COMPLETED.value, Task.assignee_id.is_not(None))
        .group_by(Task.assignee_id)
    )
    thanked = select(Thanks.recipient_id, func.count()).group_by(Thanks.recipient_id)
    if member_ids is not None:
        done = done.where(Task.assignee_id.in_(member_ids))
        thanked = thanked.where(Thanks.recipient_id.in_(member_ids))
    found: dict[uuid.UUID, Totals] = {}
    for member, count, minutes, clients, first in db.session.execute(done).tuples():
        assert member is not None
        found[member] = Totals(int(count), int(minutes or 0), int(clients), first)
    for member, count in db.session.execute(thanked).tuples():
        found.setdefault(member, Totals()).thanks = int(count)
    return found


def opted_out(member_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            select(RecognitionOptOut.member_id).where(RecognitionOptOut.member_id == member_id)
        )
        is not None
    )


# -- awarding -------------------------------------------------------------------------------


def award(tenant: Tenant, member_ids: list[uuid.UUID] | None = None) -> int:
    """Award every badge now earned (by these members, or everyone); returns how many.

    Only active volunteers and staff who have not opted out; each badge is inserted in
    a savepoint, so a badge a concurrent run awarded first is skipped, and only the
    run that inserted it notifies.
    """
    rules = settings(tenant)["milestones"]
    today = utcnow().date()
    helpers = select(Membership.id).where(
        Membership.is_active,
        Membership.is_volunteer | Membership.is_staff,
        ~select(RecognitionOptOut.member_id)
        .where(RecognitionOptOut.member_id == Membership.id)
        .exists(),
    )
    if member_ids is not None:
        helpers = helpers.where(Membership.id.in_(member_ids))
    eligible = set(db.session.scalars(helpers))
    totals = {m: t for m, t in totals_for(member_ids).items() if m in eligible}
    if not totals:
        return 0
    held_now = select(Badge.member_id, Badge.milestone, Badge.tier)
    if member_ids is not None:  # the whole tenant: no list of every helper's id to bind
        held_now = held_now.where(Badge.member_id.in_(member_ids))
    held = set(db.session.execute(held_now).tuples())
    awarded = 0
    for member_id, figures in sorted(totals.items()):
        for milestone, tiers in rules.items():
            if tiers is None:
                continue  # the tenant gives no badges for it
            value = figures.value(milestone, today)
            for tier in TIER_ORDER:
                threshold = tiers[tier.value]
                if value < threshold or (member_id, milestone, tier.value) in held:
                    continue
                if _insert(member_id, milestone, tier, threshold, value):
                    awarded += 1
                    notify(
                        member_id,
                        "badge_awarded",
                        tier=tier.value,
                        milestone=milestone,
                        threshold=threshold,
                    )
    if awarded:
        log.info("awarded %s badges", awarded)
    return awarded


def _insert(member_id: uuid.UUID, milestone: str, tier: Tier, threshold: int, value: int) -> bool:
    badge = Badge(
        member_id=member_id, milestone=milestone, tier=tier.value, threshold=threshold, value=value
    )
    try:
        with db.session.begin_nested():
            db.session.add(badge)
    except IntegrityError:
        return False  # awarded by another run a moment ago
    return True


# -- what the volunteer sees ------------------------------------------------------------------


def badges_of(member_id: uuid.UUID) -> list[Badge]:
    order = {tier.value: index for index, tier in enumerate(TIER_ORDER)}
    rows = db.session.scalars(select(Badge).where(Badge.member_id == member_id)).all()
    milestones = [m.value for m in Milestone]
    return sorted(
        rows,
        key=lambda b: (
            milestones.index(b.milestone) if b.milestone in milestones else 99,
            order.get(b.tier, 9),
        ),
    )


def recognition_of(actor: Actor, member: Membership) -> dict[str, Any]:
    """A member's badges and progress to each next tier (``member`` from
    ``members.access.get_member_or_404``). Someone who opted out has none shown."""
    rules = settings(actor.tenant)["milestones"]
    out = opted_out(member.id)
    if out:
        return {"opted_out": True, "badges": [], "progress": []}
    figures = totals_for([member.id]).get(member.id, Totals())
    today = utcnow().date()
    progress = []
    for milestone, tiers in rules.items():
        if tiers is None:
            continue
        value = figures.value(milestone, today)
        reached = [t.value for t in TIER_ORDER if value >= tiers[t.value]]
        upcoming = [t.value for t in TIER_ORDER if value < tiers[t.value]]
        next_tier = upcoming[0] if upcoming else None
        progress.append(
            {
                "milestone": milestone,
                "value": value,
                "tier": reached[-1] if reached else None,
                "next_tier": next_tier,
                "next_threshold": tiers[next_tier] if next_tier else None,
                "to_go": tiers[next_tier] - value if next_tier else None,
            }
        )
    return {"opted_out": False, "badges": badges_of(member.id), "progress": progress}


def set_opt_out(actor: Actor, opt_out: bool) -> dict[str, Any]:
    """Opt out of recognition (no badges, notices or leaderboard place) or back in.
    Badges already earned are kept, hidden while opted out."""
    actor.require(Action.TAKE_TASKS)
    member_id = actor.membership.id
    if opt_out and not opted_out(member_id):
        try:
            with db.session.begin_nested():
                db.session.add(RecognitionOptOut(member_id=member_id))
        except IntegrityError:
            pass  # a second tab did it a moment ago: the same outcome
    elif not opt_out:
        db.session.execute(
            delete(RecognitionOptOut).where(RecognitionOptOut.member_id == member_id)
        )
    db.session.flush()
    return recognition_of(actor, actor.membership)


def leaderboard(actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    """The most tasks completed, by display name only, without anyone who opted out.
    Only when the tenant turned it on; otherwise it does not exist (404)."""
    if not settings(actor.tenant)["leaderboard"]:
        raise NotFound("There is no leaderboard here.")
    badge_counts = (
        select(Badge.member_id, func.count().label("badges")).group_by(Badge.member_id).subquery()
    )
    done = func.count(Task.id)
    rows = db.session.execute(
        select(Membership.id, done, func.max(func.coalesce(badge_counts.c.badges, 0)))
        .join(
            Task,
            and_(Task.assignee_id == Membership.id, Task.status == TaskStatus.COMPLETED.value),
        )
        .outerjoin(badge_counts, badge_counts.c.member_id == Membership.id)
        .where(
            Membership.is_active,
            ~select(RecognitionOptOut.member_id)
            .where(RecognitionOptOut.member_id == Membership.id)
            .exists(),
        )
        .group_by(Membership.id)
        .order_by(done.desc(), Membership.id)
        .limit(limit)
    ).all()
    names = display_names(member for member, _done, _badges in rows)
    return [
        {
            "rank": index + 1,
            "name": names.get(member, ""),
            "tasks_completed": int(count),
            "badges": int(badges),
        }
        for index, (member, count, badges) in enumerate(rows)
    ]


# -- the activity record ----------------------------------------------------------------------


def figures(actor: Actor, member: Membership) -> dict[str, Any]:
    """What the member did, as their record shows it: no client's name, address or
    notes, only counts. JSON-ready (dates as ISO text), so it can be frozen as issued."""
    done = (
        Task.assignee_id == member.id,
        Task.status == TaskStatus.COMPLETED.value,
    )
    overall = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Task.minutes_spent), 0),
            func.count(func.distinct(Task.client_id)),
            func.min(Task.completed_at),
            func.max(Task.completed_at),
        ).where(*done)
    ).one()
    by_role = db.session.execute(
        select(VolunteerRole.name, func.count(), func.coalesce(func.sum(Task.minutes_spent), 0))
        .join(VolunteerRole, VolunteerRole.id == Task.role_id)
        .where(*done)
        .group_by(VolunteerRole.name, VolunteerRole.position)
        .order_by(VolunteerRole.position, VolunteerRole.name)
    ).all()
    today = utcnow()
    checks = db.session.execute(
        select(CheckType.name, CheckRecord.verified_at, CheckRecord.expires_at)
        .join(CheckType, CheckType.id == CheckRecord.check_type_id)
        .where(
            CheckRecord.membership_id == member.id,
            CheckRecord.status == CheckStatus.VERIFIED.value,
            (CheckRecord.expires_at.is_(None)) | (CheckRecord.expires_at > today),
        )
        .order_by(CheckType.position, CheckType.name)
    ).all()
    thanks = db.session.scalar(
        select(func.count()).select_from(Thanks).where(Thanks.recipient_id == member.id)
    )
    # Ratings left by the professionals who posted the tasks this member did.
    ratings, average = db.session.execute(
        select(func.count(), func.avg(TaskFeedback.rating))
        .join(Task, Task.id == TaskFeedback.task_id)
        .where(TaskFeedback.side == FeedbackSide.POSTER.value, Task.assignee_id == member.id)
    ).one()
    count, minutes, clients, first, last = overall
    shown_badges = [] if opted_out(member.id) else badges_of(member.id)
    return {
        "name": member.account.name,
        "tenant": actor.tenant.name,
        "member_since": member.created_at.date().isoformat(),
        "tasks_completed": int(count),
        "hours": _hours(minutes),
        "clients_helped": int(clients),
        "first_task_on": first.date().isoformat() if first else None,
        "last_task_on": last.date().isoformat() if last else None,
        "by_role": [
            {"role": role, "tasks": int(n), "hours": _hours(spent)} for role, n, spent in by_role
        ],
        "checks": [
            {
                "check": name,
                "verified_on": verified.date().isoformat() if verified else None,
                "valid_until": expires.date().isoformat() if expires else None,
            }
            for name, verified, expires in checks
        ],
        "badges": [
            {
                "milestone": badge.milestone,
                "tier": badge.tier,
                "threshold": badge.threshold,
                "awarded_on": badge.awarded_at.date().isoformat(),
            }
            for badge in shown_badges
        ],
        "thanks_received": int(thanks or 0),
        "ratings": int(ratings),
        "average_rating": round(float(average), 1) if average is not None else None,
    }


def _hours(minutes: int | None) -> float:
    return round((minutes or 0) / 60, 1)


def issue_record(actor: Actor) -> ActivityRecord:
    """Freeze my figures now under a new, unguessable verification code (128 random bits)."""
    actor.require(Action.TAKE_TASKS)
    record = ActivityRecord(
        member_id=actor.membership.id,
        code=secrets.token_hex(16),
        figures=figures(actor, actor.membership),
    )
    db.session.add(record)
    db.session.flush()
    log.info("activity record %s issued to member %s", record.id, actor.membership.id)
    return record


def my_records(actor: Actor) -> Select[Any]:
    return (
        select(ActivityRecord)
        .where(ActivityRecord.member_id == actor.membership.id)
        .order_by(ActivityRecord.issued_at.desc(), ActivityRecord.id)
    )


def require_helper(actor: Actor) -> None:
    if not actor.can(Action.TAKE_TASKS):
        raise Forbidden("Activity records and badges are for volunteers and staff.")


def find_by_code(code: str) -> ActivityRecord | None:
    """The record a public verification link names (the tenant comes from the URL)."""
    if not code or len(code) > 64:
        return None
    return db.session.scalar(select(ActivityRecord).where(ActivityRecord.code == code))
