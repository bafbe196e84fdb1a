"""Failed contact and the coordinators' escalation queue.

The holder of a task records each failed attempt to reach its client ("no answer at the
door / on the phone"). The attempts not yet part of an escalation are counted under a
lock on the task, so the Nth attempt recorded twice at once escalates once; at the
tenant's ``failed_contacts_to_escalate`` (default 3) the task joins the coordinators'
queue, which also holds the push tasks nobody took after the last wave
(``dispatch.waves._escalate``). A coordinator answers an escalation by reassigning the
task, by contacting the client, or by closing it as unmet. Resolving is one conditional
UPDATE (``WHERE status = 'open'``), done before anything else, so of two coordinators
acting at once exactly one outcome happens and the other gets 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select, update

from nyby.auth.permissions import Action
from nyby.configuration.task_support import task_support
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Forbidden, Unprocessable
from nyby.dispatch.models import Offer, OfferStatus, TaskDispatch
from nyby.escalations.models import (
    ContactAttempt,
    Escalation,
    EscalationReason,
    EscalationStatus,
    Resolution,
)
from nyby.escalations.queue import escalate, tell_coordinators
from nyby.members.models import Membership
from nyby.members.services import display_names
from nyby.onboarding.models import AssignmentStatus, RoleAssignment
from nyby.onboarding.qualification import qualification
from nyby.tasks import services as tasks
from nyby.tasks.access import can_see_everything
from nyby.tasks.models import Task, TaskEvent, TaskStatus
from nyby.tenancy.resolution import Actor

HELD = (TaskStatus.ASSIGNED.value, TaskStatus.IN_PROGRESS.value)
# A person may say when it happened; not in the future, nor weeks ago.
EARLIEST_BACK = timedelta(days=14)
CANDIDATES = 50
ANSWERS = ("accepted", "declined", "expired", "withdrawn", "unanswered")


# -- failed contact (the holder) --------------------------------------------------------


def record_failed_contact(actor: Actor, task: Task, data: dict[str, Any]) -> ContactAttempt:
    """The holder could not reach the client. Counted with the earlier attempts not yet
    escalated; the tenant's Nth escalates the task to the coordinators, with its history."""
    task = _locked(task)
    if task.assignee_id != actor.membership.id:
        raise Forbidden(_("Only the person who holds this task can record a failed contact."))
    if task.status not in HELD:
        raise Conflict(
            _("This task is %(status)s: there is no one to contact for it now.", status=task.status)
        )
    now = utcnow()
    at = data.get("attempted_at") or now
    if at > now + timedelta(minutes=5) or at < now - EARLIEST_BACK:
        refusal = _("Give a time in the last 14 days, not in the future.")
        raise Unprocessable(refusal, errors={"attempted_at": [refusal]})
    standing, _opened = _open_of(task), False
    attempt = ContactAttempt(
        task_id=task.id,
        membership_id=actor.membership.id,
        method=data["method"],
        note=data.get("note", ""),
        attempted_at=at,
        escalation_id=standing.id if standing is not None else None,
    )
    db.session.add(attempt)
    db.session.flush()
    if standing is not None:
        return attempt  # the coordinators already have it: they see this one too
    pending = db.session.scalar(
        select(func.count()).where(
            ContactAttempt.task_id == task.id,
            ContactAttempt.escalation_id.is_(None),
            ContactAttempt.reached.is_(False),
        )
    )
    limit = task_support(actor.tenant)["failed_contacts_to_escalate"]
    if (pending or 0) >= limit:
        escalation, opened = escalate(task, EscalationReason.FAILED_CONTACT)
        db.session.execute(
            update(ContactAttempt)
            .where(ContactAttempt.task_id == task.id, ContactAttempt.escalation_id.is_(None))
            .values(escalation_id=escalation.id)
            .execution_options(synchronize_session="fetch")
        )
        if opened:
            tell_coordinators("contact_escalated", task, attempts=pending)
    return attempt


def _locked(task: Task) -> Task:
    """The task's row, locked until the transaction ends (PostgreSQL; SQLite's writers
    queue anyway): two attempts recorded at once are counted one after the other."""
    db.session.execute(select(Task.id).where(Task.id == task.id).with_for_update())
    db.session.refresh(task)  # as it stands now that the lock is held
    return task


def _open_of(task: Task) -> Escalation | None:
    return db.session.scalar(
        select(Escalation).where(
            Escalation.task_id == task.id, Escalation.status == EscalationStatus.OPEN.value
        )
    )


