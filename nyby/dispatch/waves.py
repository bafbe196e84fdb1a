"""Push dispatch in waves: offering a task to the best-matching people, a few at a time.

A push task gets a ``TaskDispatch`` row in the transaction that opens it, with
``next_wave_at = now``: that row is the outbox. Once the transaction commits a wave job
is enqueued, and a sweep every minute enqueues every wave that is due, so a task posted
while Redis is down still goes out. A wave job locks the row and does nothing unless a
wave is due, so a repeated or duplicated job never offers twice.

Wave k offers the task to the best ``wave_size`` people (``dispatch.matching``) within
``radius_km + (k - 1) * radius_growth_km``, each offer open for ``wave_timeout_minutes``.
When the next wave is due and the task is still open, the unanswered offers expire and
the next wave goes out; a wave that finds nobody moves straight on to the next radius.
After ``max_waves`` the task is escalated to the tenant's coordinators.

Every change of a task's status passes ``task_moved`` (from ``tasks.services.
record_transition``): opening starts the dispatch, leaving "open" stops it and withdraws
the open offers (the taker's becomes accepted), giving a task back starts it again.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import marshmallow as ma
from sqlalchemy import select, update

from nyby.clients.models import Client
from nyby.clients.needs import good_to_know
from nyby.configuration.models import DispatchMode, VolunteerRole
from nyby.configuration.schemas import DispatchPolicySchema
from nyby.core.db import db, utcnow
from nyby.dispatch.matching import match, task_client
from nyby.dispatch.models import Offer, OfferStatus, TaskDispatch
from nyby.dispatch.pool import offered
from nyby.escalations.models import EscalationReason
from nyby.escalations.queue import escalate, tell_coordinators
from nyby.notifications.services import notify_each
from nyby.tasks.models import Task, TaskStatus
from nyby.tenancy.context import add_rows
from nyby.tenancy.models import Tenant

PUSHED_ROLES = (DispatchMode.PUSH.value, DispatchMode.BOTH.value)


def policy_for(tenant: Tenant) -> dict[str, Any]:
    """The tenant's dispatch policy with every default filled in (a key this version
    does not know, left by a newer one, must not stop tasks being posted)."""
    return DispatchPolicySchema().load(tenant.dispatch_policy or {}, unknown=ma.EXCLUDE)


def is_pushed(role: VolunteerRole, policy: dict[str, Any]) -> bool:
    """Push and both roles are offered, pull roles never; a pull-only tenant pushes nothing."""
    return policy["mode"] != DispatchMode.PULL.value and role.dispatch_mode in PUSHED_ROLES


def task_moved(task: Task, before: str | None, to: TaskStatus) -> None:
    """The hook every change of a task's status calls (``record_transition``)."""
    if to == TaskStatus.OPEN:
        _start(task, given_back=before is not None)
    elif before == TaskStatus.OPEN.value:
        _stop(task)


def _start(task: Task, given_back: bool) -> None:
    """A push task (new, or given back) goes out: its first wave is due now."""
    tenant = db.session.get(Tenant, task.tenant_id)
    if tenant is None or not is_pushed(task.role, policy_for(tenant)):
        return
    now = utcnow()
    dispatch = _locked(task.id) if given_back else None  # a new task has none yet
    if dispatch is None:
        db.session.add(TaskDispatch(task_id=task.id, waves_sent=0, next_wave_at=now))
    else:  # given back: the people not yet asked are asked, from the first radius again
        dispatch.waves_sent, dispatch.radius_km = 0, None
        dispatch.escalated_at, dispatch.next_wave_at = None, now
    db.session.flush()
    _enqueue_wave(task)


def _stop(task: Task) -> None:
    """The task is taken or closed: no more waves, and every open offer is withdrawn at
    once with a notice (the taker's own offer, if they had one, is accepted)."""
    dispatch = _locked(task.id)  # a wave being sent finishes first: its offers are seen
    if dispatch is not None:
        dispatch.next_wave_at = None
    taker = task.assignee_id if task.status == TaskStatus.ASSIGNED else None
    now = utcnow()
    offers = db.session.scalars(
        select(Offer).where(
            Offer.task_id == task.id,
            (Offer.status == OfferStatus.OFFERED.value) | (Offer.membership_id == taker),
        )
    ).all()
    withdrawn: dict[uuid.UUID, dict[str, Any]] = {}
    for offer in offers:
        if offer.membership_id == taker:
            if offer.status in (OfferStatus.OFFERED, OfferStatus.EXPIRED):
                offer.status, offer.responded_at = OfferStatus.ACCEPTED.value, now
            continue
        offer.status = OfferStatus.WITHDRAWN.value
        withdrawn[offer.membership_id] = {"title": task.title}
    kind = "offer_taken" if taker is not None else "offer_closed"
    notify_each(kind, task.id, withdrawn)
    db.session.flush()


