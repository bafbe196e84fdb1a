"""The tenant's metrics, computed from the data (never entered), in the current tenant's
scope: per role and area (``Scope``) and per period (``Window``, a half-open range of
time; ``period_window`` gives the tenant's local week, month or quarter).

Every number here is aggregate SQL (COUNT / SUM / GROUP BY); a median or 90th
percentile fetches one sorted column. Nothing loads ORM objects, so the same functions
answer for a tenant of 650,000 volunteers and 1.8 million tasks.

The definitions (also the README's table):

Tasks, by the task's role and area cell (``Task.area_cell``); "the period's tasks" are
those *created* in the period (a cohort: % completed is then never over 100):

- ``tasks_created``: tasks created in the period.
- ``tasks_completed``: of those, how many are completed now.
- ``completion_rate``: tasks_completed / tasks_created (0..1; none without tasks).
- ``completed_per_month``: tasks_completed divided by the period's length in calendar
  months (``months_in``: a full month is 1, a quarter 3, a week about 0.23).
- ``unmet_tasks``: of the period's tasks, those expired (due with no taker) or closed
  as unmet by a coordinator.
- ``time_to_accept_median`` / ``time_to_accept_p90``: minutes from posting
  (``created_at``) to acceptance (``assigned_at``, the current holder's, so a task given
  back and taken again counts from its posting to the second acceptance) over the
  period's tasks that are accepted; linear interpolation between closest ranks.
- ``volunteer_hours``: the hours (``minutes_spent``) volunteers recorded on the period's
  completed tasks.
- ``repeat_client_continuity``: of the period's completed tasks for a client, the share
  whose volunteer had completed an earlier task (an earlier ``completed_at``, at any
  time) for the same client.

Volunteers, by the role they are approved in and their home area cell; counted at the
period's end (the NHS evaluation's figures are totals to a date). Table 2 of a period
that has ended reads the first two as they were counted when it ended (soon after, by
the hourly job: ``keep_volunteer_counts``), so an approval withdrawn later does not
change a past month's table:

- ``approved_volunteers``: members with the volunteer role approved (in that role, or
  in any) before the period's end, not deactivated by then.
- ``volunteers_on_duty``: of those, the ones who had gone on duty at least once by
  the period's end (``Membership.first_on_duty_at``).
- ``active_volunteers``: of the approved, those who completed a task (of that role)
  in the 30 days before the period's end (or before now, if sooner).
- ``idle_on_duty_volunteers``: of the approved, those on duty now with no completed
  task in those 30 days. Being on duty is known only for now, so this is always now.
- ``signup_to_approval_median``: minutes from sign-up (the membership's
  ``created_at``) to first approval (``first_approved_at``), for volunteers first
  approved in the period (with a role scope: approved in that role).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import h3
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    distinct,
    exists,
    func,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from nyby.configuration.models import VolunteerRole
from nyby.core.days import local_midnight
from nyby.core.db import db, utcnow
from nyby.geo import AREA_RESOLUTION
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, RoleAssignment
from nyby.reporting.models import ALL_ROLES, Period, VolunteerCount
from nyby.tasks.models import Task, TaskStatus

ACTIVE_WINDOW = timedelta(days=30)
# An area coarser than this would list too many cells to filter on (7**3 = 343).
COARSEST_AREA = AREA_RESOLUTION - 3
UNMET = (TaskStatus.EXPIRED.value, TaskStatus.UNMET.value)


@dataclass(frozen=True)
class Window:
    """A period: from ``start`` (inclusive) to ``end`` (exclusive), aware datetimes."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Scope:
    """Which part of the tenant: one role (``VolunteerRole.id``), one area (an H3 cell
    at the area resolution or up to three levels coarser), or the whole tenant."""

    role_id: uuid.UUID | None = None
    area_cell: str | None = None
    cells: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.area_cell is not None and not self.cells:
            object.__setattr__(self, "cells", area_children(self.area_cell))


