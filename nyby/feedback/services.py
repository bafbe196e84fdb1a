"""Feedback on a completed task from both sides, coordinators' thanks, and the task's
timeline that the volunteer and the poster both see."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import Conflict, Forbidden, Unprocessable
from nyby.dispatch.models import Offer
from nyby.feedback.models import FeedbackSide, TaskFeedback, Thanks
from nyby.members.models import Membership
from nyby.members.services import display_names
from nyby.notifications.services import notify
from nyby.tasks.models import Task, TaskEvent, TaskStatus
from nyby.tasks.services import titles as task_titles
from nyby.tenancy.resolution import Actor

log = logging.getLogger(__name__)


def side_of(actor: Actor, task: Task) -> FeedbackSide | None:
    """Which side the caller speaks for: whoever did the task, or whoever posted it."""
    if task.assignee_id == actor.membership.id:
        return FeedbackSide.VOLUNTEER
    if task.posted_by == actor.membership.id:
        return FeedbackSide.POSTER
    return None


def leave_feedback(
    actor: Actor, task: Task, rating: int, comment: str
) -> tuple[TaskFeedback, bool]:
    """A rating (1-5) and comment, once per side; the feedback and whether it is new.

    The same feedback sent again (a retry from a phone on a bad network) is the one
    already kept, not a second; different feedback a second time is 409. Two identical
    POSTs at once: the unique (task, side) keeps one row, the other reads it back.
    """
    side = side_of(actor, task)
    if side is None:
        raise Forbidden(
            "Only the person who did the task and the professional who posted it "
            "leave feedback on it."
        )
    if task.status != TaskStatus.COMPLETED:
        raise Conflict("Feedback comes once the task is completed.")
    existing = _feedback_of(task, side)
    if existing is None:
        feedback = TaskFeedback(
            task_id=task.id,
            author_id=actor.membership.id,
            side=side,
            rating=rating,
            comment=comment,
        )
        try:
            with db.session.begin_nested():
                db.session.add(feedback)
        except IntegrityError:
            existing = _feedback_of(task, side)
        else:
            log.info("feedback %s on task %s (%s side)", feedback.id, task.id, side)
            return feedback, True
    assert existing is not None
    if existing.rating != rating or existing.comment != comment:
        raise Conflict("Feedback on this task was left already; it is kept as it was sent.")
    return existing, False


def _feedback_of(task: Task, side: FeedbackSide) -> TaskFeedback | None:
    return db.session.scalar(
        select(TaskFeedback).where(TaskFeedback.task_id == task.id, TaskFeedback.side == side)
    )


def list_feedback(actor: Actor, task: Task) -> list[dict[str, Any]]:
    """Both sides' feedback (``task`` from ``access.get_task_history_or_404``)."""
    rows = db.session.scalars(
        select(TaskFeedback)
        .where(TaskFeedback.task_id == task.id)
        .order_by(TaskFeedback.created_at, TaskFeedback.id)
    ).all()
    names = display_names({row.author_id for row in rows})
    return [present_feedback(row, names) for row in rows]


def present_feedback(feedback: TaskFeedback, names: dict[uuid.UUID, str]) -> dict[str, Any]:
    return {
        "id": feedback.id,
        "task_id": feedback.task_id,
        "author_id": feedback.author_id,
        "author_name": names.get(feedback.author_id, ""),
        "side": feedback.side,
        "rating": feedback.rating,
        "comment": feedback.comment,
        "created_at": feedback.created_at,
    }


# -- thanks ------------------------------------------------------------------------------


def send_thanks(
    actor: Actor, member: Membership, note: str, task_id: uuid.UUID | None = None
) -> Thanks:
    """A coordinator's thumbs-up to someone who takes tasks, for a task they hold or did
    (or for their help in general); they are told at once."""
    actor.require(Action.SEND_THANKS)
    if not (member.is_volunteer or member.is_staff) or not member.is_active:
        raise Unprocessable(
            "Thanks go to active volunteers and staff who take tasks.",
            errors={"member_id": ["Not someone who takes tasks."]},
        )
    title = ""
    if task_id is not None:
        task = db.session.scalar(select(Task).where(Task.id == task_id))
        if task is None or task.assignee_id != member.id:
            raise Unprocessable(
                "That is not a task this person holds or did.",
                errors={"task_id": ["Not one of this person's tasks."]},
            )
        title = task.title
    thanks = Thanks(
        recipient_id=member.id, sender_id=actor.membership.id, task_id=task_id, note=note
    )
    db.session.add(thanks)
    db.session.flush()
    notify(
        member.id,
        "thanks_for_task" if task_id else "thanks",
        task_id,
        person=actor.membership.account.name,
        title=title,
        note=note,
    )
    log.info("thanks %s to member %s from %s", thanks.id, member.id, actor.membership.id)
    return thanks


