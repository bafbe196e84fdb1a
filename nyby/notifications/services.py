"""The one way to tell a member something: ``notify``, in the same transaction as the change."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import select, update

from nyby.auth.permissions import Action
from nyby.clients.needs import describe
from nyby.core.api import Rows
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, NotFound
from nyby.notifications.models import Notification, OutgoingMail
from nyby.tenancy.context import add_rows, current_tenant_id
from nyby.tenancy.resolution import Actor

# Translated when rendered (lazy), so each reader gets their own language.
MESSAGES: dict[str, LazyString] = {
    "task_taken": lazy_gettext("%(person)s took your task “%(title)s”."),
    "task_released": lazy_gettext(
        "Your task “%(title)s” was given back and is open again: %(note)s"
    ),
    "task_started": lazy_gettext("%(person)s started your task “%(title)s”."),
    "task_completed": lazy_gettext("%(person)s completed your task “%(title)s”."),
    "task_cancelled": lazy_gettext("The task “%(title)s” you took was cancelled: %(note)s"),
    "task_offered": lazy_gettext(
        "New task for you: “%(title)s”, about %(minutes)s minutes, %(distance)s km "
        "from your home area. Accept it in the next %(timeout)s minutes, or decline."
    ),
    "task_offered_remote": lazy_gettext(
        "New task for you: “%(title)s”, about %(minutes)s minutes, by phone or video. "
        "Accept it in the next %(timeout)s minutes, or decline."
    ),
    "offer_taken": lazy_gettext(
        "“%(title)s” was taken by someone else: your offer is withdrawn. Thank you!"
    ),
    "offer_closed": lazy_gettext("“%(title)s” is no longer needed: your offer is withdrawn."),
    "task_escalated": lazy_gettext(
        "Nobody took “%(title)s” after %(waves)s waves of offers: please find someone."
    ),
    "contact_escalated": lazy_gettext(
        "Nobody could reach the client of “%(title)s” after %(attempts)s attempts: please step in."
    ),
    "task_given_to_you": lazy_gettext("A coordinator gave you the task “%(title)s”: %(note)s"),
    "task_given_to_other": lazy_gettext("The task “%(title)s” was given to someone else: %(note)s"),
    "task_reassigned": lazy_gettext("%(person)s passed your task “%(title)s” to another helper."),
    "chat_message": lazy_gettext("%(person)s wrote in the chat about “%(title)s”."),
    "series_taken": lazy_gettext("%(person)s took every visit of “%(title)s”."),
    "series_released": lazy_gettext("The repeat task “%(title)s” was given back: %(note)s"),
    "series_continues": lazy_gettext(
        "You helped with “%(title)s” before: the next one is kept for you first."
    ),
    "check_verified": lazy_gettext("Your check “%(check)s” is verified."),
    "check_rejected": lazy_gettext("Your check “%(check)s” was not accepted: %(reason)s"),
    "check_expiring": lazy_gettext(
        "Your check “%(check)s” expires on %(date)s: renew it to keep taking tasks."
    ),
    "check_expired": lazy_gettext(
        "Your check “%(check)s” has expired: send new evidence to renew it."
    ),
    "role_approved": lazy_gettext("You are approved as %(role)s: you can take its tasks now."),
    "role_rejected": lazy_gettext("Your application as %(role)s was not approved: %(reason)s"),
    "role_suspended": lazy_gettext("Your role %(role)s is paused: %(reason)s"),
    "passport_shared": lazy_gettext(
        "%(person)s shared %(count)s verified checks from %(tenant)s: accept them "
        "instead of repeating them, or decline."
    ),
    "no_tasks_today": lazy_gettext(
        "No tasks came up near you today. Thank you for being on duty: we will "
        "offer you the next one that fits."
    ),
    # Safeguarding notices never carry the concern's words, only where to read it.
    "concern_raised": lazy_gettext(
        "A safeguarding concern was raised. As a safeguarding lead, please read it today: %(link)s"
    ),
    "concern_no_lead": lazy_gettext(
        "A safeguarding concern was raised, but nobody here is a safeguarding lead, "
        "so nobody can read it. Name a lead now on a member's page."
    ),
    "concern_updated": lazy_gettext(
        "There is news about the safeguarding concern you raised: %(link)s"
    ),
    "expense_approved": lazy_gettext(
        "Your expense claim of %(amount)s for “%(title)s” is approved."
    ),
    "expense_rejected": lazy_gettext(
        "Your expense claim of %(amount)s for “%(title)s” was not approved: %(reason)s"
    ),
    "thanks": lazy_gettext("%(person)s sent you a thumbs-up. Thank you for your help! %(note)s"),
    "thanks_for_task": lazy_gettext(
        "%(person)s sent you a thumbs-up for “%(title)s”. Thank you! %(note)s"
    ),
    # tier and milestone are keys, named in the reader's language (recognition.names).
    "badge_awarded": lazy_gettext(
        "A %(tier)s badge for you: %(threshold)s %(milestone)s. Thank you for your help!"
    ),
    "signed_up": lazy_gettext(
        "We received your application for %(roles)s. What happens next: confirm your "
        "email address with the link we sent you, send the evidence your roles need "
        "on “My roles and checks”, and a coordinator will then look at your application."
    ),
}


def notify(
    recipient_id: uuid.UUID,
    kind: str,
    task_id: uuid.UUID | None = None,
    *,
    inbox_only: bool = False,
    **params: Any,
) -> None:
    """The in-app notice always; for the kinds that matter also the recipient's chosen
    channels (email, SMS, Web Push), all in the current transaction. ``inbox_only``: the
    caller mails one fuller message itself, so the person does not get two."""
    notify_each(kind, task_id, {recipient_id: params}, inbox_only=inbox_only)


def notify_each(
    kind: str,
    task_id: uuid.UUID | None,
    params_by_recipient: dict[uuid.UUID, dict[str, Any]],
    *,
    inbox_only: bool = False,
) -> None:
    """``notify`` for several people at once (a wave's offers, their withdrawal): the
    same notices and outbox rows, in a few queries for them all."""
    from nyby.notifications.channels import fan_out

    add_rows(
        Notification,
        [
            {"recipient_id": recipient_id, "kind": kind, "task_id": task_id, "params": params}
            for recipient_id, params in params_by_recipient.items()
        ],
    )
    if not inbox_only:
        fan_out(kind, params_by_recipient)


def send_mail(to: str, kind: str, subject: str, body: str) -> OutgoingMail:
    """Mail someone, once the current transaction commits (never if it rolls back).

    The caller renders subject and body in the recipient's language (``force_locale``).
    """
    mail = OutgoingMail(channel="email", to_address=to, kind=kind, subject=subject, body=body)
    db.session.add(mail)
    db.session.flush()
    enqueue_delivery(mail.id)
    return mail


def enqueue_delivery(message_id: uuid.UUID) -> None:
    """Hand an outbox row to the delivery job once the transaction commits."""
    from nyby.jobs.queues import enqueue_after_commit
    from nyby.notifications.jobs import deliver_mail

    enqueue_after_commit(deliver_mail, str(current_tenant_id()), str(message_id))


def message_text(kind: str, params: dict[str, Any]) -> str:
    template = str(MESSAGES.get(kind, kind))
    if kind == "badge_awarded":
        from nyby.recognition.names import badge_params

        params = badge_params(params)
    text = (template % {"person": "", "title": "", "note": "", **params}).strip()
    about = describe(params.get("needs") or [], params.get("language"))
    if about:
        text += " " + gettext("Good to know: %(about)s", about=about)
    return text


def render(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "task_id": notification.task_id,
        "params": notification.params,
        "message": message_text(notification.kind, notification.params),
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


# -- dead letters (admins) ---------------------------------------------------------------


def dead_letters(actor: Actor) -> Rows:
    """Messages that failed every attempt, newest first (admins)."""
    actor.require(Action.CHANGE_CONFIGURATION)
    statement = (
        select(OutgoingMail)
        .where(OutgoingMail.dead_at.is_not(None), OutgoingMail.sent_at.is_(None))
        .order_by(OutgoingMail.dead_at.desc(), OutgoingMail.id)
    )
    return Rows(statement, lambda page: [row[0] for row in page])


def retry_dead_letter(actor: Actor, message_id: uuid.UUID) -> OutgoingMail:
    """Try a dead message again from the start (all its attempts), after the commit."""
    actor.require(Action.CHANGE_CONFIGURATION)
    message = db.session.scalar(
        select(OutgoingMail).where(OutgoingMail.id == message_id).with_for_update()
    )
    if message is None:
        raise NotFound("No such message.")
    if message.sent_at is not None:
        raise Conflict("This message was sent already.")
    if message.dead_at is None:
        raise Conflict("This message is still being tried.")
    message.dead_at = None
    message.attempts = 0
    message.next_attempt_at = None
    db.session.flush()
    enqueue_delivery(message.id)
    return message
