"""Who may be offered a push task, best match first: the one place this is decided.

``match`` works in three steps, cheapest first, so a tenant of 400,000 on-duty people
costs a handful of queries per wave, whoever is near the task:

1. SQL finds who could take the task, the longest waiting first
   (``Membership.waiting_since``: since their last offer, or since they joined):
   active volunteers or staff, on duty, home area within the wave's radius of the task
   (the H3 area cells that reach the circle, then the exact distance, as
   ``tasks.browse`` does) and the task within their own travel radius (remote roles
   skip both), read through a covering index on the membership's own columns; of
   those, the ones holding the role (an approved assignment; staff need none for a
   staff-only role) with every check it requires verified and unexpired, neither
   offered nor declined this task. ``CANDIDATE_LIMIT`` of them, plus whoever completed
   a task for this client before (continuity), wherever they stand in that order.
   Near a place, the near people's ids come first, in waiting order, and the role and
   checks are asked of ``POOL_BATCH`` of them at a time until the pool is full (a
   city's 2,700 near people cost the role and checks of a few hundred: those who
   never qualify wait longest, as nobody offers them anything); for a remote role SQL
   walks the waiting index itself, testing each person as it comes to them.
2. Python scores each (``dispatch.ranking.score``) from figures read in two grouped
   queries, and ranks them.
3. Walking down the ranking, the rules themselves decide, on the membership loaded a
   batch at a time: under their daily alert limit (offers since the tenant's local
   midnight), available for the task's window now (``members.duty.available_for``: on
   duty, not in quiet hours, an availability window that meets the task's) and
   qualified (``onboarding.qualification``), so the SQL above can never offer a task to
   someone a rule would refuse. Ranking first and asking the rules after picks the
   same people as the other way round, but reads a few memberships, not hundreds.

Fairness is built in twice: the pool is the people who have waited longest, and the
score's fairness term puts those with the fewest recent offers and tasks first.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    case,
    false,
    func,
    literal_column,
    or_,
    select,
)

from nyby.clients.models import Client
from nyby.configuration.models import RoleCheckType, VolunteerRole
from nyby.core.db import db
from nyby.dispatch import ranking
from nyby.dispatch.models import Offer, OfferStatus
from nyby.geo import EARTH_RADIUS_KM, Place, area_cells_within, distance_km
from nyby.members.duty import available_for, daily_alert_limit
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, CheckRecord, CheckStatus, RoleAssignment
from nyby.onboarding.qualification import qualified_members
from nyby.tasks.models import Task, TaskDecline, TaskStatus

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# Scored per wave at most (besides the client's past helpers): those waiting longest.
CANDIDATE_LIMIT = 100
# Near people whose role and checks are asked at a time while the pool fills: one batch,
# or two in a city, where those who never qualify have waited longest.
POOL_BATCH = 2 * CANDIDATE_LIMIT
RECENT = timedelta(days=7)
ANSWERED = (OfferStatus.ACCEPTED.value, OfferStatus.DECLINED.value)
CLOSED = (*ANSWERED, OfferStatus.EXPIRED.value)
# Written into the SQL as the partial on-duty index says it (``WHERE on_duty``), so the
# planner may use that index: not bound, and untyped, for a Boolean column is rendered
# ``on_duty = 1`` on SQLite, which SQLite does not take to imply the index's condition.
ON_DUTY: ColumnElement[bool] = literal_column("memberships.on_duty")


@dataclass(frozen=True)
class Match:
    membership: Membership
    score: float
    distance_km: float | None  # None: a remote role


def match(
    task: Task,
    radius_km: float,
    policy: dict[str, Any],
    timezone: str,
    now: datetime,
    limit: int,
) -> list[Match]:
    """The best ``limit`` people to offer ``task`` to now, within ``radius_km`` of it
    (ignored for remote roles), best first; ties go to the lower membership id."""
    role = task.role
    if not role.is_active or limit < 1:
        return []
    here = None if role.remote else _place(task)
    if not role.remote and here is None:
        return []  # a travelling task with no place: nobody can be measured from it
    wanted = _client_language(task)
    rows = _candidates(task, role, here, radius_km, now, languages=wanted is not None)
    if not rows:
        return []
    tz = ZoneInfo(timezone)
    ids = [row.id for row in rows]
    counts = _offer_counts(ids, now, _local_midnight(now, tz))
    tasks = _task_counts(ids, task.client_id, now)
    ranked: list[_Ranked] = []
    for row in rows:
        offers = counts.get(row.id, _NO_OFFERS)
        away = _distance(here, row.home_latitude, row.home_longitude)
        recent_tasks, helped = tasks.get(row.id, (0, False))
        candidate = ranking.Candidate(
            distance_km=away,
            radius_km=radius_km,
            helped_client=helped,
            recent_load=offers.recent + recent_tasks,
            speaks_client_language=wanted is not None and wanted in _codes(row.languages),
            offers_answered=offers.answered,
            offers_closed=offers.closed,
            prefers_role=role.key in (row.preferred_roles or []),
        )
        score = ranking.score(candidate, policy["weights"])
        ranked.append((-score, row.id, score, away, offers.today))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return _walk(ranked, task, policy, tz, now, limit)


# A ranked candidate: (-score, membership id, score, distance, offers today).
_Ranked = tuple[float, uuid.UUID, float, float | None, int]


def _walk(
    ranked: Sequence[_Ranked],
    task: Task,
    policy: dict[str, Any],
    tz: ZoneInfo,
    now: datetime,
    limit: int,
) -> list[Match]:
    """Step 3: down the ranking, the first ``limit`` people every rule lets through.

    Memberships are loaded four times ``limit`` at a time: some of the best are in
    their quiet hours or busy when the task is, and one batch is nearly always enough.
    The qualification rule is asked once for a batch's free people, not once each.
    """
    picked: list[Match] = []
    batch = 4 * limit
    for start in range(0, len(ranked), batch):
        part = ranked[start : start + batch]
        loaded = {
            member.id: member
            for member in db.session.scalars(
                select(Membership).where(Membership.id.in_([item[1] for item in part]))
            )
        }
        free = [
            (member, score, away)
            for _, member_id, score, away, today in part
            if (member := loaded.get(member_id)) is not None
            and today < daily_alert_limit(member, policy)
            and available_for(member, task.earliest_start, task.due_by, tz, now)
        ]
        qualified = qualified_members([member for member, _, _ in free], task.role, now)
        for member, score, away in free:
            if member.id in qualified:
                picked.append(Match(member, score, away))
                if len(picked) == limit:
                    return picked
    return picked


def _place(task: Task) -> Place | None:
    if task.latitude is None or task.longitude is None:
        return None
    return Place(task.latitude, task.longitude)


def _distance(here: Place | None, latitude: float | None, longitude: float | None) -> float | None:
    if here is None or latitude is None or longitude is None:
        return None
    return round(distance_km(here, Place(latitude, longitude)), 3)


def _candidates(
    task: Task,
    role: VolunteerRole,
    here: Place | None,
    radius_km: float,
    now: datetime,
    languages: bool = True,
) -> list[Row[Any]]:
    """Step 1: everyone who could take the task, as rows of what the score reads
    (``languages`` only when the client has one to match): the ``CANDIDATE_LIMIT``
    who have waited longest, plus the people who helped this client before.

    Near a place, ``_waiting_near`` gives everyone near in waiting order, and the role,
    its checks and whether they were asked already are asked of ``POOL_BATCH`` of them
    at a time until the pool is full: of a city's 2,700 near people, a few hundred.
    """
    columns = [
        Membership.id,
        Membership.home_latitude,
        Membership.home_longitude,
        Membership.preferred_roles,
        *([Membership.languages] if languages else []),
    ]
    may_take = [*_qualified(role, now), Membership.id.not_in(_asked(task))]
    eligible = _nearby(here, radius_km, now).with_only_columns(*columns).where(*may_take)
    if here is None:
        # A remote role: SQL reads the waiting index in order and tests each person as
        # it comes to them, until the pool is full.
        pool = eligible.order_by(Membership.waiting_since, Membership.id)
        picked = list(db.session.execute(pool.limit(CANDIDATE_LIMIT)))
    else:
        picked = []
        waiting = _waiting_near(here, radius_km, now)
        for start in range(0, len(waiting), POOL_BATCH):
            part = waiting[start : start + POOL_BATCH]
            batch = select(*columns).where(Membership.id.in_(part), *may_take)
            found = {row.id: row for row in db.session.execute(batch)}
            picked += [found[member] for member in part if member in found]
            if len(picked) >= CANDIDATE_LIMIT:
                break
        del picked[CANDIDATE_LIMIT:]
    helpers = _helped_client(task) - {row.id for row in picked}
    if helpers:
        picked += db.session.execute(eligible.where(Membership.id.in_(helpers))).all()
    return picked


def _waiting_near(here: Place, radius_km: float, now: datetime) -> list[uuid.UUID]:
    """The ids of everyone ``_nearby`` the task, who has waited longest first.

    The people of the few cells around the task, by the area index, then sorted: the
    planner is fenced off by a materialized CTE, as SQLite would rather read the whole
    tenant in waiting order (that index saves the sort) and test each person against
    the cells, ten times slower.
    """
    near = (
        _nearby(here, radius_km, now)
        .add_columns(Membership.waiting_since)
        .cte("near")
        .prefix_with("MATERIALIZED")
    )
    return list(db.session.scalars(select(near.c.id).order_by(near.c.waiting_since, near.c.id)))


def _nearby(here: Place | None, radius_km: float, now: datetime) -> Select[Any]:
    """Membership ids on duty and active, home within the radius of the task and the
    task within their own travel radius (both skipped for a remote role, ``here``
    None): the membership's own columns alone."""
    conditions: list[ColumnElement[bool]] = []
    if here is not None:
        dx = (Membership.home_longitude - here.longitude) * (
            KM_PER_DEGREE * math.cos(math.radians(here.latitude))
        )
        dy = (Membership.home_latitude - here.latitude) * KM_PER_DEGREE
        squared = dx * dx + dy * dy
        conditions += [
            Membership.home_area_cell.in_(area_cells_within(here, radius_km)),
            squared <= radius_km * radius_km,
            or_(
                Membership.travel_radius_km.is_(None),
                squared <= Membership.travel_radius_km * Membership.travel_radius_km,
            ),
        ]
    return select(Membership.id).where(
        ON_DUTY,
        *conditions,
        Membership.is_active,
        or_(Membership.on_duty_until.is_(None), Membership.on_duty_until > now),
    )


