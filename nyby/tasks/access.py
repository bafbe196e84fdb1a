from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.tasks.models import Task, TaskAttachment, TaskDecline, TaskStatus
from nyby.tenancy.resolution import Actor


def can_see_everything(actor: Actor, task: Task) -> bool:
    """The care team, and whoever holds the task, see its exact place and details."""
    return actor.can(Action.VIEW_ALL_TASKS) or task.assignee_id == actor.membership.id


def get_task_or_404(actor: Actor, task_id: uuid.UUID, *, to_take: bool = False) -> Task:
    """The care team sees every task; a taker sees the ones they hold and open ones
    they have not declined. Anything else is the same 404 as a task that does not exist.

    ``to_take``: someone accepting a task that was taken a moment ago should hear
    "someone else took it" (409), not that it does not exist.
    """
    task = db.session.scalar(select(Task).where(Task.id == task_id))
    if task is None:
        raise NotFound("No such task.")
    if can_see_everything(actor, task):
        return task
    if actor.can(Action.TAKE_TASKS) and (to_take or task.status == TaskStatus.OPEN):
        declined = db.session.scalar(
            select(TaskDecline.task_id).where(
                TaskDecline.task_id == task.id, TaskDecline.membership_id == actor.membership.id
            )
        )
        if declined is None:
            return task
    raise NotFound("No such task.")


def may_manage_attachments(actor: Actor) -> bool:
    """The poster and the rest of the care team add and remove a task's files."""
    return actor.can(Action.POST_TASKS) or actor.can(Action.VIEW_ALL_TASKS)


def get_task_files_or_404(actor: Actor, task_id: uuid.UUID) -> Task:
    """A task whose files the caller may see: the care team's, or one they hold.

    Files are as private as the exact address: a volunteer browsing an open task sees
    neither, and hears the same 404 as for a task that does not exist.
    """
    task = get_task_or_404(actor, task_id)
    if not can_see_everything(actor, task):
        raise NotFound("No such task.")
    return task


def get_attachment_or_404(actor: Actor, attachment_id: uuid.UUID) -> TaskAttachment:
    """An attachment of a task whose files the caller may see; anything else is 404."""
    attachment = db.session.scalar(select(TaskAttachment).where(TaskAttachment.id == attachment_id))
    if attachment is None:
        raise NotFound("No such attachment.")
    task = db.session.scalar(select(Task).where(Task.id == attachment.task_id))
    if task is None or not can_see_everything(actor, task):
        raise NotFound("No such attachment.")
    return attachment