def valid_area(cell: str) -> bool:
    try:
        return h3.is_valid_cell(cell) and COARSEST_AREA <= h3.get_resolution(cell) <= (
            AREA_RESOLUTION
        )
    except (ValueError, TypeError):
        return False


def area_children(cell: str) -> tuple[str, ...]:
    """The area-resolution cells inside ``cell`` (itself, at that resolution)."""
    if h3.get_resolution(cell) == AREA_RESOLUTION:
        return (cell,)
    return tuple(sorted(h3.cell_to_children(cell, AREA_RESOLUTION)))


# -- periods ---------------------------------------------------------------------------


def period_window(kind: Period | str, at: datetime, tz: ZoneInfo) -> Window:
    """The tenant-local week (Monday first), month or quarter holding ``at``."""
    local = at.astimezone(tz).date()
    if kind == Period.WEEK:
        first = local - timedelta(days=local.weekday())
        after = first + timedelta(days=7)
    elif kind == Period.MONTH:
        first = local.replace(day=1)
        after = _add_months(first, 1)
    elif kind == Period.QUARTER:
        first = date(local.year, (local.month - 1) // 3 * 3 + 1, 1)
        after = _add_months(first, 3)
    else:
        raise ValueError(f"Unknown period {kind!r}.")
    return Window(local_midnight(first, tz), local_midnight(after, tz))


def previous_window(kind: Period | str, window: Window, tz: ZoneInfo) -> Window:
    return period_window(kind, window.start - timedelta(microseconds=1), tz)


def months_back(at: datetime, tz: ZoneInfo, count: int) -> list[Window]:
    """The last ``count`` tenant-local months, oldest first, the one holding ``at`` last."""
    windows = [period_window(Period.MONTH, at, tz)]
    while len(windows) < count:
        windows.insert(0, previous_window(Period.MONTH, windows[0], tz))
    return windows


def months_in(window: Window, tz: ZoneInfo) -> float:
    """The period's length in calendar months: each month it touches counts the share
    of that month it covers (a whole month 1, a quarter 3, one week of May 7/31)."""
    total = 0.0
    month = window.start.astimezone(tz).date().replace(day=1)
    while local_midnight(month, tz) < window.end:
        begin, after = local_midnight(month, tz), local_midnight(_add_months(month, 1), tz)
        overlap = min(after, window.end) - max(begin, window.start)
        total += max(overlap.total_seconds(), 0.0) / (after - begin).total_seconds()
        month = _add_months(month, 1)
    return total


def _add_months(first: date, months: int) -> date:
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


def month_label(window: Window, tz: ZoneInfo) -> str:
    local = window.start.astimezone(tz)
    return f"{local.year}-{local.month:02d}"


# -- tasks -------------------------------------------------------------------------------


def _task_conditions(window: Window, scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Task.created_at >= window.start,
        Task.created_at < window.end,
    ]
    if scope.role_id is not None:
        conditions.append(Task.role_id == scope.role_id)
    if scope.area_cell is not None:
        conditions.append(Task.area_cell.in_(scope.cells))
    return conditions


def task_counts(
    window: Window, scope: Scope, *, by_role: bool = False
) -> dict[Any, dict[str, int]]:
    """Created, completed and unmet tasks and the minutes spent on the completed ones,
    in one pass; by role id (``by_role``) or under ``None`` for the whole scope."""
    completed = Task.status == TaskStatus.COMPLETED.value
    columns = [
        func.count().label("created"),
        func.coalesce(func.sum(case((completed, 1), else_=0)), 0).label("completed"),
        func.coalesce(func.sum(case((Task.status.in_(UNMET), 1), else_=0)), 0).label("unmet"),
        func.coalesce(
            func.sum(case((completed, func.coalesce(Task.minutes_spent, 0)), else_=0)), 0
        ).label("minutes"),
    ]
    statement = select(*columns).where(*_task_conditions(window, scope))
    if by_role:
        statement = select(Task.role_id, *columns).where(*_task_conditions(window, scope))
        statement = statement.group_by(Task.role_id)
        return {row.role_id: _counts(row) for row in db.session.execute(statement)}
    return {None: _counts(db.session.execute(statement).one())}


def _counts(row: Any) -> dict[str, int]:
    return {
        "created": int(row.created),
        "completed": int(row.completed),
        "unmet": int(row.unmet),
        "minutes": int(row.minutes),
    }


def minutes_between(later: Any, earlier: Any) -> ColumnElement[float]:
    """Minutes from ``earlier`` to ``later`` in SQL, to a tenth of a minute."""
    if db.session.get_bind().dialect.name == "postgresql":
        minutes = func.extract("epoch", later - earlier) / 60
    else:
        minutes = (func.julianday(later) - func.julianday(earlier)) * 1440.0
    return func.round(minutes, 1)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), to one decimal;
    ``values`` sorted."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    value = values[low] + (values[high] - values[low]) * (position - low)
    return round(float(value), 1)