def _asked(task: Task) -> set[uuid.UUID]:
    """Who was offered this task already, or said no to it: never asked (again)."""
    offered = select(Offer.membership_id).where(Offer.task_id == task.id)
    declined = select(TaskDecline.membership_id).where(TaskDecline.task_id == task.id)
    return set(db.session.scalars(offered.union(declined)))


def _helped_client(task: Task) -> set[uuid.UUID]:
    """Who completed a task for this client: continuity is asked of them wherever
    they stand in the least-recently-offered order."""
    if task.client_id is None:
        return set()
    # By the client's index: asked "assignee_id IS NOT NULL" too, SQLite would read
    # every assigned task of the tenant instead.
    helpers = db.session.scalars(
        select(Task.assignee_id).where(
            Task.client_id == task.client_id, Task.status == TaskStatus.COMPLETED.value
        )
    )
    return {helper for helper in helpers if helper is not None}


def _qualified(role: VolunteerRole, now: datetime) -> list[ColumnElement[bool]]:
    """``onboarding.qualification``'s rule as SQL conditions (it confirms the chosen)."""
    conditions: list[ColumnElement[bool]] = []
    if role.staff_only:
        conditions.append(Membership.is_staff.is_(True))
    else:
        conditions += [
            or_(Membership.is_volunteer, Membership.is_staff),
            # Asked of each person near the task (EXISTS), not as the list of everyone
            # holding the role (IN), which SQLite reads whole: 900,000 rows, seconds.
            select(RoleAssignment.id)
            .where(
                RoleAssignment.membership_id == Membership.id,
                RoleAssignment.role_id == role.id,
                RoleAssignment.status == AssignmentStatus.APPROVED.value,
            )
            .correlate(Membership)
            .exists(),
        ]
    required = list(
        db.session.scalars(
            select(RoleCheckType.check_type_id).where(RoleCheckType.role_id == role.id)
        )
    )
    if required:
        valid = (
            select(func.count())
            .select_from(CheckRecord)
            .where(
                CheckRecord.membership_id == Membership.id,
                CheckRecord.check_type_id.in_(required),
                CheckRecord.status == CheckStatus.VERIFIED.value,
                or_(CheckRecord.expires_at.is_(None), CheckRecord.expires_at > now),
            )
            .correlate(Membership)
            .scalar_subquery()
        )
        conditions.append(valid == len(required))
    return conditions