def contact_attempts(actor: Actor, task: Task) -> Rows:
    """The attempts to reach the task's client, oldest first: for the care team and
    whoever holds the task."""
    if not can_see_everything(actor, task):
        raise Forbidden(_("Only the care team and the task's holder see its contact attempts."))
    statement = (
        select(ContactAttempt)
        .where(ContactAttempt.task_id == task.id)
        .order_by(ContactAttempt.attempted_at, ContactAttempt.id)
    )
    return Rows(statement, lambda page: present_attempts([row[0] for row in page]))


def present_attempts(attempts: Sequence[ContactAttempt]) -> list[dict[str, Any]]:
    names = display_names({attempt.membership_id for attempt in attempts})
    return [
        {
            **{column.key: getattr(a, column.key) for column in ContactAttempt.__table__.columns},
            "person_name": names.get(a.membership_id, ""),
        }
        for a in attempts
    ]


# -- the queue (coordinators) -----------------------------------------------------------


def queue(actor: Actor, status: str = EscalationStatus.OPEN.value) -> Rows:
    """Open escalations (or resolved ones), the most recent first: failed contact and
    push tasks nobody took alike."""
    actor.require(Action.HANDLE_ESCALATIONS)
    statement = (
        select(Escalation, Task, TaskDispatch)
        .join(Task, Task.id == Escalation.task_id)
        .outerjoin(TaskDispatch, TaskDispatch.task_id == Escalation.task_id)
        .where(Escalation.status == status)
        .order_by(Escalation.opened_at.desc(), Escalation.id)
    )
    return Rows(statement, lambda page: present_all(actor, page))