def accept_minutes(window: Window, scope: Scope) -> list[float]:
    """Minutes from posting to acceptance of the period's accepted tasks, sorted."""
    minutes = minutes_between(Task.assigned_at, Task.created_at)
    rows = db.session.scalars(
        select(minutes)
        .where(*_task_conditions(window, scope), Task.assigned_at.is_not(None))
        .order_by(minutes)
    ).all()
    return [max(0.0, float(value)) for value in rows]


def time_to_accept(window: Window, scope: Scope) -> dict[str, float | None]:
    values = accept_minutes(window, scope)
    return {
        "median": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "accepted": len(values),
    }


def repeat_client_continuity(window: Window, scope: Scope) -> float | None:
    """Share of the period's completed tasks for a client that went to a volunteer who
    had completed an earlier task for that client (see the module's definitions)."""
    earlier = aliased(Task)
    helped_before = exists(
        select(earlier.id).where(
            earlier.tenant_id == Task.tenant_id,
            earlier.client_id == Task.client_id,
            earlier.assignee_id == Task.assignee_id,
            earlier.status == TaskStatus.COMPLETED.value,
            earlier.completed_at < Task.completed_at,
        )
    )
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((helped_before, 1), else_=0)), 0)).where(
            *_task_conditions(window, scope),
            Task.status == TaskStatus.COMPLETED.value,
            Task.client_id.is_not(None),
        )
    ).one()
    total, repeated = int(row[0]), int(row[1])
    return round(repeated / total, 4) if total else None


# -- volunteers -----------------------------------------------------------------------


def _member_conditions(at: datetime, scope: Scope) -> list[ColumnElement[bool]]:
    """Volunteers who had signed up by ``at`` and were not deactivated by then."""
    conditions: list[ColumnElement[bool]] = [
        Membership.is_volunteer.is_(True),
        Membership.created_at < at,
        or_(Membership.is_active, Membership.deactivated_at >= at),
    ]
    if scope.area_cell is not None:
        conditions.append(Membership.home_area_cell.in_(scope.cells))
    return conditions


def _approved(at: datetime, role_id: uuid.UUID | None) -> Any:
    """Approved (in ``role_id``, or in any role) before ``at``."""
    conditions = [
        RoleAssignment.membership_id == Membership.id,
        RoleAssignment.status == AssignmentStatus.APPROVED.value,
        RoleAssignment.approved_at < at,
    ]
    if role_id is not None:
        conditions.append(RoleAssignment.role_id == role_id)
    return exists(select(RoleAssignment.id).where(*conditions))


def _completed_recently(at: datetime, role_id: uuid.UUID | None) -> Any:
    conditions = [
        Task.assignee_id == Membership.id,
        Task.status == TaskStatus.COMPLETED.value,
        Task.completed_at >= at - ACTIVE_WINDOW,
        Task.completed_at < at,
    ]
    if role_id is not None:
        conditions.append(Task.role_id == role_id)
    return exists(select(Task.id).where(*conditions))


