from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.chat.models import TaskMessage
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.tasks.access import get_task_or_404
from nyby.tasks.models import Task
from nyby.tenancy.resolution import Actor


def may_chat(actor: Actor, task: Task) -> bool:
    """A task's chat is for whoever holds it now, its poster and the coordinators."""
    me = actor.membership.id
    return me in (task.assignee_id, task.posted_by) or actor.can(Action.JOIN_TASK_CHATS)


def get_chat_task_or_404(actor: Actor, task_id: uuid.UUID) -> Task:
    """A task whose chat the caller takes part in. Anyone else, a volunteer who can see
    the open task among them, hears the same 404 as for a task that does not exist: a
    chat is as private as the exact address."""
    task = get_task_or_404(actor, task_id)
    if not may_chat(actor, task):
        raise NotFound("No such task.")
    return task


def get_message_or_404(actor: Actor, message_id: uuid.UUID) -> tuple[TaskMessage, Task]:
    """A message of a chat the caller takes part in, with its task; anything else is 404."""
    message = db.session.scalar(select(TaskMessage).where(TaskMessage.id == message_id))
    if message is None:
        raise NotFound("No such message.")
    task = db.session.scalar(select(Task).where(Task.id == message.task_id))
    if task is None or not may_chat(actor, task):
        raise NotFound("No such message.")
    return message, task
