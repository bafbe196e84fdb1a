"""Posting tasks and moving them through their life: the business rules of care tasks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import lazyload

from nyby.audit.trail import record_read
from nyby.auth.permissions import Action
from nyby.clients.models import NEED_FLAGS, Client, ClientStatus
from nyby.configuration.models import TaskCategory, VolunteerRole
from nyby.configuration.posting import require_may_post
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from nyby.dispatch import waves as dispatch
from nyby.escalations import queue as escalation_queue
from nyby.geo import Place, locate
from nyby.jobs.queues import tenant_job
from nyby.notifications.services import notify
from nyby.onboarding.qualification import qualification
from nyby.tasks.access import can_see_everything
from nyby.tasks.models import IS_OPEN, Task, TaskDecline, TaskEvent, TaskStatus
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
# What the holder of a task learns about its client: enough to do it well, no more.
CLIENT_FIELDS_FOR_HOLDER = (
    "name",
    "phone",
    "address",
    *NEED_FLAGS,
    "interpreter_language",
    "risk_assessment",
)


def post_task(actor: Actor, data: dict[str, Any]) -> Task:
    actor.require(Action.POST_TASKS)
    role, category, client = resolve_posting(actor, data)
    task = Task(
        role_id=role.id,
        category_id=category.id if category else None,
        posted_by=actor.membership.id,
        client_id=client.id if client else None,
    )
    for field in POSTED_FIELDS:
        if field in data:
            setattr(task, field, data[field])
    place_task(task, data, client, role)
    db.session.add(task)
    db.session.flush()
    record_transition(task, actor, None, TaskStatus.OPEN)
    return task


def resolve_posting(
    actor: Actor, data: dict[str, Any]
) -> tuple[VolunteerRole, TaskCategory | None, Client | None]:
    """The role (one the caller's teams may post), category and client a new task or
    series names, checked: 422, 403 or 409 naming what is wrong."""
    role = db.session.scalar(
        select(VolunteerRole).where(VolunteerRole.key == data["role"], VolunteerRole.is_active)
    )
    if role is None:
        raise Unprocessable(
            "This tenant has no such role.", errors={"role": ["Not an active role here."]}
        )
    require_may_post(actor.membership, role)
    category = None
    if data.get("category") is not None:
        category = db.session.scalar(
            select(TaskCategory).where(TaskCategory.key == data["category"])
        )
        if category is None:
            raise Unprocessable(
                "This tenant has no such category.", errors={"category": ["No such category."]}
            )
        if role.categories and category not in role.categories:
            raise Unprocessable(
                f"The role {role.key!r} does not take {category.key!r} tasks.",
                errors={"category": [f"Not one of the categories of {role.key!r}."]},
            )
    client = None
    if data.get("client_id") is not None:
        # Posting reads none of the professionals linked to the client (a query saved).
        client = db.session.scalar(
            select(Client)
            .where(Client.id == data["client_id"])
            .options(lazyload(Client.professional_links))
        )
        if client is None:
            raise Unprocessable("No such client.", errors={"client_id": ["No such client here."]})
        if client.status != ClientStatus.ACTIVE:
            raise Conflict(f"Support for this client is {client.status}: no new tasks.")
    return role, category, client


def place_task(task: Any, data: dict[str, Any], client: Client | None, role: VolunteerRole) -> None:
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


def list_tasks(actor: Actor, status: str | None = None, client_id: uuid.UUID | None = None) -> Rows:
    """The care team sees every task; takers see the ones they hold."""
    statement = select(Task).order_by(Task.due_by, Task.id)
    if not actor.can(Action.VIEW_ALL_TASKS):
        actor.require(Action.TAKE_TASKS)
        statement = statement.where(Task.assignee_id == actor.membership.id)
    if status is not None:
        statement = statement.where(Task.status == status)
    if client_id is not None:
        statement = statement.where(Task.client_id == client_id)
    return Rows(statement, lambda page: present_all(actor, [row[0] for row in page]))


@dataclass(frozen=True)
class Activity:
    """What a helper has done: tasks completed and hours given, month by month."""

    tasks: int
    minutes: int
    by_month: list[tuple[date, int]]  # (first day of the month, minutes), oldest first


def activity(actor: Actor, months: int = 6) -> Activity:
    """The caller's own record of completed tasks, for the last ``months`` months."""
    actor.require(Action.TAKE_TASKS)
    done = db.session.execute(
        select(Task.completed_at, Task.minutes_spent).where(
            Task.assignee_id == actor.membership.id,
            Task.status == TaskStatus.COMPLETED.value,
        )
    ).all()
    today = utcnow().date().replace(day=1)
    starts = [today - relativedelta(months=n) for n in range(months - 1, -1, -1)]
    minutes = dict.fromkeys(starts, 0)
    for at, spent in done:
        month = at.date().replace(day=1) if at else None
        if month in minutes:
            minutes[month] += spent or 0
    total = sum(spent or 0 for _at, spent in done)
    return Activity(len(done), total, list(minutes.items()))


def present(actor: Actor, task: Task) -> dict[str, Any]:
    """The task as this caller may see it: the exact place, and the client's details
    a helper needs, only once they hold it."""
    return present_all(actor, [task])[0]


def present_all(actor: Actor, tasks: Sequence[Task]) -> list[dict[str, Any]]:
    """``present`` for a page of tasks: the clients of those the caller holds are read
    in one query, not one each."""
    held = {
        task.client_id
        for task in tasks
        if task.client_id is not None and task.assignee_id == actor.membership.id
    }
    clients = (
        {c.id: c for c in db.session.scalars(select(Client).where(Client.id.in_(held)))}
        if held
        else {}
    )
    views = []
    for task in tasks:
        view = {column.key: getattr(task, column.key) for column in Task.__table__.columns}
        view["role_key"] = task.role_key
        view["role_name"] = task.role.name  # for the web pages; the API gives the key
        view["category_key"] = task.category_key
        view["client"] = None
        if not can_see_everything(actor, task):
            for field in PRIVATE_FIELDS:
                view[field] = None
        elif task.assignee_id == actor.membership.id and task.client_id in clients:
            client = clients[task.client_id]
            view["client"] = {field: getattr(client, field) for field in CLIENT_FIELDS_FOR_HOLDER}
            record_read(client)  # the holder is shown the client's details
        views.append(view)
    return views


def history(actor: Actor, task: Task) -> Select[Any]:
    """Who moved the task on, and when: for the care team and the task's holder."""
    if not can_see_everything(actor, task):
        raise NotFound("No such task.")
    return (
        select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.at, TaskEvent.id)
    )


