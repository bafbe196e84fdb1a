"""Posting tasks and moving them through their life: the business rules of care tasks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, update

from nyby.auth.permissions import Action
from nyby.clients.models import Client, ClientStatus
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Forbidden, Unprocessable
from nyby.geo import Place, area_cells_within, distance_km, locate
from nyby.jobs.queues import tenant_job
from nyby.onboarding.qualification import qualification
from nyby.tasks.access import can_see_everything
from nyby.tasks.models import Task, TaskDecline, TaskEvent, TaskStatus
from nyby.tenancy.resolution import Actor

POSTED_FIELDS = (
    "title",
    "description",
    "estimated_minutes",
    "earliest_start",
    "due_by",
    "urgency",
    "what_to_bring",
    "payment_note",
)
# Hidden from a taker until they hold the task.
PRIVATE_FIELDS = ("address", "latitude", "longitude", "client_id")


def post_task(actor: Actor, data: dict[str, Any]) -> Task:
    actor.require(Action.POST_TASKS)
    role = db.session.scalar(
        select(VolunteerRole).where(VolunteerRole.key == data["role"], VolunteerRole.is_active)
    )
    if role is None:
        raise Unprocessable(
            "This tenant has no such role.", errors={"role": ["Not an active role here."]}
        )
    client = None
    if data.get("client_id") is not None:
        client = db.session.scalar(select(Client).where(Client.id == data["client_id"]))
        if client is None:
            raise Unprocessable("No such client.", errors={"client_id": ["No such client here."]})
        if client.status != ClientStatus.ACTIVE:
            raise Conflict(f"Support for this client is {client.status}: no new tasks.")
    task = Task(role_id=role.id, posted_by=actor.membership.id, client_id=data.get("client_id"))
    for field in POSTED_FIELDS:
        if field in data:
            setattr(task, field, data[field])
    _place(task, data, client, role)
    db.session.add(task)
    db.session.flush()
    _record(task, actor, None, TaskStatus.OPEN)
    return task


def _place(task: Task, data: dict[str, Any], client: Client | None, role: VolunteerRole) -> None:
    """Where the task happens: given, else the client's home; remote roles need none."""
    if "latitude" in data:
        latitude, longitude = data["latitude"], data["longitude"]
        task.address = data.get("address", "")
    elif client is not None:
        latitude, longitude = client.latitude, client.longitude
        task.address = data.get("address", client.address)
    elif role.remote:
        return
    else:
        raise Unprocessable(
            "Say where the task is: a client, or latitude and longitude.",
            errors={"latitude": ["Required for a task with no client."]},
        )
    locate(task, Place(latitude, longitude))


def list_tasks(actor: Actor, status: str | None = None) -> Select[Any]:
    """The care team sees every task; takers see the ones they hold."""
    statement = select(Task).order_by(Task.due_by, Task.id)
    if not actor.can(Action.VIEW_ALL_TASKS):
        actor.require(Action.TAKE_TASKS)
        statement = statement.where(Task.assignee_id == actor.membership.id)
    if status is not None:
        statement = statement.where(Task.status == status)
    return statement


def open_tasks_near(
    actor: Actor,
    latitude: float,
    longitude: float,
    radius_km: float,
    role: str | None = None,
    sort: str = "distance",
) -> list[dict[str, Any]]:
    """Open tasks the caller may take, within ``radius_km`` of a point (pull model).

    H3 area cells narrow the candidates in SQL; the exact distance then decides.
    Remote roles (phone or video) have no distance and are always included.
    """
    actor.require(Action.TAKE_TASKS)
    now = utcnow()
    roles = db.session.scalars(select(VolunteerRole).where(VolunteerRole.is_active)).all()
    takeable = {
        r.id: r
        for r in roles
        if (role is None or r.key == role) and qualification(actor.membership, r, now).qualified
    }
    if not takeable:
        return []
    here = Place(latitude, longitude)
    cells = area_cells_within(here, radius_km)
    declined = select(TaskDecline.task_id).where(TaskDecline.membership_id == actor.membership.id)
    candidates = db.session.scalars(
        select(Task).where(
            Task.status == TaskStatus.OPEN.value,
            Task.role_id.in_(takeable),
            Task.due_by > now,
            Task.id.not_in(declined),
            Task.area_cell.in_(cells) | Task.area_cell.is_(None),
        )
    ).all()
    found = []
    for task in candidates:
        distance = None
        if task.latitude is not None and task.longitude is not None:
            distance = distance_km(here, Place(task.latitude, task.longitude))
            if distance > radius_km:
                continue
        elif not takeable[task.role_id].remote:
            continue
        view = present(actor, task)
        view["distance_km"] = round(distance, 2) if distance is not None else None
        found.append(view)
    if sort == "due":
        found.sort(key=lambda v: (v["due_by"], v["id"]))
    else:
        found.sort(key=lambda v: (v["distance_km"] is None, v["distance_km"] or 0, v["due_by"]))
    return found


