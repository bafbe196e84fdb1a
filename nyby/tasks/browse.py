"""Browsing open tasks near me (the pull model) and taking a street's tasks together.

"Near" is decided in SQL in two steps: the H3 area cells around the point narrow the
candidates through an index, then an equirectangular distance (plain arithmetic, so
SQLite and PostgreSQL compute it alike; within 0.1 % of the great-circle distance at
these ranges) decides and sorts. Only the page asked for leaves the database.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    func,
    null,
    or_,
    select,
    union_all,
)

from nyby.auth.permissions import Action
from nyby.configuration.models import TaskCategory, VolunteerRole
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.geo import EARTH_RADIUS_KM, Place, area_cells_within, distance_km
from nyby.onboarding.qualification import qualification, qualifications_for
from nyby.tasks.models import IS_OPEN, Task, TaskDecline
from nyby.tasks.services import assign_open, helped_clients, present_all
from nyby.tenancy.resolution import Actor

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
DEFAULT_RADIUS_KM = 5.0


@dataclass(frozen=True)
class Search:
    """What a volunteer is looking for; every field but the origin is optional."""

    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    role: str | None = None
    category: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    sort: str = "distance"


def open_tasks_near(actor: Actor, search: Search, *, prefilter: bool = True) -> Rows:
    """Open tasks the caller may take near a point, or near their home area.

    The search reads only what the partial indexes on open tasks hold (ids, places,
    roles, times), so it never touches the table but for the page's own tasks.
    Travelling and remote roles are two branches, so that each is answered by an
    index; a page reads only as many rows of each as it can show (``_page``).
    ``prefilter=False`` drops the H3 cell condition: the same answer, found by
    measuring every open task; the benchmark's baseline.
    """
    reach = _reach(actor, search, prefilter)
    by_due = search.sort == "due"

    def read(offset: int, limit: int) -> tuple[Sequence[Any], int]:
        return _page(reach, by_due, offset, limit)

    def render(page: Sequence[Any]) -> list[dict[str, Any]]:
        views = present_all(actor, [row.Task for row in page])
        for view, row in zip(views, page, strict=True):
            travels = row.distance2 is not None
            view["distance_km"] = _distance(reach.here, row.Task) if travels else None
        return views

    statement = _with_tasks(_within_reach(reach), by_due)
    return Rows(statement, render, read)


def _within_reach(reach: Reach, by_due: bool = False, keep: int | None = None) -> Subquery:
    """Every open task within reach (id, due_by, distance2), travelling roles then remote
    ones, in no order. With ``keep``: only each branch's first ``keep`` in page order
    (no page up to ``keep`` needs more), each row carrying its branch's total."""
    branches = []
    if reach.travelling:
        travelling = select(Task.id, Task.due_by, reach.squared.label("distance2")).where(
            *reach.nearby
        )
        if keep is not None:
            # Every candidate is measured to be sorted: counting them on the way is free.
            # (Counted over the measured rows, not beside the WHERE: SQLite is quicker so.)
            measured = travelling.subquery()
            nearest = () if by_due else (measured.c.distance2,)
            travelling = (
                select(
                    *measured.c,
                    func.count().over().label("travelling"),
                    null().cast(Integer).label("remote"),
                )
                .order_by(*nearest, measured.c.due_by, measured.c.id)
                .limit(keep)
            )
        branches.append(travelling)
    if reach.remote or not branches:
        remote = select(Task.id, Task.due_by, null().cast(Float).label("distance2")).where(
            *reach.anywhere
        )
        if keep is not None:
            # Read in due order off the index, the scan stops after ``keep`` rows; the total
            # is an index-only count apart. count(id), not count(*): SQLite answers
            # count(*) by scanning the smallest index whole.
            total = select(func.count(Task.id)).where(*reach.anywhere).scalar_subquery()
            remote = (
                remote.add_columns(null().cast(Integer).label("travelling"), total.label("remote"))
                .order_by(Task.due_by, Task.id)
                .limit(keep)
            )
        branches.append(remote)
    if len(branches) == 1:
        return branches[0].subquery()
    # SQLite takes a LIMIT inside UNION ALL only in a subquery.
    return union_all(*(select(*branch.subquery().c) for branch in branches)).subquery()