def volunteer_counts(at: datetime, scope: Scope, now: datetime | None = None) -> dict[str, int]:
    """The volunteer funnel at ``at``: signed up, approved, ever on duty, active (a
    completed task in the 30 days before ``at``, or before now if sooner) and the approved
    who are on duty now but not active. Two queries; each approved member's activity is
    looked up once."""
    now = now or utcnow()
    signed_up = db.session.scalar(select(func.count()).where(*_member_conditions(at, scope)))
    on_duty_now = and_(
        Membership.on_duty,
        or_(Membership.on_duty_until.is_(None), Membership.on_duty_until > now),
    )
    approved = (
        select(
            (Membership.first_on_duty_at < at).label("went_on_duty"),
            _completed_recently(min(at, now), scope.role_id).label("active"),
            on_duty_now.label("on_duty_now"),
        )
        .where(*_member_conditions(at, scope), _approved(at, scope.role_id))
        .subquery()
    )

    def count_of(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    totals = (
        func.count(),
        count_of(approved.c.went_on_duty),
        count_of(approved.c.active),
        count_of(and_(approved.c.on_duty_now, ~approved.c.active)),
    )
    row = [int(value) for value in db.session.execute(select(*totals)).one()]
    return {
        "signed_up": int(signed_up or 0),
        "approved": row[0],
        "went_on_duty": row[1],
        "active": row[2],
        "idle_on_duty": row[3],
    }


def volunteers_by_role(at: datetime, scope: Scope) -> dict[uuid.UUID | None, dict[str, int]]:
    """Approved and ever-on-duty volunteers per role, and in total (key None: a person
    approved in two roles counts once), at ``at``, for Table 2. A moment past, for the
    whole tenant or one role, is read from the counts kept then
    (``keep_volunteer_counts``) if there are some; anything else is counted now."""
    kept = _kept_counts(at) if scope.area_cell is None and at <= utcnow() else {}
    if not kept:
        return count_volunteers_by_role(at, scope)
    if scope.role_id is None:
        return kept
    counts = kept.get(scope.role_id, {"approved": 0, "went_on_duty": 0})
    return {scope.role_id: counts, None: counts}


def count_volunteers_by_role(at: datetime, scope: Scope) -> dict[uuid.UUID | None, dict[str, int]]:
    """``volunteers_by_role`` counted from the data: one pass over the approved roles
    (read from their covering index), counted twice."""
    went = case((Membership.first_on_duty_at < at, 1), else_=0)
    conditions = [
        RoleAssignment.status == AssignmentStatus.APPROVED.value,
        RoleAssignment.approved_at < at,
        *_member_conditions(at, scope),
    ]
    if scope.role_id is not None:
        conditions.append(RoleAssignment.role_id == scope.role_id)
    approved = (
        select(RoleAssignment.role_id, RoleAssignment.membership_id, went.label("went"))
        .join(Membership, Membership.id == RoleAssignment.membership_id)
        .where(*conditions)
        .cte("approved")
        .prefix_with("MATERIALIZED")
    )
    per_role = select(
        approved.c.role_id, func.count(), func.coalesce(func.sum(approved.c.went), 0)
    ).group_by(approved.c.role_id)
    total = select(
        null().label("role_id"),
        func.count(distinct(approved.c.membership_id)),
        func.count(distinct(case((approved.c.went == 1, approved.c.membership_id)))),
    )
    return {
        role_id: {"approved": int(count), "went_on_duty": int(on_duty)}
        for role_id, count, on_duty in db.session.execute(union_all(per_role, total))
    }


def _kept_counts(at: datetime) -> dict[uuid.UUID | None, dict[str, int]]:
    """The counts kept at ``at`` by role id (None: in all); empty if none were kept."""
    rows = db.session.execute(
        select(VolunteerRole.id, VolunteerCount.approved, VolunteerCount.went_on_duty)
        .select_from(VolunteerCount)
        .outerjoin(VolunteerRole, VolunteerRole.key == VolunteerCount.role_key)
        .where(VolunteerCount.at == at)
    )
    return {
        role_id: {"approved": approved, "went_on_duty": went} for role_id, approved, went in rows
    }


def keep_volunteer_counts(at: datetime, now: datetime | None = None) -> bool:
    """Count the whole tenant's volunteers at ``at`` (a moment past: a period's end)
    once and keep the counts for Table 2; False if they were kept already. Two jobs at
    once keep one set: the second's insert meets the first's key and is dropped."""
    if db.session.scalar(select(VolunteerCount.at).where(VolunteerCount.at == at).limit(1)):
        return False
    counted = count_volunteers_by_role(at, Scope())
    keys = dict(db.session.execute(select(VolunteerRole.id, VolunteerRole.key)).tuples().all())
    rows = [
        VolunteerCount(
            at=at,
            role_key=ALL_ROLES if role_id is None else keys[role_id],
            approved=counts["approved"],
            went_on_duty=counts["went_on_duty"],
            counted_at=now or utcnow(),
        )
        for role_id, counts in counted.items()
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
    except IntegrityError:
        return False
    return True


def signup_to_approval(window: Window, scope: Scope) -> list[float]:
    """Minutes from sign-up to first approval of those first approved in the period."""
    minutes = minutes_between(Membership.first_approved_at, Membership.created_at)
    conditions = [
        Membership.is_volunteer,
        Membership.first_approved_at >= window.start,
        Membership.first_approved_at < window.end,
    ]
    if scope.area_cell is not None:
        conditions.append(Membership.home_area_cell.in_(scope.cells))
    if scope.role_id is not None:
        conditions.append(_approved(window.end, scope.role_id))
    rows = db.session.scalars(select(minutes).where(*conditions).order_by(minutes)).all()
    return [max(0.0, float(value)) for value in rows]


# -- everything at once -------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    unit: str  # count, fraction, minutes, hours, per_month
    better: str  # "higher" or "lower": which way is an improvement


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("approved_volunteers", "count", "higher"),
        Metric("volunteers_on_duty", "count", "higher"),
        Metric("tasks_created", "count", "higher"),
        Metric("tasks_completed", "count", "higher"),
        Metric("completion_rate", "fraction", "higher"),
        Metric("completed_per_month", "per_month", "higher"),
        Metric("time_to_accept_median", "minutes", "lower"),
        Metric("time_to_accept_p90", "minutes", "lower"),
        Metric("unmet_tasks", "count", "lower"),
        Metric("signup_to_approval_median", "minutes", "lower"),
        Metric("active_volunteers", "count", "higher"),
        Metric("idle_on_duty_volunteers", "count", "lower"),
        Metric("repeat_client_continuity", "fraction", "higher"),
        Metric("volunteer_hours", "hours", "higher"),
    )
}


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def all_metrics(
    window: Window, scope: Scope, tz: ZoneInfo, now: datetime | None = None
) -> dict[str, Any]:
    """Every metric for one period and scope (keys as in ``METRICS``)."""
    tasks = task_counts(window, scope)[None]
    people = volunteer_counts(window.end, scope, now)
    accept = time_to_accept(window, scope)
    return {
        "approved_volunteers": people["approved"],
        "volunteers_on_duty": people["went_on_duty"],
        "tasks_created": tasks["created"],
        "tasks_completed": tasks["completed"],
        "completion_rate": rate(tasks["completed"], tasks["created"]),
        "completed_per_month": per_month(tasks["completed"], window, tz),
        "time_to_accept_median": accept["median"],
        "time_to_accept_p90": accept["p90"],
        "unmet_tasks": tasks["unmet"],
        "signup_to_approval_median": percentile(signup_to_approval(window, scope), 0.5),
        "active_volunteers": people["active"],
        "idle_on_duty_volunteers": people["idle_on_duty"],
        "repeat_client_continuity": repeat_client_continuity(window, scope),
        "volunteer_hours": round(tasks["minutes"] / 60, 2),
    }


