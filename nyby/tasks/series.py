"""Repeat series: a task that recurs (RFC 5545 RRULE), taken once for all its visits.

The rule is read in the tenant's time zone, so "every Monday at 10:00" stays at ten
o'clock across daylight saving. A scheduled job keeps occurrences generated
``HORIZON`` ahead as ordinary tasks. Continuity: a series someone has taken gives
them each new occurrence; with no holder, a new occurrence is kept for the client's
previous helpers for ``RESERVATION`` (and they are told) before anyone else may take it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from sqlalchemy import Select, select, update

from nyby.auth.permissions import Action
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from nyby.jobs.queues import tenant_job
from nyby.members.models import Membership
from nyby.notifications.services import notify
from nyby.onboarding.qualification import qualification
from nyby.tasks import services
from nyby.tasks.models import DETAIL_FIELDS, SeriesStatus, Task, TaskSeries, TaskStatus
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

HORIZON = timedelta(days=14)
RESERVATION = timedelta(hours=24)
PREVIOUS_HELPERS_ASKED = 5
ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
UPCOMING_SHOWN = 10
MAX_VISITS_PER_HORIZON = 28  # two a day
MAX_VISIT_WINDOW = timedelta(days=31)


def parse_rule(text: str, first_start: datetime, timezone: str) -> rrule:
    """The RRULE, anchored at the first visit in the tenant's zone; 422 naming what is wrong.

    As RFC 5545 says for a start with a time zone, an UNTIL must be in UTC (``...Z``).
    """
    local_start = first_start.astimezone(ZoneInfo(timezone)).replace(microsecond=0)
    body = text.strip().removeprefix("RRULE:")
    if not body or "DTSTART" in body.upper() or "\n" in body:
        _bad_rule(
            "Give one RRULE line, such as FREQ=WEEKLY;BYDAY=MO (the first visit sets the start)."
        )
    try:
        rule = rrulestr(body, dtstart=local_start)
        if not isinstance(rule, rrule) or rule._freq not in ALLOWED_FREQUENCIES:
            _bad_rule("A series repeats daily, weekly, monthly or yearly.")
        # dateutil never ends a search that finds no date in a period: a zero interval
        # (never moves on) or a daily BYSETPOS (one date a day, so no second) would
        # search forever, or to year 9999.
        if rule._interval < 1:
            _bad_rule("INTERVAL must be at least 1.")
        if rule._bysetpos and rule._freq == DAILY:
            _bad_rule("BYSETPOS picks among the visits of a week, month or year, not a day.")
        # Bounded both ways: a rule with no possible date (30 February) must not list
        # visits to year 9999, and one with a visit every minute must not list them all.
        year = local_start + timedelta(days=366)
        ahead = rule.replace(count=None, until=min(rule._until or year, year))
        visits = list(islice(ahead, MAX_VISITS_PER_HORIZON + 1))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        _bad_rule(f"Not a valid RRULE: {error}.")
    if not visits:
        _bad_rule("This rule has no visit within a year of the first one.")
    if len([v for v in visits if v < local_start + HORIZON]) > MAX_VISITS_PER_HORIZON:
        _bad_rule(f"At most {MAX_VISITS_PER_HORIZON} visits in {HORIZON.days} days.")
    return rule


def _bad_rule(message: str) -> Any:
    raise Unprocessable(message, errors={"rrule": [message]})


def create_series(actor: Actor, data: dict[str, Any]) -> TaskSeries:
    """Post a repeating task; its first weeks of occurrences are created at once."""
    actor.require(Action.POST_TASKS)
    role, category, client = services.resolve_posting(actor, data)
    # RRULE times have whole seconds: so does the first visit.
    first_start = data["earliest_start"].replace(microsecond=0)
    parse_rule(data["rrule"], first_start, actor.tenant.timezone)
    series = TaskSeries(
        role_id=role.id,
        category_id=category.id if category else None,
        client_id=client.id if client else None,
        posted_by=actor.membership.id,
        rrule=data["rrule"].strip().removeprefix("RRULE:"),
        first_start=first_start,
        window_minutes=int((data["due_by"] - first_start).total_seconds() // 60),
    )
    for field in services.POSTED_FIELDS:
        if field in data and hasattr(series, field):
            setattr(series, field, data[field])
    services.place_task(series, data, client, role)
    db.session.add(series)
    db.session.flush()
    generate(series, actor.tenant, until=utcnow() + HORIZON)
    return series


def generate(series: TaskSeries, tenant: Tenant, until: datetime) -> list[Task]:
    """Create the occurrences that start before ``until`` and do not exist yet."""
    if series.status != SeriesStatus.ACTIVE:
        return []
    rule = parse_rule(series.rrule, series.first_start, tenant.timezone)
    made, now = [], utcnow()
    # A visit that starts earlier than one window ago is over: no need to list it.
    over = now - timedelta(minutes=series.window_minutes)
    since = max(series.generated_until or series.first_start, over)
    existing = set(
        db.session.scalars(
            select(Task.earliest_start).where(
                Task.series_id == series.id, Task.earliest_start >= since
            )
        )
    )
    for start in rule.between(since, until, inc=True):
        earliest = start.astimezone(UTC)
        if earliest in existing:
            continue  # made by an earlier run
        due = earliest + timedelta(minutes=series.window_minutes)
        if due <= now:
            continue  # a visit already over when the series was posted
        made.append(_occurrence(series, earliest, due))
    series.generated_until = until
    db.session.flush()
    for task in made:
        _hand_on(series, task, now)
    return made


def _occurrence(series: TaskSeries, earliest: datetime, due: datetime) -> Task:
    task = Task(series_id=series.id, earliest_start=earliest, due_by=due)
    for field in DETAIL_FIELDS:
        setattr(task, field, getattr(series, field))
    db.session.add(task)
    db.session.flush()
    services.record_transition(task, None, None, TaskStatus.OPEN, "repeat series")
    return task


def _hand_on(series: TaskSeries, task: Task, now: datetime) -> None:
    """Continuity: the series' holder gets the new visit; with none, the client's
    previous helpers are asked first."""
    if series.holder_id is not None:
        holder = db.session.get(Membership, (series.tenant_id, series.holder_id))
        if holder is not None and qualification(holder, series.role, now).qualified:
            services.assign_open([task], holder.id, None, "repeat series", reserved_until=None)
            return
    helpers = previous_helpers(series)
    if helpers:
        task.reserved_until = min(now + RESERVATION, task.due_by)
        for helper in helpers:
            notify(helper, "series_continues", task.id, title=task.title)
        db.session.flush()


def previous_helpers(series: TaskSeries) -> list[uuid.UUID]:
    """Who completed a task for this client in this role lately (most recent first),
    still qualified for it."""
    if series.client_id is None:
        return []
    rows = db.session.execute(
        select(Task.assignee_id, Task.completed_at)
        .where(
            Task.client_id == series.client_id,
            Task.role_id == series.role_id,
            Task.status == TaskStatus.COMPLETED.value,
        )
        .order_by(Task.completed_at.desc())
        .limit(50)
    ).all()
    now, found = utcnow(), []
    for assignee_id, _ in rows:
        if assignee_id in found or assignee_id is None:
            continue
        member = db.session.get(Membership, (series.tenant_id, assignee_id))
        if member is not None and qualification(member, series.role, now).qualified:
            found.append(assignee_id)
        if len(found) == PREVIOUS_HELPERS_ASKED:
            break
    return found


def take_series(actor: Actor, series: TaskSeries) -> TaskSeries:
    """Take every visit of the series: the open ones now, and each new one as it comes.

    A conditional update on the series: of two people taking it at once, one wins.
    Visits someone else already holds stay theirs.
    """
    actor.require(Action.TAKE_TASKS)
    now = utcnow()
    qualification(actor.membership, series.role, now).require()
    result = db.session.execute(
        update(TaskSeries)
        .where(
            TaskSeries.id == series.id,
            TaskSeries.status == SeriesStatus.ACTIVE.value,
            TaskSeries.holder_id.is_(None),
        )
        .values(holder_id=actor.membership.id, version_id=TaskSeries.version_id + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(series)
    if getattr(result, "rowcount", 0) != 1:
        if series.status != SeriesStatus.ACTIVE:
            raise Conflict("This series has ended.")
        raise Conflict("Someone else took this series first.")
    for task in _future(series, TaskStatus.OPEN):
        services.assign_open(
            [task], actor.membership.id, actor, "repeat series", reserved_until=None
        )
    if series.posted_by != actor.membership.id:
        notify(
            series.posted_by,
            "series_taken",
            None,
            person=services.actor_name(actor),
            title=series.title,
        )
    db.session.flush()
    return series


def release_series(actor: Actor, series: TaskSeries, note: str) -> TaskSeries:
    """The holder gives the series back: their visits not yet started open again."""
    if series.holder_id != actor.membership.id:
        raise Forbidden("Only the person who holds this series can give it back.")
    series.holder_id = None
    db.session.flush()
    for task in _future(series, TaskStatus.ASSIGNED):
        if task.assignee_id == actor.membership.id:
            services.release(actor, task, note)
    if series.posted_by != actor.membership.id:
        notify(series.posted_by, "series_released", None, title=series.title, note=note)
    db.session.flush()
    return series


def end_series(actor: Actor, series: TaskSeries, reason: str) -> TaskSeries:
    """No more visits: the series stops and its visits not yet done are cancelled."""
    actor.require(Action.POST_TASKS)
    if series.status != SeriesStatus.ACTIVE:
        raise Conflict("This series has already ended.")
    series.status = SeriesStatus.ENDED.value
    db.session.flush()
    for task in _future(series, TaskStatus.OPEN, TaskStatus.ASSIGNED):
        services.cancel(actor, task, reason)
    return series


def _future(series: TaskSeries, *statuses: TaskStatus, limit: int | None = None) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task)
            .where(
                Task.series_id == series.id,
                Task.status.in_([s.value for s in statuses]),
                Task.due_by > utcnow(),
            )
            .order_by(Task.earliest_start)
            .limit(limit)
        )
    )


def list_series(actor: Actor) -> Select[Any]:
    """The care team sees every series; a taker sees the ones they hold."""
    statement = select(TaskSeries).order_by(TaskSeries.created_at.desc(), TaskSeries.id)
    if not actor.can(Action.VIEW_ALL_TASKS):
        actor.require(Action.TAKE_TASKS)
        statement = statement.where(TaskSeries.holder_id == actor.membership.id)
    return statement


def get_series_or_404(actor: Actor, series_id: uuid.UUID) -> TaskSeries:
    """The care team and the holder see a series; a taker may see an active series
    nobody holds (to take it). Anything else is a 404."""
    series = db.session.scalar(select(TaskSeries).where(TaskSeries.id == series_id))
    if series is None:
        raise NotFound("No such series.")
    if actor.can(Action.VIEW_ALL_TASKS) or series.holder_id == actor.membership.id:
        return series
    if actor.can(Action.TAKE_TASKS) and series.status == SeriesStatus.ACTIVE:
        return series
    raise NotFound("No such series.")


def present_series(actor: Actor, series: TaskSeries) -> dict[str, Any]:
    view = {column.key: getattr(series, column.key) for column in TaskSeries.__table__.columns}
    view["role_key"] = series.role_key
    if not (actor.can(Action.VIEW_ALL_TASKS) or series.holder_id == actor.membership.id):
        for field in services.PRIVATE_FIELDS:
            view[field] = None
    upcoming = _future(series, *TaskStatus, limit=UPCOMING_SHOWN)
    view["upcoming"] = services.present_all(actor, upcoming)
    return view


@tenant_job
def generate_series_occurrences() -> int:
    """Keep every active series' occurrences generated ``HORIZON`` ahead (periodic)."""
    tenant = db.session.get(Tenant, current_tenant_id())
    if tenant is None:
        return 0
    until = utcnow() + HORIZON
    due = db.session.scalars(
        select(TaskSeries).where(
            TaskSeries.status == SeriesStatus.ACTIVE.value,
            (TaskSeries.generated_until.is_(None)) | (TaskSeries.generated_until < until),
        )
    ).all()
    return sum(len(generate(series, tenant, until)) for series in due)