def present(actor: Actor, task: Task) -> dict[str, Any]:
    """The task as this caller may see it: the exact place only once they hold it."""
    view = {column.key: getattr(task, column.key) for column in Task.__table__.columns}
    view["role_key"] = task.role_key
    if not can_see_everything(actor, task):
        for field in PRIVATE_FIELDS:
            view[field] = None
    return view


def accept(actor: Actor, task: Task) -> Task:
    """Take an open task. A conditional UPDATE: of many at once, exactly one wins."""
    actor.require(Action.TAKE_TASKS)
    now = utcnow()
    qualification(actor.membership, task.role, now).require()
    _transition(
        actor,
        task,
        {TaskStatus.OPEN},
        TaskStatus.ASSIGNED,
        "Someone else took this task first.",
        assignee_id=actor.membership.id,
        assigned_at=now,
    )
    return task


def start(actor: Actor, task: Task) -> Task:
    _require_holder(actor, task)
    _transition(actor, task, {TaskStatus.ASSIGNED}, TaskStatus.IN_PROGRESS, started_at=utcnow())
    return task


def complete(actor: Actor, task: Task, minutes_spent: int, outcome_note: str) -> Task:
    _require_holder(actor, task)
    _transition(
        actor,
        task,
        {TaskStatus.IN_PROGRESS},
        TaskStatus.COMPLETED,
        completed_at=utcnow(),
        minutes_spent=minutes_spent,
        outcome_note=outcome_note,
    )
    return task


def release(actor: Actor, task: Task, note: str) -> Task:
    """The holder can no longer do it: it opens again for others."""
    _require_holder(actor, task)
    _transition(
        actor,
        task,
        {TaskStatus.ASSIGNED},
        TaskStatus.OPEN,
        note=note,
        assignee_id=None,
        assigned_at=None,
    )
    return task


def decline(actor: Actor, task: Task) -> None:
    """Never show this open task to this person again."""
    actor.require(Action.TAKE_TASKS)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"Only open tasks can be declined; this one is {task.status}.")
    db.session.add(TaskDecline(task_id=task.id, membership_id=actor.membership.id))
    db.session.flush()


def cancel(actor: Actor, task: Task, reason: str) -> Task:
    actor.require(Action.POST_TASKS)
    _transition(
        actor,
        task,
        {TaskStatus.OPEN, TaskStatus.ASSIGNED},
        TaskStatus.CANCELLED,
        note=reason,
        closing_reason=reason,
    )
    return task


def cancel_open_tasks_of(actor: Actor, client: Client, reason: str) -> int:
    """When a client no longer needs support, their tasks not yet done are cancelled."""
    pending = db.session.scalars(
        select(Task).where(
            Task.client_id == client.id,
            Task.status.in_([TaskStatus.OPEN.value, TaskStatus.ASSIGNED.value]),
        )
    ).all()
    for task in pending:
        cancel(actor, task, reason)
    return len(pending)


@tenant_job
def expire_overdue_tasks() -> int:
    """Open tasks whose due time has passed with no taker become expired (periodic)."""
    now = utcnow()
    overdue = db.session.scalars(
        select(Task).where(Task.status == TaskStatus.OPEN.value, Task.due_by <= now)
    ).all()
    for task in overdue:
        before = task.status
        task.status = TaskStatus.EXPIRED.value
        task.closing_reason = "Nobody took it before it was due."
        db.session.add(
            TaskEvent(task_id=task.id, actor_id=None, from_status=before, to_status="expired")
        )
    db.session.flush()
    return len(overdue)


def _require_holder(actor: Actor, task: Task) -> None:
    if task.assignee_id != actor.membership.id:
        raise Forbidden("Only the person who holds this task can do that.")


def _transition(
    actor: Actor,
    task: Task,
    allowed: set[TaskStatus],
    to: TaskStatus,
    conflict: str | None = None,
    note: str = "",
    **values: Any,
) -> None:
    """Move the task on only if it is still in an allowed state (409 otherwise)."""
    before = task.status
    result = db.session.execute(
        update(Task)
        .where(Task.id == task.id, Task.status.in_([s.value for s in allowed]))
        .values(status=to.value, version_id=Task.version_id + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.refresh(task)
        raise Conflict(conflict or f"A task that is {task.status} cannot become {to.value}.")
    db.session.refresh(task)
    _record(task, actor, before, to, note)


def _record(task: Task, actor: Actor, before: str | None, to: TaskStatus, note: str = "") -> None:
    db.session.add(
        TaskEvent(
            task_id=task.id,
            actor_id=actor.membership.id,
            from_status=before,
            to_status=to.value,
            note=note,
        )
    )
    db.session.flush()