def present_all(actor: Actor, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Each escalation with its task as coordinators see it, the waves of offers it
    went through and how many failed contacts led to it (one query for the page)."""
    ids = [row[0].id for row in rows]
    failed: dict[uuid.UUID, int] = (
        dict(
            db.session.execute(  # type: ignore[arg-type]
                select(ContactAttempt.escalation_id, func.count())
                .where(ContactAttempt.escalation_id.in_(ids), ContactAttempt.reached.is_(False))
                .group_by(ContactAttempt.escalation_id)
            ).all()
        )
        if ids
        else {}
    )
    views = tasks.present_all(actor, [row[1] for row in rows])
    names = display_names({row[0].resolved_by for row in rows})
    rendered = []
    for row, view in zip(rows, views, strict=True):
        escalation, dispatch = row[0], row[2]
        rendered.append(
            {
                **{c.key: getattr(escalation, c.key) for c in Escalation.__table__.columns},
                "escalated_at": escalation.opened_at,
                "resolved_by_name": names.get(escalation.resolved_by)
                if escalation.resolved_by
                else None,
                "task": view,
                "waves_sent": dispatch.waves_sent if dispatch is not None else 0,
                "radius_km": dispatch.radius_km if dispatch is not None else None,
                "failed_contacts": failed.get(escalation.id, 0),
            }
        )
    return rendered


def detail(actor: Actor, escalation: Escalation, task: Task) -> dict[str, Any]:
    """One escalation with the task's whole history: every contact attempt, every
    change of status, and the waves of offers (how many asked, and what they said)."""
    dispatch = db.session.scalar(select(TaskDispatch).where(TaskDispatch.task_id == task.id))
    view = present_all(actor, [(escalation, task, dispatch)])[0]
    attempts = db.session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.task_id == task.id)
        .order_by(ContactAttempt.attempted_at, ContactAttempt.id)
    ).all()
    events = db.session.scalars(
        select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.at, TaskEvent.id)
    ).all()
    names = display_names({event.actor_id for event in events})
    waves = db.session.execute(
        select(Offer.wave, Offer.status, func.count())
        .where(Offer.task_id == task.id)
        .group_by(Offer.wave, Offer.status)
        .order_by(Offer.wave)
    ).all()
    by_wave: dict[int, dict[str, int]] = {}
    for wave, status, count in waves:
        summary = by_wave.setdefault(wave, {"wave": wave, "asked": 0, **dict.fromkeys(ANSWERS, 0)})
        summary["unanswered" if status == OfferStatus.OFFERED else status] = count
        summary["asked"] += count
    view["attempts"] = present_attempts(attempts)
    view["events"] = [
        {
            **{c.key: getattr(event, c.key) for c in TaskEvent.__table__.columns},
            "actor_name": names.get(event.actor_id) if event.actor_id else None,
        }
        for event in events
    ]
    view["waves"] = list(by_wave.values())
    return view


def candidates(actor: Actor, task: Task) -> list[dict[str, Any]]:
    """Members who may take the task now (the qualification rule itself), by name:
    whom a coordinator can give it to. At most 50; the holder is left out."""
    actor.require(Action.HANDLE_ESCALATIONS)
    holders = select(RoleAssignment.membership_id).where(
        RoleAssignment.role_id == task.role_id,
        RoleAssignment.status == AssignmentStatus.APPROVED.value,
    )
    eligible: ColumnElement[bool] = Membership.id.in_(holders)
    if task.role.staff_only:
        eligible = eligible | Membership.is_staff
    members = db.session.scalars(
        select(Membership)
        .where(Membership.is_active, eligible, Membership.id != task.assignee_id)
        .limit(CANDIDATES * 2)
    ).all()
    now = utcnow()
    chosen = [m for m in members if qualification(m, task.role, now).qualified]
    chosen.sort(key=lambda m: (m.account.name.casefold(), m.id))
    return [{"membership_id": m.id, "name": m.account.name} for m in chosen[:CANDIDATES]]


def _resolve(actor: Actor, escalation: Escalation, resolution: Resolution, note: str) -> None:
    """Close the escalation if it is still open: one conditional UPDATE, so of two
    coordinators at once exactly one goes on (the other: 409)."""
    result = db.session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id, Escalation.status == EscalationStatus.OPEN.value)
        .values(
            status=EscalationStatus.RESOLVED.value,
            resolution=resolution.value,
            resolution_note=note,
            resolved_by=actor.membership.id,
            resolved_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(escalation)
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict(_("This escalation was already resolved, by someone else or by the task."))


def reassign(
    actor: Actor, escalation: Escalation, task: Task, member_id: uuid.UUID, note: str
) -> Escalation:
    """Give the task to a chosen qualified member; the escalation is resolved."""
    actor.require(Action.HANDLE_ESCALATIONS)
    member = db.session.scalar(
        select(Membership).where(Membership.id == member_id, Membership.is_active)
    )
    if member is None:
        refusal = _("Choose an active member of this organisation.")
        raise Unprocessable(refusal, errors={"membership_id": [refusal]})
    if member.id == task.assignee_id:
        refusal = _("This person holds the task already.")
        raise Unprocessable(refusal, errors={"membership_id": [refusal]})
    found = qualification(member, task.role, utcnow())
    if not found.qualified:
        refusal = _("This person may not take tasks in this role now.")
        raise Unprocessable(refusal, errors={"membership_id": [refusal]})
    _resolve(actor, escalation, Resolution.REASSIGNED, note)
    tasks.reassign(actor, task, member.id, note)
    return escalation


def contact_client(
    actor: Actor, escalation: Escalation, task: Task, data: dict[str, Any]
) -> Escalation:
    """A coordinator tried to reach the client: recorded either way; once reached, the
    escalation is resolved and the task goes on as it was."""
    actor.require(Action.HANDLE_ESCALATIONS)
    if data["reached"]:
        _resolve(actor, escalation, Resolution.CLIENT_CONTACTED, data["note"])
    elif escalation.status != EscalationStatus.OPEN:
        raise Conflict(_("This escalation was already resolved, by someone else or by the task."))
    db.session.add(
        ContactAttempt(
            task_id=task.id,
            membership_id=actor.membership.id,
            method=data["method"],
            reached=data["reached"],
            note=data["note"],
            attempted_at=utcnow(),
            escalation_id=escalation.id,
        )
    )
    db.session.flush()
    return escalation


def close_unmet(actor: Actor, escalation: Escalation, task: Task, reason: str) -> Escalation:
    """Nobody can do it: the task is closed as unmet (its holder, if any, is told)."""
    actor.require(Action.HANDLE_ESCALATIONS)
    if task.status not in (*HELD, TaskStatus.OPEN.value, TaskStatus.EXPIRED.value):
        raise Conflict(
            _("This task is %(status)s: it cannot be closed as unmet.", status=task.status)
        )
    _resolve(actor, escalation, Resolution.CLOSED_UNMET, reason)
    tasks.close_unmet(actor, task, reason, escalated=True)
    return escalation


def open_count(actor: Actor) -> int:
    """How many escalations wait, for the menu."""
    actor.require(Action.HANDLE_ESCALATIONS)
    return (
        db.session.scalar(
            select(func.count()).where(Escalation.status == EscalationStatus.OPEN.value)
        )
        or 0
    )


def failed_since_escalation(task: Task) -> int:
    """Failed attempts not yet part of an escalation (what the holder's page counts)."""
    return (
        db.session.scalar(
            select(func.count()).where(
                ContactAttempt.task_id == task.id,
                ContactAttempt.escalation_id.is_(None),
                ContactAttempt.reached.is_(False),
            )
        )
        or 0
    )
