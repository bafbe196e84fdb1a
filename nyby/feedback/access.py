from __future__ import annotations

import uuid

from nyby.core.errors import NotFound
from nyby.tasks.access import can_see_everything, get_task_or_404
from nyby.tasks.models import Task
from nyby.tenancy.resolution import Actor


def may_see_history(actor: Actor, task: Task) -> bool:
    """The care team, whoever holds (or did) the task, and the professional who posted it."""
    return can_see_everything(actor, task) or task.posted_by == actor.membership.id


def get_task_history_or_404(actor: Actor, task_id: uuid.UUID) -> Task:
    """A task whose history and feedback the caller may see; for anyone else the same
    404 as for a task that does not exist (a volunteer browsing an open task included)."""
    task = get_task_or_404(actor, task_id)
    if not may_see_history(actor, task):
        raise NotFound("No such task.")
    return task