def task_declined(task: Task, membership_id: uuid.UUID) -> None:
    """Someone said no (to their offer, or to the task while browsing): their offer is
    declined, and once everyone asked has said no the next wave need not wait."""
    now = utcnow()
    db.session.execute(
        update(Offer)
        .where(
            Offer.task_id == task.id,
            Offer.membership_id == membership_id,
            Offer.status.in_([OfferStatus.OFFERED.value, OfferStatus.EXPIRED.value]),
        )
        .values(status=OfferStatus.DECLINED.value, responded_at=now)
        .execution_options(synchronize_session="fetch")
    )
    dispatch = _locked(task.id)
    if dispatch is None or dispatch.next_wave_at is None or dispatch.next_wave_at <= now:
        return
    waiting = db.session.scalar(
        select(Offer.id)
        .where(
            Offer.task_id == task.id,
            Offer.status == OfferStatus.OFFERED.value,
            Offer.expires_at > now,
        )
        .limit(1)
    )
    if waiting is None:
        dispatch.next_wave_at = now
        db.session.flush()
        _enqueue_wave(task)


def _enqueue_wave(task: Task) -> None:
    """Once this transaction commits, the task's wave job runs (if it is still due)."""
    from nyby.dispatch.jobs import dispatch_wave
    from nyby.jobs.queues import enqueue_after_commit

    enqueue_after_commit(dispatch_wave, str(task.tenant_id), str(task.id))


def _locked(task_id: uuid.UUID) -> TaskDispatch | None:
    return db.session.scalar(
        select(TaskDispatch).where(TaskDispatch.task_id == task_id).with_for_update()
    )


def run_wave(task_id: uuid.UUID, now: datetime | None = None) -> int:
    """Send the task's next wave if one is due; how many people were offered it.

    Idempotent: the dispatch row is locked, and a wave not yet due (or already sent:
    ``next_wave_at`` moved on) does nothing.
    """
    now = now or utcnow()
    dispatch = _locked(task_id)
    if dispatch is None or dispatch.next_wave_at is None or dispatch.next_wave_at > now:
        return 0
    task = db.session.scalar(select(Task).where(Task.id == task_id))
    tenant = db.session.get(Tenant, dispatch.tenant_id)
    if task is None or tenant is None:
        return 0
    policy = policy_for(tenant)
    if task.status != TaskStatus.OPEN or task.due_by <= now or not is_pushed(task.role, policy):
        dispatch.next_wave_at = None
        return 0
    if task.reserved_until is not None and task.reserved_until > now:
        # Kept for the client's previous helpers (a repeat visit): others are asked after.
        dispatch.next_wave_at = task.reserved_until
        return 0
    _expire_unanswered(task)
    timeout = timedelta(minutes=policy["wave_timeout_minutes"])
    client = task_client(task)
    waves_sent, radius = dispatch.waves_sent, dispatch.radius_km
    while waves_sent < policy["max_waves"]:
        waves_sent += 1
        radius = policy["radius_km"] + (waves_sent - 1) * policy["radius_growth_km"]
        found = match(task, client, radius, policy, tenant.timezone, now, policy["wave_size"])
        if not found:
            continue  # nobody here: the next, wider wave at once
        about = _about(task, client, policy["wave_timeout_minutes"])
        add_rows(
            Offer,
            [
                {
                    "task_id": task.id,
                    "membership_id": chosen.membership_id,
                    "wave": waves_sent,
                    "score": chosen.score,
                    "offered_at": now,
                    "expires_at": now + timeout,
                }
                for chosen in found
            ],
        )
        told: dict[uuid.UUID, dict[str, Any]] = {}
        for chosen in found:
            told[chosen.membership_id] = (
                about
                if chosen.distance_km is None
                else {"distance": round(chosen.distance_km, 1), **about}
            )
        # A remote role's offers say no distance (nobody travels).
        kind = "task_offered_remote" if task.role.remote else "task_offered"
        notify_each(kind, task.id, told)
        offered([chosen.membership_id for chosen in found], now)
        # The dispatch row changes once, in the wave's last statement.
        dispatch.waves_sent, dispatch.radius_km = waves_sent, radius
        dispatch.next_wave_at = now + timeout
        db.session.flush()
        return len(found)
    dispatch.waves_sent, dispatch.radius_km = waves_sent, radius
    _escalate(task, dispatch, now)
    return 0


def _about(task: Task, client: Client | None, minutes: int) -> dict[str, Any]:
    """What an offer says (each also says how far it is from their home, never the
    address): what, how long, what to know about the client (their needs, not who they
    are), and how long the offer stands. The same for everyone in the wave."""
    return {
        "title": task.title,
        "minutes": task.estimated_minutes,
        "timeout": minutes,
        "needs": good_to_know(client),
        "language": client.interpreter_language if client else None,
    }


def _expire_unanswered(task: Task) -> None:
    """The earlier waves' offers nobody answered: their time is up once a wave is due."""
    db.session.execute(
        update(Offer)
        .where(
            Offer.task_id == task.id,
            Offer.status == OfferStatus.OFFERED.value,
        )
        .values(status=OfferStatus.EXPIRED.value)
        .execution_options(synchronize_session=False)
    )


def _escalate(task: Task, dispatch: TaskDispatch, now: datetime) -> None:
    """Nobody took it after the last wave: the coordinators must find someone (it joins
    their escalation queue, ``nyby.escalations``)."""
    dispatch.escalated_at, dispatch.next_wave_at = now, None
    _escalation, opened = escalate(task, EscalationReason.NO_TAKER)
    if opened:
        tell_coordinators("task_escalated", task, waves=dispatch.waves_sent)
    db.session.flush()
