"""A task's chat: messages between its holder, its poster and the coordinators.

Tied to one task, paginated, with unread counts per person. Nobody's phone number or
email goes through it: authors show by display name only, and a message that carries
a phone number or an email address is refused (contact stays in the platform). The
chat closes for new messages ``chat_closes_after_days`` (tenant setting) after the task
ends. Files go to file storage like task attachments, with the tenant's size limit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from nyby.auth.permissions import Action
from nyby.chat.models import TaskChatRead, TaskMessage
from nyby.configuration.task_support import task_support
from nyby.core.api import Rows, read_page
from nyby.core.db import db, new_id, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.integrations.storage import check_upload, tenant_files
from nyby.members.models import Membership
from nyby.notifications.services import notify
from nyby.tasks.models import Task, TaskStatus
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

MAX_BODY = 4000
ENDED = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.EXPIRED, TaskStatus.UNMET}
)

# Contact details. Dates, times and prices are blanked out first, so "2025-03-01 at
# 10:30" is not taken for a phone number; eight digits or more in a row (spaces, dashes
# and brackets between them allowed) are: Norwegian numbers have eight, British eleven.
_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]{2,}")
_NOT_PHONE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{1,2}[:.]\d{2}(?!\d)"
)
_PHONE = re.compile(r"\+?\d(?:[ \-()]{0,2}\d){7,}")


def carries_contact_details(text: str) -> bool:
    if _EMAIL.search(text):
        return True
    return _PHONE.search(_NOT_PHONE.sub(" ", text)) is not None


@dataclass(frozen=True)
class ChatState:
    task_id: uuid.UUID
    open: bool
    closes_at: datetime | None  # None while the task has not ended
    unread: int
    may_write: bool


def ended_at(task: Task) -> datetime | None:
    """When the task ended (completed, cancelled, expired or closed unmet), if it has."""
    if task.status not in ENDED:
        return None
    return task.completed_at or task.updated_at


def closes_at(tenant: Tenant, task: Task) -> datetime | None:
    ended = ended_at(task)
    if ended is None:
        return None
    return ended + timedelta(days=task_support(tenant)["chat_closes_after_days"])


def state(actor: Actor, task: Task) -> ChatState:
    closing = closes_at(actor.tenant, task)
    is_open = closing is None or utcnow() < closing
    return ChatState(task.id, is_open, closing, unread_in(actor, task), is_open)


def messages(actor: Actor, task: Task) -> Rows:
    """The task's messages, newest first (page 1 is the latest); ``task`` comes from
    ``access.get_chat_task_or_404``."""
    statement = (
        select(TaskMessage)
        .where(TaskMessage.task_id == task.id)
        .order_by(TaskMessage.created_at.desc(), TaskMessage.id.desc())
    )
    return Rows(statement, lambda page: present_all(actor, task, [row[0] for row in page]))


def present_all(
    actor: Actor, task: Task, found: Sequence[TaskMessage], *, with_links: bool = False
) -> list[dict[str, Any]]:
    """Messages with their authors' display names (read in one query): never an
    email address or phone number. ``with_links``: a short-lived download link for
    each file (the caller has been let see the chat)."""
    authors = {message.author_id for message in found}
    members = (
        {m.id: m for m in db.session.scalars(select(Membership).where(Membership.id.in_(authors)))}
        if authors
        else {}
    )
    views: list[dict[str, Any]] = []
    for message in found:
        author = members.get(message.author_id)
        views.append(
            {
                "id": message.id,
                "task_id": message.task_id,
                "author_id": message.author_id,
                "author_name": author.account.name if author is not None else "",
                "author_is": _part(task, message.author_id, author),
                "mine": message.author_id == actor.membership.id,
                "body": message.body,
                "created_at": message.created_at,
                "attachment": None
                if message.storage_key is None
                else {
                    "file_name": message.file_name,
                    "content_type": message.content_type,
                    "size_bytes": message.size_bytes,
                },
            }
        )
        if with_links and message.storage_key is not None:
            _link(views[-1]["attachment"], message)
    return views


def _link(view: dict[str, Any], message: TaskMessage) -> None:
    files = tenant_files()
    assert message.storage_key and message.file_name and message.content_type
    view["download_url"] = files.download_url(
        message.storage_key, file_name=message.file_name, content_type=message.content_type
    )
    view["download_expires_at"] = utcnow() + timedelta(seconds=files.url_seconds)


def _part(task: Task, author_id: uuid.UUID, author: Membership | None) -> str:
    """Who the author is to this task, for the reader: holder, poster or coordinator."""
    if author_id == task.assignee_id:
        return "holder"
    if author_id == task.posted_by:
        return "poster"
    if author is not None and author.is_coordinator:
        return "coordinator"
    return "former_holder"


def present(actor: Actor, task: Task, message: TaskMessage, *, with_link: bool) -> dict[str, Any]:
    """One message; ``with_link`` adds a short-lived download link for its file."""
    return present_all(actor, task, [message], with_links=with_link)[0]


def recent(actor: Actor, task: Task, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The latest ``limit`` messages, oldest first (as a chat reads), with links to
    their files, and how many there are in all: for the task's page."""

    rows, total = read_page(
        Rows(
            messages(actor, task).statement,
            lambda page: present_all(actor, task, [r[0] for r in page], with_links=True),
        ),
        0,
        limit,
    )
    return list(reversed(rows)), total


