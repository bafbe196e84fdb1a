"""Answering offers (first accept wins). Escalations: nyby.escalations.

Accepting an offer is taking its task through ``tasks.services.accept``: one conditional
UPDATE, so of many people accepting at once exactly one wins. The winner's transaction
withdraws every other open offer of the task (``dispatch.waves.task_moved``), so the
others' offers say so, and their own accept is a 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, select

from nyby.auth.permissions import Action
from nyby.clients.models import Client
from nyby.clients.needs import good_to_know
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict
from nyby.dispatch.models import Offer, OfferStatus
from nyby.geo import Place, distance_km
from nyby.tasks import services as tasks
from nyby.tasks.models import Task, TaskDecline, TaskStatus
from nyby.tenancy.resolution import Actor

# An offer past its time may still be answered while its task is open: better taken late
# than not at all (the next wave may already have gone out to others).
ANSWERABLE = (OfferStatus.OFFERED.value, OfferStatus.EXPIRED.value)


def my_offers(actor: Actor) -> Rows:
    """My offers: open ones first (soonest to expire first), then the rest, newest first."""
    actor.require(Action.TAKE_TASKS)
    is_open = Offer.status == OfferStatus.OFFERED.value
    statement = (
        select(Offer)
        .where(Offer.membership_id == actor.membership.id)
        .order_by(
            case((is_open, 0), else_=1),
            case((is_open, Offer.expires_at), else_=None),
            Offer.offered_at.desc(),
            Offer.id,
        )
    )
    return Rows(statement, lambda page: present_all(actor, [row[0] for row in page]))


def present_all(actor: Actor, offers: Sequence[Offer]) -> list[dict[str, Any]]:
    """Offers with their tasks as the caller may see them (the area, not the address,
    until they hold it), how far the task is from their home area, and what to know about
    its client (needs, never who): the page's tasks and clients are read in one query each."""
    ids = {offer.task_id for offer in offers}
    found = db.session.scalars(select(Task).where(Task.id.in_(ids))).all() if ids else []
    views = {view["id"]: view for view in tasks.present_all(actor, found)}
    by_id = {task.id: task for task in found}
    client_ids = {task.client_id for task in found if task.client_id is not None}
    clients = (
        {c.id: c for c in db.session.scalars(select(Client).where(Client.id.in_(client_ids)))}
        if client_ids
        else {}
    )
    now = utcnow()
    rendered = []
    for offer in offers:
        task = by_id[offer.task_id]
        client = clients.get(task.client_id) if task.client_id else None
        rendered.append(
            {
                **{column.key: getattr(offer, column.key) for column in Offer.__table__.columns},
                "task": views[offer.task_id],
                "answerable": offer.status in ANSWERABLE and task.status == TaskStatus.OPEN,
                "seconds_left": max(0, int((offer.expires_at - now).total_seconds()))
                if offer.status == OfferStatus.OFFERED
                else 0,
                "distance_km": _away(actor, task),
                "client_needs": good_to_know(client),
                "client_language": client.interpreter_language if client else None,
            }
        )
    return rendered


def _away(actor: Actor, task: Task) -> float | None:
    """Roughly where: km from my home area to the task (None for a remote role, or
    when either place is unknown)."""
    member = actor.membership
    if task.role.remote or task.latitude is None or task.longitude is None:
        return None
    if member.home_latitude is None or member.home_longitude is None:
        return None
    home = Place(member.home_latitude, member.home_longitude)
    return round(distance_km(home, Place(task.latitude, task.longitude)), 1)


def present(actor: Actor, offer: Offer) -> dict[str, Any]:
    return present_all(actor, [offer])[0]


def accept_offer(actor: Actor, offer: Offer) -> Offer:
    """Take the offered task. Of many accepting at once, one wins; the others' offers
    are withdrawn and they hear it was taken (409)."""
    actor.require(Action.TAKE_TASKS)
    task = _task_of(offer)
    if offer.status == OfferStatus.ACCEPTED:
        return offer  # a retry of my own accept
    if offer.status not in ANSWERABLE:
        raise Conflict(_closed(offer, task))
    try:
        tasks.accept(actor, task)
    except Conflict:
        if task.status in (TaskStatus.OPEN, TaskStatus.EXPIRED):
            raise  # a reservation, say: the service's own reason
        raise Conflict(_closed(offer, task)) from None
    db.session.refresh(offer)  # accepted by the task's change of status
    return offer


def decline_offer(actor: Actor, offer: Offer) -> Offer:
    """Say no: the task is never offered or shown to me again (``TaskDecline``)."""
    actor.require(Action.TAKE_TASKS)
    task = _task_of(offer)
    if offer.status == OfferStatus.DECLINED:
        return offer
    if offer.status not in ANSWERABLE:
        raise Conflict(_closed(offer, task))
    declined = db.session.scalar(
        select(TaskDecline.task_id).where(
            TaskDecline.task_id == task.id, TaskDecline.membership_id == actor.membership.id
        )
    )
    if declined is None:
        tasks.decline(actor, task)  # 409 if the task is no longer open
    else:
        offer.status, offer.responded_at = OfferStatus.DECLINED.value, utcnow()
        db.session.flush()
    db.session.refresh(offer)
    return offer


def _task_of(offer: Offer) -> Task:
    return db.session.scalars(select(Task).where(Task.id == offer.task_id)).one()


def _closed(offer: Offer, task: Task) -> str:
    """Why an offer can no longer be answered, in a sentence."""
    if offer.status == OfferStatus.DECLINED:
        return "You declined this offer."
    if task.status in (TaskStatus.ASSIGNED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED):
        return "This task was taken by someone else."
    return f"This task is no longer needed (it is {task.status})."