def list_thanks(actor: Actor, member: Membership) -> Select[Any]:
    """Thanks a member received, newest first: for the member and the coordinators
    (``member`` comes from ``members.access.get_member_or_404``)."""
    return (
        select(Thanks)
        .where(Thanks.recipient_id == member.id)
        .order_by(Thanks.created_at.desc(), Thanks.id)
    )


def present_thanks(rows: Sequence[Thanks]) -> list[dict[str, Any]]:
    names = display_names({row.sender_id for row in rows})
    wanted = {row.task_id for row in rows if row.task_id}
    titles = task_titles(wanted)
    return [
        {
            "id": row.id,
            "recipient_id": row.recipient_id,
            "sender_id": row.sender_id,
            "sender_name": names.get(row.sender_id, ""),
            "task_id": row.task_id,
            "task_title": titles.get(row.task_id) if row.task_id else None,
            "note": row.note,
            "created_at": row.created_at,
        }
        for row in rows
    ]


# -- the timeline ----------------------------------------------------------------------

# A status change, as the timeline names it.
EVENT_KINDS = {
    TaskStatus.ASSIGNED.value: "accepted",
    TaskStatus.IN_PROGRESS.value: "started",
    TaskStatus.COMPLETED.value: "completed",
    TaskStatus.CANCELLED.value: "cancelled",
    TaskStatus.EXPIRED.value: "expired",
    TaskStatus.UNMET.value: "unmet",
}
TIMELINE_KINDS = (
    "posted",
    "offered",
    "accepted",
    "given_back",
    "started",
    "completed",
    "cancelled",
    "expired",
    "unmet",
    "feedback",
    "thanks",
)


def timeline(actor: Actor, task: Task) -> list[dict[str, Any]]:
    """What happened to the task, oldest first: posted, offered (how many people, per
    wave: never who), accepted, started, completed, both sides' feedback and thanks.
    Built from the task's status trail (``task_events``), its offers and the feedback,
    so nothing is recorded twice. ``task`` from ``access.get_task_history_or_404``."""
    events = db.session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.at, TaskEvent.id)
    ).all()
    waves = db.session.execute(
        select(Offer.wave, func.min(Offer.offered_at), func.count())
        .where(Offer.task_id == task.id)
        .group_by(Offer.wave)
        .order_by(Offer.wave)
    ).all()
    feedback = db.session.scalars(select(TaskFeedback).where(TaskFeedback.task_id == task.id)).all()
    thanks = db.session.scalars(select(Thanks).where(Thanks.task_id == task.id)).all()
    names = display_names(
        {e.actor_id for e in events if e.actor_id}
        | {f.author_id for f in feedback}
        | {t.sender_id for t in thanks}
    )
    entries: list[dict[str, Any]] = []
    for event in events:
        if event.to_status == TaskStatus.OPEN.value:
            kind = "posted" if event.from_status is None else "given_back"
        else:
            kind = EVENT_KINDS.get(event.to_status, event.to_status)
        entries.append(_entry(event.at, kind, event.actor_id, names, note=event.note))
    for wave, at, count in waves:
        entries.append(_entry(at, "offered", None, names, wave=wave, count=count))
    for row in feedback:
        entries.append(
            _entry(
                row.created_at,
                "feedback",
                row.author_id,
                names,
                side=row.side,
                rating=row.rating,
                note=row.comment,
            )
        )
    for thumbs_up in thanks:
        entries.append(
            _entry(thumbs_up.created_at, "thanks", thumbs_up.sender_id, names, note=thumbs_up.note)
        )
    order = {kind: index for index, kind in enumerate(TIMELINE_KINDS)}
    entries.sort(key=lambda e: (e["at"], order[e["kind"]]))
    return entries


def _entry(
    at: Any, kind: str, actor_id: uuid.UUID | None, names: dict[uuid.UUID, str], **more: Any
) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "actor_id": actor_id,
        "actor_name": names.get(actor_id) if actor_id else None,
        **more,
    }
