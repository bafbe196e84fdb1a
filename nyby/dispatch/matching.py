"""Who may be offered a push task, best match first: the one place this is decided.

``match`` works in three steps, cheapest first, so a tenant of 400,000 on-duty people
costs a handful of queries per wave, whoever is near the task:

1. The role's dispatch pool (``dispatch.pool``: who is on duty and qualified for it,
   kept as that changes) gives who could take the task, the longest waiting first
   (since their last offer, or since they joined): home area within the wave's radius
   of the task (the H3 area cells that reach the circle, then the exact distance, as
   ``tasks.browse`` does) and the task within their own travel radius (remote roles
   skip both), not in their quiet hours now, neither offered nor declined this task;
   ``CANDIDATE_LIMIT`` of them, plus whoever completed a task for this client before
   (continuity), wherever they stand in that order. One query on one index of the
   pool, near a city task or not.
2. Python scores each (``dispatch.ranking.score``) from figures read in two grouped
   queries, and ranks them.
3. Walking down the ranking, the rules decide on what step 1 read of each person:
   under their daily alert limit (offers since the tenant's local midnight) and
   available for the task's window now (``members.duty.available_for``: on duty, not
   in quiet hours, an availability window that meets the task's). Being qualified is
   the pool's own condition (``onboarding.qualification``'s rule, which
   ``tests/test_qualification.py`` holds the pool to); taking the task asks the rule
   itself again.

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
    case,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import lazyload

from nyby.clients.models import Client
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db
from nyby.dispatch import ranking
from nyby.dispatch.models import Offer, OfferStatus, PoolEntry
from nyby.dispatch.pool import awake, current
from nyby.geo import EARTH_RADIUS_KM, Place, area_cells_within, distance_km
from nyby.members.duty import available_for, daily_alert_limit
from nyby.members.models import Membership
from nyby.tasks.models import Task, TaskDecline, TaskStatus

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
# Scored per wave at most (besides the client's past helpers): those waiting longest.
CANDIDATE_LIMIT = 100
RECENT = timedelta(days=7)
ANSWERED = (OfferStatus.ACCEPTED.value, OfferStatus.DECLINED.value)
CLOSED = (*ANSWERED, OfferStatus.EXPIRED.value)


@dataclass(frozen=True)
class Match:
    membership_id: uuid.UUID
    score: float
    distance_km: float | None  # None: a remote role


# What step 3's rules read of a person (``members.duty``), read with the candidates.
DUTY_COLUMNS = (
    Membership.on_duty,
    Membership.on_duty_until,
    Membership.quiet_hours_start,
    Membership.quiet_hours_end,
    Membership.availability,
    Membership.max_alerts_per_day,
)


def match(
    task: Task,
    client: Client | None,
    radius_km: float,
    policy: dict[str, Any],
    timezone: str,
    now: datetime,
    limit: int,
) -> list[Match]:
    """The best ``limit`` people to offer ``task`` (for ``client``: ``task_client``) to
    now, within ``radius_km`` of it (ignored for remote roles), best first; ties go to
    the lower membership id."""
    role = task.role
    if not role.is_active or limit < 1:
        return []
    here = None if role.remote else _place(task)
    if not role.remote and here is None:
        return []  # a travelling task with no place: nobody can be measured from it
    wanted = _client_language(client)
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz).time()
    rows = _candidates(task, role, here, radius_km, now, local, languages=wanted is not None)
    if not rows:
        return []
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
        ranked.append((-score, row.id, score, away, offers.today, row))
    ranked.sort(key=lambda item: (item[0], item[1]))
    # Step 3: down the ranking, the first ``limit`` people the rules let through.
    picked: list[Match] = []
    for _, member_id, score, away, today, row in ranked:
        if today < daily_alert_limit(row, policy) and available_for(
            row, task.earliest_start, task.due_by, tz, now
        ):
            picked.append(Match(member_id, score, away))
            if len(picked) == limit:
                break
    return picked


# A ranked candidate: (-score, membership id, score, distance, offers today, its row).
_Ranked = tuple[float, uuid.UUID, float, float | None, int, Row[Any]]


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
    local: time,
    languages: bool = True,
) -> list[Row[Any]]:
    """Step 1: everyone who could take the task, as rows of what the score reads
    (``languages`` only when the client has one to match): the ``CANDIDATE_LIMIT``
    of the role's pool who have waited longest, plus the people who helped this client
    before, neither offered nor declined the task yet.

    Near a place, the pool's people in the few cells around the task are read by the
    area index and then sorted: a materialized CTE fences the planner off, as SQLite
    would rather read the role's whole pool in waiting order (that index saves the
    sort) and test each person against the cells. A remote role reads the waiting
    index itself, no further than it needs.
    """
    asked = _asked(task)
    may = [PoolEntry.role_id == role.id, *current(now), awake(local), *_near(here, radius_km)]
    if here is None:
        waiting = select(PoolEntry.membership_id).where(*may, PoolEntry.membership_id.not_in(asked))
        waiting = waiting.order_by(PoolEntry.waiting_since, PoolEntry.membership_id)
    else:
        near = (
            select(PoolEntry.membership_id, PoolEntry.waiting_since)
            .where(*may)
            .cte("near")
            .prefix_with("MATERIALIZED")
        )
        waiting = select(near.c.membership_id).where(near.c.membership_id.not_in(asked))
        waiting = waiting.order_by(near.c.waiting_since, near.c.membership_id)
    columns = [
        Membership.id,
        Membership.home_latitude,
        Membership.home_longitude,
        Membership.preferred_roles,
        *DUTY_COLUMNS,
        *([Membership.languages] if languages else []),
    ]
    longest = waiting.limit(CANDIDATE_LIMIT).subquery()
    rows = list(
        db.session.execute(select(*columns).join(longest, longest.c.membership_id == Membership.id))
    )
    helpers = _helped_client(task) - asked - {row.id for row in rows}
    if helpers:
        # Each one looked up in the pool by its primary key: asked as a join, SQLite
        # reads the role's whole pool on its covering index (90,000 people for a
        # remote role, 20 ms) to find the few.
        in_pool = select(PoolEntry.membership_id).where(
            PoolEntry.membership_id == Membership.id, *may
        )
        rows += db.session.execute(
            select(*columns).where(Membership.id.in_(helpers), in_pool.exists())
        )
    return rows


def _near(here: Place | None, radius_km: float) -> list[ColumnElement[bool]]:
    """The pool's people whose home is within the radius of the task and the task
    within their own travel radius (none for a remote role, ``here`` None): the H3
    cells that reach the circle, then the distance, as ``tasks.browse`` does."""
    if here is None:
        return []
    dx = (PoolEntry.home_longitude - here.longitude) * (
        KM_PER_DEGREE * math.cos(math.radians(here.latitude))
    )
    dy = (PoolEntry.home_latitude - here.latitude) * KM_PER_DEGREE
    squared = dx * dx + dy * dy
    return [
        PoolEntry.home_area_cell.in_(area_cells_within(here, radius_km)),
        squared <= radius_km * radius_km,
        or_(
            PoolEntry.travel_radius_km.is_(None),
            squared <= PoolEntry.travel_radius_km * PoolEntry.travel_radius_km,
        ),
    ]


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


def task_client(task: Task) -> Client | None:
    """The task's client, loaded once for the wave (matching reads their language, the
    offers their needs); the professionals linked to them are not read."""
    if task.client_id is None:
        return None
    key = (task.tenant_id, task.client_id)
    return db.session.get(Client, key, options=[lazyload(Client.professional_links)])


def _client_language(client: Client | None) -> str | None:
    wanted = client.interpreter_language if client else None
    return _code(wanted) if wanted else None


def _code(language: str) -> str | None:
    text = language.strip().casefold()
    if len(text) == 2:
        return text
    return _NAMES.get(text) or _NAMES.get(text.split("-")[0].strip())


def _codes(languages: Sequence[str] | None) -> set[str]:
    return {code for code in (_code(language) for language in languages or []) if code}