def accept(actor: Actor, task: Task) -> Task:
    """Take an open task. A conditional UPDATE: of many at once, exactly one wins."""
    actor.require(Action.TAKE_TASKS)
    now = utcnow()
    qualification(actor.membership, task.role, now).require()
    if task.reserved_until is not None and task.reserved_until > now:
        helped = db.session.scalar(helped_clients(actor).where(Task.client_id == task.client_id))
        if helped is None:
            raise Conflict(
                "This task is kept for the client's previous helpers until "
                f"{task.reserved_until:%Y-%m-%d %H:%M} UTC."
            )
    _transition(
        actor,
        task,
        {TaskStatus.OPEN},
        TaskStatus.ASSIGNED,
        "Someone else took this task first.",
        assignee_id=actor.membership.id,
        assigned_at=now,
    )
    tell_poster(actor, task, "task_taken")
    return task


def helped_clients(actor: Actor) -> Select[Any]:
    """The clients this person has completed a task for (continuity)."""
    return select(Task.client_id).where(
        Task.assignee_id == actor.membership.id,
        Task.status == TaskStatus.COMPLETED.value,
        Task.client_id.is_not(None),
    )


def assign_open(
    tasks: list[Task],
    membership_id: uuid.UUID,
    actor: Actor | None,
    note: str,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> bool:
    """Give these open tasks to one member in one conditional UPDATE (a street group,
    a series' visits): True only if every one of them was still open (and met the
    ``conditions``); the caller decides whether anything less is a conflict."""
    now = utcnow()
    result = db.session.execute(
        update(Task)
        .where(Task.id.in_([t.id for t in tasks]), IS_OPEN, *conditions)
        .values(
            status=TaskStatus.ASSIGNED.value,
            assignee_id=membership_id,
            assigned_at=now,
            version_id=Task.version_id + 1,
            updated_at=now,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != len(tasks):
        return False
    for task in tasks:
        db.session.refresh(task)
        record_transition(task, actor, TaskStatus.OPEN.value, TaskStatus.ASSIGNED, note)
    return True


def start(actor: Actor, task: Task) -> Task:
    _require_holder(actor, task)
    _transition(actor, task, {TaskStatus.ASSIGNED}, TaskStatus.IN_PROGRESS, started_at=utcnow())
    tell_poster(actor, task, "task_started")
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
    tell_poster(actor, task, "task_completed")
    from nyby.recognition.jobs import after_completion  # recognition reads tasks

    after_completion(actor.membership.id)
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
    tell_poster(actor, task, "task_released", note=note)
    return task


def decline(actor: Actor, task: Task) -> None:
    """Never show this open task to this person again."""
    actor.require(Action.TAKE_TASKS)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"Only open tasks can be declined; this one is {task.status}.")
    db.session.add(TaskDecline(task_id=task.id, membership_id=actor.membership.id))
    db.session.flush()
    dispatch.task_declined(task, actor.membership.id)


def cancel(actor: Actor, task: Task, reason: str) -> Task:
    actor.require(Action.POST_TASKS)
    holder = task.assignee_id
    _transition(
        actor,
        task,
        {TaskStatus.OPEN, TaskStatus.ASSIGNED},
        TaskStatus.CANCELLED,
        note=reason,
        closing_reason=reason,
    )
    if holder is not None and holder != actor.membership.id:
        notify(holder, "task_cancelled", task.id, title=task.title, note=reason)
    return task


def close_unmet(actor: Actor, task: Task, reason: str, *, escalated: bool = False) -> Task:
    """Nobody could do it: a coordinator or the poster closes an open or expired task
    as unmet, which reporting counts apart from cancelled ones. ``escalated``: a
    coordinator answering an escalation may also close a task someone holds (the client
    could not be reached); the holder is told."""
    actor.require(Action.POST_TASKS)
    allowed = {TaskStatus.OPEN, TaskStatus.EXPIRED}
    if escalated:
        actor.require(Action.HANDLE_ESCALATIONS)
        allowed |= {TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS}
    holder = task.assignee_id
    _transition(actor, task, allowed, TaskStatus.UNMET, note=reason, closing_reason=reason)
    if holder is not None and holder != actor.membership.id:
        notify(holder, "task_cancelled", task.id, title=task.title, note=reason)
    return task


def reassign(actor: Actor, task: Task, member_id: uuid.UUID, note: str) -> Task:
    """A coordinator gives a task not yet done to a chosen member (answering an
    escalation); the new holder, the one before and the poster are told."""
    actor.require(Action.HANDLE_ESCALATIONS)
    before = task.assignee_id
    _transition(
        actor,
        task,
        {TaskStatus.OPEN, TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS},
        TaskStatus.ASSIGNED,
        note=note,
        assignee_id=member_id,
        assigned_at=utcnow(),
        started_at=None,
    )
    notify(member_id, "task_given_to_you", task.id, title=task.title, note=note)
    if before is not None and before != member_id:
        notify(before, "task_given_to_other", task.id, title=task.title, note=note)
    tell_poster(actor, task, "task_reassigned")
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
    overdue = db.session.scalars(select(Task).where(IS_OPEN, Task.due_by <= now)).all()
    for task in overdue:
        task.status = TaskStatus.EXPIRED.value
        task.closing_reason = "Nobody took it before it was due."
        record_transition(task, None, TaskStatus.OPEN.value, TaskStatus.EXPIRED)
    return len(overdue)


def tell_poster(actor: Actor, task: Task, kind: str, **params: Any) -> None:
    """The poster sees each change of their task as it happens (in-app inbox)."""
    if task.posted_by != actor.membership.id:
        notify(task.posted_by, kind, task.id, person=actor_name(actor), title=task.title, **params)


def actor_name(actor: Actor) -> str:
    return actor.membership.account.name


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
    record_transition(task, actor, before, to, note)


def record_transition(
    task: Task, actor: Actor | None, before: str | None, to: TaskStatus, note: str = ""
) -> None:
    """Every change of status, with who made it (None: the platform itself) and when;
    push dispatch starts, stops or restarts with it (offers withdrawn at once)."""
    db.session.add(
        TaskEvent(
            task_id=task.id,
            actor_id=actor.membership.id if actor is not None else None,
            from_status=before,
            to_status=to.value,
            note=note,
        )
    )
    db.session.flush()
    dispatch.task_moved(task, before, to)
    escalation_queue.task_moved(task, to)


def titles(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Tasks' titles by id, in one query (lists that name the task of each row)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.execute(select(Task.id, Task.title).where(Task.id.in_(wanted)))
    return dict(rows.tuples().all())