def post_message(
    actor: Actor, task: Task, body: str, upload: FileStorage | None = None
) -> TaskMessage:
    """Write in the task's chat: checked first (open, not empty, no contact details,
    the file's type and size), then stored, and the others told."""
    closing = closes_at(actor.tenant, task)
    if closing is not None and utcnow() >= closing:
        raise Conflict(
            _(
                "This chat closed on %(date)s, some days after the task ended: no new messages.",
                date=format_datetime(closing, "short"),
            )
        )
    body = body.strip()
    if not body and upload is None:
        raise Unprocessable(
            _("Write a message or attach a file."),
            errors={"body": [_("Write a message or attach a file.")]},
        )
    if len(body) > MAX_BODY:
        raise Unprocessable(
            _("A message may be at most %(count)s characters.", count=MAX_BODY),
            errors={"body": [_("At most %(count)s characters.", count=MAX_BODY)]},
        )
    if carries_contact_details(body):
        refusal = _(
            "Phone numbers and email addresses are not shared in the chat: contact "
            "stays in the platform. Please take them out."
        )
        raise Unprocessable(refusal, errors={"body": [refusal]})
    checked = None
    if upload is not None:
        limit = task_support(actor.tenant)["chat_attachment_max_mb"] * 1024 * 1024
        checked = check_upload(upload.stream, upload.filename, max_bytes=limit)
    message = TaskMessage(id=new_id(), task_id=task.id, author_id=actor.membership.id, body=body)
    if checked is not None:
        files = tenant_files()
        key = files.key("tasks", task.id, "messages", message.id)
        message.storage_key, message.file_name = key, checked.file_name
        message.content_type, message.size_bytes = checked.content_type, checked.size
    db.session.add(message)
    db.session.flush()
    if checked is not None:
        # Registered before the upload starts: a failure later leaves no file behind.
        db.on_rollback(lambda: files.delete(key))
        files.put(key, checked.stream, checked.content_type)
    _tell_the_others(actor, task, message)
    mark_read(actor, task, message.created_at)
    return message


def _people(task: Task) -> set[uuid.UUID]:
    """Who takes part: the holder, the poster, and coordinators who have opened it."""
    joined = db.session.scalars(
        select(TaskChatRead.membership_id)
        .join(Membership, Membership.id == TaskChatRead.membership_id)
        .where(TaskChatRead.task_id == task.id, Membership.is_coordinator, Membership.is_active)
    )
    return {task.posted_by, *joined} | ({task.assignee_id} if task.assignee_id else set())


