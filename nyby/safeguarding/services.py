"""Safeguarding concerns: raising one, telling the leads at once, the leads' work on it.

A concern's words stay here: notices (in-app, email, SMS, push) say only that a
concern was raised, with a link, and nothing of it goes into a task's chat.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import url_for
from sqlalchemy import Select, select

from nyby.auth.permissions import Action
from nyby.clients.access import get_client_or_404
from nyby.clients.models import Client
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Unprocessable
from nyby.members.models import Membership
from nyby.members.services import display_names
from nyby.notifications.services import notify
from nyby.safeguarding.access import is_lead, require_lead
from nyby.safeguarding.models import ConcernNote, ConcernStatus, SafeguardingConcern
from nyby.tasks.access import get_task_or_404
from nyby.tasks.services import titles as task_titles
from nyby.tenancy.resolution import Actor

log = logging.getLogger(__name__)

# What the raiser sees of their own concern; the leads see everything.
RAISER_FIELDS = (
    "id",
    "task_id",
    "client_id",
    "category",
    "description",
    "occurred_at",
    "status",
    "raised_by",
    "created_at",
    "status_changed_at",
)


def raise_concern(actor: Actor, data: dict[str, Any]) -> SafeguardingConcern:
    """Record the concern and tell every safeguarding lead, in the same transaction.

    About a task the caller may see (the one they hold or held, or any task for the
    care team), or a client the caller may see (the care team).
    """
    actor.require(Action.RAISE_CONCERNS)
    task_id, client_id = data.get("task_id"), data.get("client_id")
    if task_id is not None:
        task = get_task_or_404(actor, task_id)
        client_id = task.client_id
    else:
        assert client_id is not None  # the schema asks for one of the two
        client_id = get_client_or_404(actor, client_id, Action.VIEW_CLIENTS).id
    concern = SafeguardingConcern(
        raised_by=actor.membership.id,
        task_id=task_id,
        client_id=client_id,
        category=data["category"],
        description=data["description"],
        occurred_at=data.get("occurred_at"),
    )
    db.session.add(concern)
    db.session.flush()
    leads = db.session.scalars(
        select(Membership.id).where(Membership.is_safeguarding_lead, Membership.is_active)
    ).all()
    link = concern_link(actor, concern)
    for lead in leads:
        if lead != actor.membership.id:
            notify(lead, "concern_raised", link=link)
    if not leads:
        # Kept, not refused: a concern must never be lost. The admins are asked to name
        # a lead, who will then find it waiting.
        admins = db.session.scalars(
            select(Membership.id).where(Membership.is_admin, Membership.is_active)
        ).all()
        for admin in admins:
            notify(admin, "concern_no_lead")
    log.info(
        "safeguarding concern %s raised by member %s; %d leads told",
        concern.id,
        actor.membership.id,
        len(leads),
    )
    return concern


def concern_link(actor: Actor, concern: SafeguardingConcern) -> str:
    """The concern's page, as a full address for an email or a text message."""
    return url_for(
        "web.concern_page", tenant=actor.tenant.slug, concern_id=concern.id, _external=True
    )


def list_concerns(actor: Actor, status: str | None = None) -> Rows:
    """The leads: every concern, newest first; anyone else: the ones they raised."""
    statement: Select[Any] = select(SafeguardingConcern).order_by(
        SafeguardingConcern.created_at.desc(), SafeguardingConcern.id
    )
    if not is_lead(actor):
        statement = statement.where(SafeguardingConcern.raised_by == actor.membership.id)
    if status is not None:
        statement = statement.where(SafeguardingConcern.status == status)
    return Rows(statement, lambda page: present_all(actor, [row[0] for row in page]))


def present(actor: Actor, concern: SafeguardingConcern) -> dict[str, Any]:
    return present_all(actor, [concern])[0]


def present_all(actor: Actor, concerns: list[SafeguardingConcern]) -> list[dict[str, Any]]:
    """A concern as the caller may see it; for the leads, with the names of who raised
    it and about whom (read for the whole page at once)."""
    lead = is_lead(actor)
    names: dict[uuid.UUID, str] = {}
    clients: dict[uuid.UUID, str] = {}
    if lead and concerns:
        people = {c.raised_by for c in concerns} | {
            c.status_changed_by for c in concerns if c.status_changed_by
        }
        names = display_names(people)
        wanted = {c.client_id for c in concerns if c.client_id}
        if wanted:
            clients = dict(
                db.session.execute(select(Client.id, Client.name).where(Client.id.in_(wanted)))
                .tuples()
                .all()
            )
    tasks = task_titles(c.task_id for c in concerns)
    views = []
    for concern in concerns:
        view = {field: getattr(concern, field) for field in RAISER_FIELDS}
        view["task_title"] = tasks.get(concern.task_id) if concern.task_id else None
        if lead:
            view.update(
                outcome=concern.outcome,
                status_changed_by=concern.status_changed_by,
                status_changed_by_name=names.get(concern.status_changed_by)
                if concern.status_changed_by
                else None,
                raised_by_name=names.get(concern.raised_by),
                client_name=clients.get(concern.client_id) if concern.client_id else None,
                version=concern.version_id,
            )
        views.append(view)
    return views


def update_concern(
    actor: Actor, concern: SafeguardingConcern, changes: dict[str, Any]
) -> SafeguardingConcern:
    """A lead moves the concern on (under review, referred, closed) and records the
    outcome; closing needs one. The raiser is told there is news, not what it is."""
    require_lead(actor)
    status = changes.get("status", concern.status)
    outcome = changes.get("outcome", concern.outcome)
    if status == ConcernStatus.CLOSED and not outcome.strip():
        raise Unprocessable(
            "Say what the outcome was before closing the concern.",
            errors={"outcome": ["Required to close a concern."]},
        )
    concern.outcome = outcome
    if status != concern.status:
        concern.status = status
        concern.status_changed_at = utcnow()
        concern.status_changed_by = actor.membership.id
        if concern.raised_by != actor.membership.id:
            notify(concern.raised_by, "concern_updated", link=concern_link(actor, concern))
    db.session.flush()
    log.info("safeguarding concern %s is %s (lead %s)", concern.id, status, actor.membership.id)
    return concern


def add_note(actor: Actor, concern: SafeguardingConcern, body: str) -> ConcernNote:
    require_lead(actor)
    note = ConcernNote(concern_id=concern.id, author_id=actor.membership.id, body=body)
    db.session.add(note)
    # A note is a change to the concern: someone holding the page's old ETag must reload.
    concern.updated_at = utcnow()
    db.session.flush()
    return note


def list_notes(actor: Actor, concern: SafeguardingConcern) -> Rows:
    """The leads' notes, oldest first, with who wrote each."""
    require_lead(actor)
    statement = (
        select(ConcernNote, Membership)
        .join(
            Membership,
            (Membership.tenant_id == ConcernNote.tenant_id)
            & (Membership.id == ConcernNote.author_id),
        )
        .where(ConcernNote.concern_id == concern.id)
        .order_by(ConcernNote.created_at, ConcernNote.id)
    )
    return Rows(
        statement,
        lambda page: [
            {
                "id": note.id,
                "author_id": note.author_id,
                "author_name": author.account.name,
                "body": note.body,
                "created_at": note.created_at,
            }
            for note, author, *_rest in page
        ],
    )
