"""Opening and closing escalations: the low-level half that dispatch and the tasks'
status hook call (it knows nothing of the coordinators' actions, so it imports neither).

At most one escalation per task is open at a time: a unique partial index says so, and
callers hold a lock on the task (or its dispatch row) while they look and open one.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from nyby.core.db import db, utcnow
from nyby.escalations.models import Escalation, EscalationReason, EscalationStatus, Resolution
from nyby.members.models import Membership
from nyby.notifications.services import notify
from nyby.tasks.models import Task, TaskStatus

ENDED = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.EXPIRED, TaskStatus.UNMET}
)


def open_escalation_of(task_id: uuid.UUID) -> Escalation | None:
    return db.session.scalar(
        select(Escalation).where(
            Escalation.task_id == task_id, Escalation.status == EscalationStatus.OPEN.value
        )
    )


def escalate(task: Task, reason: EscalationReason) -> tuple[Escalation, bool]:
    """The task's open escalation, opened now if it has none; True if opened now."""
    found = open_escalation_of(task.id)
    if found is not None:
        return found, False
    escalation = Escalation(task_id=task.id, reason=reason.value, opened_at=utcnow())
    db.session.add(escalation)
    db.session.flush()
    return escalation, True


def coordinators() -> list[uuid.UUID]:
    """The tenant's active coordinators: whom an escalation tells."""
    return list(
        db.session.scalars(
            select(Membership.id).where(Membership.is_coordinator, Membership.is_active)
        )
    )


def tell_coordinators(kind: str, task: Task, **params: Any) -> None:
    for coordinator in coordinators():
        notify(coordinator, kind, task.id, title=task.title, **params)


def task_moved(task: Task, to: TaskStatus) -> None:
    """The tasks' status hook: a task someone takes, or one that ends, needs no
    coordinator any more; its open escalation is resolved by the change itself."""
    if to != TaskStatus.ASSIGNED and to not in ENDED:
        return
    resolution = Resolution.TAKEN if to == TaskStatus.ASSIGNED else Resolution.TASK_ENDED
    db.session.execute(
        update(Escalation)
        .where(Escalation.task_id == task.id, Escalation.status == EscalationStatus.OPEN.value)
        .values(
            status=EscalationStatus.RESOLVED.value,
            resolution=resolution.value,
            resolved_at=utcnow(),
        )
        .execution_options(synchronize_session="fetch")
    )