def _tell_the_others(actor: Actor, task: Task, message: TaskMessage) -> None:
    """One notice per unread run: someone who has not yet read the earlier messages
    was told about them already."""
    for person in _people(task) - {actor.membership.id}:
        read = db.session.scalar(
            select(TaskChatRead.last_read_at).where(
                TaskChatRead.task_id == task.id, TaskChatRead.membership_id == person
            )
        )
        earlier = select(TaskMessage.id).where(
            TaskMessage.task_id == task.id,
            TaskMessage.id != message.id,
            TaskMessage.author_id != person,
        )
        if read is not None:
            earlier = earlier.where(TaskMessage.created_at > read)
        if db.session.scalar(earlier.limit(1)) is None:
            notify(person, "chat_message", task.id, person=actor.membership.account.name,
                   title=task.title)  # fmt: skip


def mark_read(actor: Actor, task: Task, up_to: datetime | None = None) -> None:
    """Everything in the chat up to now (or ``up_to``) is read by the caller."""
    at = up_to or utcnow()
    key = (actor.tenant.id, task.id, actor.membership.id)
    row = db.session.get(TaskChatRead, key)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    TaskChatRead(task_id=task.id, membership_id=actor.membership.id,
                                 last_read_at=at)
                )  # fmt: skip
            return
        except IntegrityError:  # the same person's other tab got there first
            row = db.session.get(TaskChatRead, key)
            assert row is not None
    if row.last_read_at < at:
        row.last_read_at = at
        db.session.flush()


def unread_in(actor: Actor, task: Task) -> int:
    read = db.session.scalar(
        select(TaskChatRead.last_read_at).where(
            TaskChatRead.task_id == task.id, TaskChatRead.membership_id == actor.membership.id
        )
    )
    statement = select(func.count()).where(
        TaskMessage.task_id == task.id, TaskMessage.author_id != actor.membership.id
    )
    if read is not None:
        statement = statement.where(TaskMessage.created_at > read)
    return db.session.scalar(statement) or 0


def _unread_by_task(actor: Actor) -> Select[Any]:
    """(task id, unread messages, latest message) for each chat the caller takes part
    in with something unread: as holder or poster, or as a coordinator who opened it."""
    me = actor.membership.id
    takes_part = (Task.assignee_id == me) | (Task.posted_by == me)
    if actor.can(Action.JOIN_TASK_CHATS):
        takes_part = takes_part | TaskChatRead.membership_id.is_not(None)
    return (
        select(
            TaskMessage.task_id.label("task_id"),
            func.count().label("unread"),
            func.max(TaskMessage.created_at).label("latest"),
        )
        .join(Task, Task.id == TaskMessage.task_id)
        .outerjoin(
            TaskChatRead,
            (TaskChatRead.task_id == TaskMessage.task_id) & (TaskChatRead.membership_id == me),
        )
        .where(
            TaskMessage.author_id != me,
            takes_part,
            or_(
                TaskChatRead.last_read_at.is_(None),
                TaskMessage.created_at > TaskChatRead.last_read_at,
            ),
        )
        .group_by(TaskMessage.task_id)
    )


def my_unread_chats(actor: Actor) -> Rows:
    """The chats with messages I have not read, the most recent first."""
    unread = _unread_by_task(actor).subquery()
    statement = (
        select(Task.id, Task.title, unread.c.unread, unread.c.latest)
        .join(unread, unread.c.task_id == Task.id)
        .order_by(unread.c.latest.desc(), Task.id)
    )
    return Rows(
        statement,
        lambda page: [
            {"task_id": row[0], "title": row[1], "unread": row[2], "latest_at": row[3]}
            for row in page
        ],
    )


def unread_total(actor: Actor) -> dict[str, int]:
    """Unread messages, and in how many chats, for the menu's count."""
    unread = _unread_by_task(actor).subquery()
    chats, messages_ = db.session.execute(
        select(func.count(), func.coalesce(func.sum(unread.c.unread), 0)).select_from(unread)
    ).one()
    return {"messages": int(messages_), "chats": int(chats)}