@dataclass(frozen=True)
class _Offers:
    today: int = 0
    recent: int = 0
    answered: int = 0
    closed: int = 0


_NO_OFFERS = _Offers()


def _offer_counts(
    ids: Sequence[uuid.UUID], now: datetime, midnight: datetime
) -> dict[uuid.UUID, _Offers]:
    """Each person's offers: today (alert limit), this week (fairness), answered and
    closed (response history), in one grouped query."""
    rows = db.session.execute(
        select(
            Offer.membership_id,
            func.sum(case((Offer.offered_at >= midnight, 1), else_=0)),
            func.sum(case((Offer.offered_at >= now - RECENT, 1), else_=0)),
            func.sum(case((Offer.status.in_(ANSWERED), 1), else_=0)),
            func.sum(case((Offer.status.in_(CLOSED), 1), else_=0)),
        )
        .where(Offer.membership_id.in_(ids))
        .group_by(Offer.membership_id)
    ).all()
    return {
        member: _Offers(int(today or 0), int(recent or 0), int(answered or 0), int(closed or 0))
        for member, today, recent, answered, closed in rows
    }


def _task_counts(
    ids: Sequence[uuid.UUID], client_id: uuid.UUID | None, now: datetime
) -> dict[uuid.UUID, tuple[int, bool]]:
    """Each person's tasks taken this week (fairness), and whether they completed one
    for this client (continuity), in one grouped query."""
    helped_this_client: ColumnElement[bool] = (
        (Task.client_id == client_id) & (Task.status == TaskStatus.COMPLETED.value)
        if client_id is not None
        else false()
    )
    rows = db.session.execute(
        select(
            Task.assignee_id,
            func.sum(case((Task.assigned_at >= now - RECENT, 1), else_=0)),
            func.max(case((helped_this_client, 1), else_=0)),
        )
        .where(Task.assignee_id.in_(ids), or_(Task.assigned_at >= now - RECENT, helped_this_client))
        .group_by(Task.assignee_id)
    ).all()
    return {member: (int(recent or 0), bool(helped)) for member, recent, helped in rows}


def _local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """The start of today in the tenant's zone: alert limits count per local day."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


# Clients' language is free text ("Polish", "pl"); members' are ISO 639-1 codes.
_NAMES = {
    name.casefold(): str(code)
    for locale in ("en", "nb")
    for code, name in Locale(locale).languages.items()
    if len(code) == 2
}


def _client_language(task: Task) -> str | None:
    if task.client_id is None:
        return None
    wanted = db.session.scalar(
        select(Client.interpreter_language).where(Client.id == task.client_id)
    )
    return _code(wanted) if wanted else None


def _code(language: str) -> str | None:
    text = language.strip().casefold()
    if len(text) == 2:
        return text
    return _NAMES.get(text) or _NAMES.get(text.split("-")[0].strip())


def _codes(languages: Sequence[str] | None) -> set[str]:
    return {code for code in (_code(language) for language in languages or []) if code}