def _page_order(found: Subquery, by_due: bool) -> tuple[ColumnElement[Any], ...]:
    """Nearest first (remote tasks, with no distance, after every travelling one), or
    soonest due first; the id settles ties, so pages never overlap."""
    nearest = (found.c.distance2.is_(None), found.c.distance2)
    return (*(() if by_due else nearest), found.c.due_by, found.c.id)


def _page(reach: Reach, by_due: bool, offset: int, limit: int) -> tuple[Sequence[Any], int]:
    """One page and the total, in one query that never holds every match: each branch
    gives its first ``offset + limit`` rows and its total, and the page is cut from those
    (a window count over the whole listing kept some 12,000 rows in hand for a caller
    with a remote role); only the page's tasks are read from the table."""
    found = _within_reach(reach, by_due, keep=offset + limit)
    total = func.coalesce(func.max(found.c.travelling).over(), 0) + func.coalesce(
        func.max(found.c.remote).over(), 0
    )
    page = (
        select(found.c.id, found.c.due_by, found.c.distance2, total.label("total"))
        .order_by(*_page_order(found, by_due))
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    rows = db.session.execute(_with_tasks(page, by_due).add_columns(page.c.total)).all()
    if rows:
        return rows, rows[0].total
    if not offset:
        return rows, 0
    # Past the last page, no row carries the total.
    return rows, db.session.scalar(select(func.count()).select_from(_within_reach(reach))) or 0


def _with_tasks(found: Subquery, by_due: bool) -> Select[Any]:
    """The tasks found, in page order, each with its distance (km², None if remote)."""
    return (
        select(found.c.id, found.c.distance2, Task)
        .select_from(found)
        .join(Task, Task.id == found.c.id)
        .order_by(*_page_order(found, by_due))
    )


def _distance(here: Place, task: Task) -> float | None:
    """How far the task is (not where it is exactly), in km."""
    if task.latitude is None or task.longitude is None:
        return None
    return round(distance_km(here, Place(task.latitude, task.longitude)), 2)


def street_groups(actor: Actor, search: Search) -> list[dict[str, Any]]:
    """Open tasks I may take near me, grouped by street cell (about 200 m across):
    a street champion can take a whole group at once. Groups of two or more only,
    nearest first. Remote roles need no travel, so they form no street group."""
    reach = _reach(actor, search, prefilter=True)
    tasks = db.session.scalars(
        select(Task)
        .where(*reach.nearby, Task.street_cell.is_not(None))
        .order_by(reach.squared, Task.due_by, Task.id)
    ).all()
    groups: dict[str, list[Task]] = {}
    for task in tasks:
        groups.setdefault(task.street_cell, []).append(task)  # type: ignore[arg-type]
    found = []
    for cell, members in groups.items():
        if len(members) < 2:
            continue
        nearest = min(distance_km(reach.here, Place(t.latitude, t.longitude)) for t in members)  # type: ignore[arg-type]
        found.append(
            {
                "street_cell": cell,
                "distance_km": round(nearest, 2),
                "task_count": len(members),
                "total_minutes": sum(t.estimated_minutes for t in members),
                "tasks": present_all(actor, members),
            }
        )
    return found


def take_street_group(actor: Actor, task_ids: list[uuid.UUID]) -> list[Task]:
    """Take these open tasks of one street cell together: all of them, or none.

    One conditional UPDATE claims every task that is still open; if any of them was
    taken, cancelled or declined meanwhile, the whole request is refused (409) and
    rolled back, so the champion never ends up with half a street.
    """
    actor.require(Action.TAKE_TASKS)
    wanted = set(task_ids)
    tasks = db.session.scalars(select(Task).where(Task.id.in_(wanted))).all()
    if len(tasks) != len(wanted) or len({task.street_cell for task in tasks}) != 1:
        raise Unprocessable(
            "Give the tasks of one street group.",
            errors={"task_ids": ["Not all of these are tasks in the same street group."]},
        )
    now = utcnow()
    for role in {task.role for task in tasks}:
        qualification(actor.membership, role, now).require()
    declined = select(TaskDecline.task_id).where(TaskDecline.membership_id == actor.membership.id)
    taken = assign_open(
        list(tasks),
        actor.membership.id,
        actor,
        "street group",
        Task.id.not_in(declined),
        _not_reserved_from(actor, now),
    )
    if not taken:
        raise Conflict("Some of these tasks were taken or closed meanwhile: nothing was taken.")
    return sorted(tasks, key=lambda t: (t.due_by, t.id))


def _origin(actor: Actor, search: Search) -> Place:
    if search.latitude is not None and search.longitude is not None:
        return Place(search.latitude, search.longitude)
    member = actor.membership
    if member.home_latitude is None or member.home_longitude is None:
        raise Unprocessable(
            "Give latitude and longitude, or set your home area first.",
            errors={"latitude": ["Required when you have no home area."]},
        )
    return Place(member.home_latitude, member.home_longitude)


def _radius(actor: Actor, search: Search) -> float:
    if search.radius_km is not None:
        return search.radius_km
    if search.latitude is None and actor.membership.travel_radius_km is not None:
        return actor.membership.travel_radius_km
    return DEFAULT_RADIUS_KM


def roles_to_take(actor: Actor, at: datetime, key: str | None = None) -> list[VolunteerRole]:
    """The active roles (or the one role ``key``) the caller is qualified to take tasks in."""
    offered = select(VolunteerRole).where(VolunteerRole.is_active)
    if key is not None:
        offered = offered.where(VolunteerRole.key == key)
    roles = db.session.scalars(offered.order_by(VolunteerRole.position, VolunteerRole.key)).all()
    return [
        role
        for role, q in zip(roles, qualifications_for(actor.membership, roles, at), strict=True)
        if q.qualified
    ]


@dataclass(frozen=True)
class Reach:
    """Where a search measures from, and which open tasks the caller may take:
    ``nearby`` for the travelling roles within the radius, ``anywhere`` for the remote
    ones."""

    here: Place
    travelling: list[uuid.UUID]
    remote: list[uuid.UUID]
    nearby: list[ColumnElement[bool]]
    anywhere: list[ColumnElement[bool]]
    squared: ColumnElement[float | None]  # distance in km², equirectangular


def _reach(actor: Actor, search: Search, prefilter: bool) -> Reach:
    actor.require(Action.TAKE_TASKS)
    now = utcnow()
    here, radius = _origin(actor, search), _radius(actor, search)
    takeable = roles_to_take(actor, now, search.role)
    travelling = [r.id for r in takeable if not r.remote]
    remote = [r.id for r in takeable if r.remote]
    dx = (Task.longitude - here.longitude) * (KM_PER_DEGREE * math.cos(math.radians(here.latitude)))
    dy = (Task.latitude - here.latitude) * KM_PER_DEGREE
    squared = dx * dx + dy * dy
    near = [Task.role_id.in_(travelling), squared <= radius * radius]
    if prefilter:
        near.insert(0, Task.area_cell.in_(area_cells_within(here, radius)))
    common = [IS_OPEN, Task.due_by > now]
    if search.window_start is not None:
        common.append(Task.due_by > search.window_start)
    if search.window_end is not None:
        common.append(Task.earliest_start < search.window_end)
    # Conditions that look a task up in a list come last: SQLite checks them in the
    # order given, and most tasks are out of reach before they get that far.
    lookups: list[ColumnElement[bool]] = []
    if search.category is not None:
        lookups.append(
            Task.category_id.in_(select(TaskCategory.id).where(TaskCategory.key == search.category))
        )
    declined = select(TaskDecline.task_id).where(TaskDecline.membership_id == actor.membership.id)
    lookups += [_not_reserved_from(actor, now), Task.id.not_in(declined)]
    nearby = [*common, *near, *lookups]
    anywhere = [*common, Task.role_id.in_(remote), *lookups]
    return Reach(here, travelling, remote, nearby, anywhere, squared)


def _not_reserved_from(actor: Actor, now: datetime) -> ColumnElement[bool]:
    """Continuity: an occurrence kept for the client's previous helpers is hidden from
    everyone else until its reservation ends."""
    return or_(
        Task.reserved_until.is_(None),
        Task.reserved_until <= now,
        Task.client_id.in_(helped_clients(actor)),
    )