def per_month(completed: int, window: Window, tz: ZoneInfo) -> float:
    months = months_in(window, tz)
    return round(completed / months, 1) if months else 0.0


def measure(
    metric: str, window: Window, scope: Scope, tz: ZoneInfo, now: datetime | None = None
) -> float | None:
    """One metric's value: what a success criterion is judged by."""
    single: dict[str, Callable[[], float | None]] = {
        "time_to_accept_median": lambda: time_to_accept(window, scope)["median"],
        "time_to_accept_p90": lambda: time_to_accept(window, scope)["p90"],
        "signup_to_approval_median": lambda: percentile(signup_to_approval(window, scope), 0.5),
        "repeat_client_continuity": lambda: repeat_client_continuity(window, scope),
    }
    if metric in single:
        return single[metric]()
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}.")
    value = all_metrics(window, scope, tz, now)[metric]
    return None if value is None else float(value)


def table_2(window: Window, scope: Scope, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The NHS evaluation's Table 2: per role, then a total row (``role_key`` None):
    approved volunteers, volunteers ever on duty, tasks created, tasks completed,
    % completed, average completed per month. Volunteers are counted at the period's end
    (kept since, once it is past: ``volunteers_by_role``); the total counts a person
    approved in two roles once. Three queries in all."""
    tasks = task_counts(window, scope, by_role=True)
    people = volunteers_by_role(window.end, scope)
    roles = db.session.execute(
        select(
            VolunteerRole.id, VolunteerRole.key, VolunteerRole.name, VolunteerRole.is_active
        ).order_by(VolunteerRole.position, VolunteerRole.key)
    ).all()
    rows = []
    for role in roles:
        if scope.role_id is not None and role.id != scope.role_id:
            continue
        if not role.is_active and role.id not in tasks and role.id not in people:
            continue
        rows.append(
            _table_row(
                role.key,
                role.name,
                people.get(role.id, {}),
                tasks.get(role.id, {}),
                window,
                tz,
            )
        )
    total_people = people.pop(None, {})
    total_tasks = {
        name: sum(counts[name] for counts in tasks.values())
        for name in ("created", "completed", "unmet", "minutes")
    }
    rows.append(_table_row(None, None, total_people, total_tasks, window, tz))
    return rows


def _table_row(
    key: str | None,
    name: str | None,
    people: dict[str, int],
    tasks: dict[str, int],
    window: Window,
    tz: ZoneInfo,
) -> dict[str, Any]:
    created, completed = tasks.get("created", 0), tasks.get("completed", 0)
    return {
        "role_key": key,
        "role_name": name,
        "approved_volunteers": people.get("approved", 0),
        "volunteers_on_duty": people.get("went_on_duty", 0),
        "tasks_created": created,
        "tasks_completed": completed,
        "completion_rate": rate(completed, created),
        "completed_per_month": per_month(completed, window, tz),
    }


def monthly_trend(at: datetime, tz: ZoneInfo, scope: Scope, count: int = 6) -> list[dict[str, Any]]:
    """The last ``count`` months: tasks created and completed, % completed, and the
    median and 90th percentile time to accept (the dashboard's charts)."""
    months = []
    for window in months_back(at, tz, count):
        tasks = task_counts(window, scope)[None]
        accept = time_to_accept(window, scope)
        months.append(
            {
                "month": month_label(window, tz),
                "start": window.start,
                "end": window.end,
                "tasks_created": tasks["created"],
                "tasks_completed": tasks["completed"],
                "completion_rate": rate(tasks["completed"], tasks["created"]),
                "time_to_accept_median": accept["median"],
                "time_to_accept_p90": accept["p90"],
            }
        )
    return months
