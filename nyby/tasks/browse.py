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

from sqlalchemy import ColumnElement, Float, and_, null, or_, select, union_all

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

    The search reads only what the partial index on open tasks holds (ids, places,
    roles, times), so it never touches the table; the page's tasks are then loaded
    by id. Travelling and remote roles are two branches of a UNION ALL, so that each
    is answered by an index. ``prefilter=False`` drops the H3 cell condition: the
    same answer, found by measuring every open task; the benchmark's baseline.
    """
    reach = _reach(actor, search, prefilter)
    columns = (Task.id, Task.due_by)
    branches = []
    if reach.travelling:
        branches.append(
            select(*columns, reach.squared.label("distance2")).where(*reach.common, reach.near)
        )
    if reach.remote or not branches:
        branches.append(
            select(*columns, null().cast(Float).label("distance2")).where(
                *reach.common, Task.role_id.in_(reach.remote)
            )
        )
    found = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    nearest = (found.c.distance2.is_(None), found.c.distance2)
    order = (*(() if search.sort == "due" else nearest), found.c.due_by, found.c.id)
    statement = select(found.c.id, found.c.distance2).order_by(*order)

    def render(page: Sequence[Any]) -> list[dict[str, Any]]:
        loaded = select(Task).where(Task.id.in_([row.id for row in page]))
        tasks = {task.id: task for task in db.session.scalars(loaded)}
        found = [(tasks[row.id], row.distance2 is not None) for row in page if row.id in tasks]
        views = present_all(actor, [task for task, _ in found])
        for view, (task, travels) in zip(views, found, strict=True):
            view["distance_km"] = _distance(reach.here, task) if travels else None
        return views

    return Rows(statement, render)


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
        .where(*reach.common, reach.near, Task.street_cell.is_not(None))
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
    """Where a search measures from, and what it matches: ``common`` for every open
    task the caller may take, ``near`` for the travelling ones within the radius."""

    here: Place
    travelling: list[uuid.UUID]
    remote: list[uuid.UUID]
    common: list[ColumnElement[bool]]
    near: ColumnElement[bool]
    squared: ColumnElement[float | None]  # distance in km², equirectangular


def _reach(actor: Actor, search: Search, prefilter: bool) -> Reach:
    actor.require(Action.TAKE_TASKS)
    now = utcnow()
    here, radius = _origin(actor, search), _radius(actor, search)
    takeable = roles_to_take(actor, now, search.role)
    travelling = [r.id for r in takeable if not r.remote]
    dx = (Task.longitude - here.longitude) * (KM_PER_DEGREE * math.cos(math.radians(here.latitude)))
    dy = (Task.latitude - here.latitude) * KM_PER_DEGREE
    squared = dx * dx + dy * dy
    near = and_(Task.role_id.in_(travelling), squared <= radius * radius)
    if prefilter:
        near = and_(Task.area_cell.in_(area_cells_within(here, radius)), near)
    declined = select(TaskDecline.task_id).where(TaskDecline.membership_id == actor.membership.id)
    common = [
        IS_OPEN,
        Task.due_by > now,
        Task.id.not_in(declined),
        _not_reserved_from(actor, now),
    ]
    if search.category is not None:
        common.append(
            Task.category_id.in_(select(TaskCategory.id).where(TaskCategory.key == search.category))
        )
    if search.window_start is not None:
        common.append(Task.due_by > search.window_start)
    if search.window_end is not None:
        common.append(Task.earliest_start < search.window_end)
    remote = [r.id for r in takeable if r.remote]
    return Reach(here, travelling, remote, common, near, squared)


def _not_reserved_from(actor: Actor, now: datetime) -> ColumnElement[bool]:
    """Continuity: an occurrence kept for the client's previous helpers is hidden from
    everyone else until its reservation ends."""
    return or_(
        Task.reserved_until.is_(None),
        Task.reserved_until <= now,
        Task.client_id.in_(helped_clients(actor)),
    )
