"""The one way to tell a member something: ``notify``, in the same transaction as the change."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext
from sqlalchemy import select, update

from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.notifications.models import Notification
from nyby.tenancy.resolution import Actor


def _messages() -> dict[str, str]:
    # Looked up when rendered, so each reader gets their own language.
    return {
        "task_taken": gettext("%(person)s took your task “%(title)s”."),
        "task_released": gettext(
            "Your task “%(title)s” was given back and is open again: %(note)s"
        ),
        "task_started": gettext("%(person)s started your task “%(title)s”."),
        "task_completed": gettext("%(person)s completed your task “%(title)s”."),
        "task_cancelled": gettext("The task “%(title)s” you took was cancelled: %(note)s"),
        "series_taken": gettext("%(person)s took every visit of “%(title)s”."),
        "series_released": gettext("The repeat task “%(title)s” was given back: %(note)s"),
        "series_continues": gettext(
            "You helped with “%(title)s” before: the next one is kept for you first."
        ),
    }


def notify(
    recipient_id: uuid.UUID, kind: str, task_id: uuid.UUID | None = None, **params: Any
) -> None:
    db.session.add(
        Notification(recipient_id=recipient_id, kind=kind, task_id=task_id, params=params)
    )


def render(notification: Notification) -> dict[str, Any]:
    template = _messages().get(notification.kind, notification.kind)
    params = {"person": "", "title": "", "note": "", **notification.params}
    return {
        "id": notification.id,
        "kind": notification.kind,
        "task_id": notification.task_id,
        "params": notification.params,
        "message": template % params,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


def inbox(actor: Actor, unread: bool = False) -> Rows:
    """My notifications, newest first, each in my language."""
    statement = (
        select(Notification)
        .where(Notification.recipient_id == actor.membership.id)
        .order_by(Notification.created_at.desc(), Notification.id)
    )
    if unread:
        statement = statement.where(Notification.read_at.is_(None))
    return Rows(statement, lambda page: [render(row[0]) for row in page])


def mark_read(actor: Actor, ids: list[uuid.UUID] | None) -> int:
    """Mark these (or all) of my notifications read; returns how many changed."""
    statement = update(Notification).where(
        Notification.recipient_id == actor.membership.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = db.session.execute(
        statement.values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
