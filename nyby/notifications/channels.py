"""Channels besides the in-app inbox: a person's choices, push devices, and the fan-out.

``notify`` always writes the in-app notice; for the kinds that matter it also writes one
outbox row per channel the recipient chose (email, SMS, one per push device), rendered
in their language now, so the delivery job only hands text to a backend.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import force_locale, gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from sqlalchemy import Row, delete, select
from sqlalchemy.exc import IntegrityError

from nyby.auth.models import Account
from nyby.auth.permissions import Action
from nyby.core.db import db, new_id
from nyby.core.errors import Conflict, NotFound
from nyby.integrations.push import vapid_public_key
from nyby.members.models import Membership
from nyby.notifications.models import OutgoingMail, PushSubscription
from nyby.tenancy.context import add_rows, current_tenant_id
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

CHANNELS = ("email", "sms", "push")
# Offers are urgent (push first); other notices can wait for the mailbox. SMS costs the
# tenant money, so it is the person's choice, never a default.
DEFAULT_CHANNELS: dict[str, list[str]] = {"offers": ["push", "email"], "updates": ["email"]}
# Which kinds go beyond the inbox, and under which of the person's choices. Kinds that
# already mail on their own (check_expiring, verify_email ...) are left out on purpose.
GROUP_OF_KIND = {
    "task_offered": "offers",
    "task_offered_remote": "offers",
    "offer_taken": "offers",
    "offer_closed": "offers",
    "task_escalated": "updates",
    "contact_escalated": "updates",
    "task_given_to_you": "updates",
    "chat_message": "updates",
    "check_verified": "updates",
    "check_rejected": "updates",
    "role_approved": "updates",
    "role_rejected": "updates",
    "role_suspended": "updates",
    "no_tasks_today": "updates",
    "concern_raised": "updates",
    "concern_no_lead": "updates",
    "concern_updated": "updates",
    "expense_approved": "updates",
    "expense_rejected": "updates",
    "thanks": "updates",
    "thanks_for_task": "updates",
    "badge_awarded": "updates",
}


# An offer withdrawn matters only where the offer itself still shows: on the device.
# By mail or text it is noise (most offers end withdrawn: one taker, the rest told).
DEVICE_ONLY = {"offer_taken", "offer_closed"}


def chosen_channels(stored: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """A person's channels per group (``Membership.notification_channels``), defaults filled."""
    stored = stored or {}
    return {group: list(stored.get(group, default)) for group, default in DEFAULT_CHANNELS.items()}


# Translated when rendered (lazy): the reader's language.
HEADLINES: dict[str, LazyString] = {
    "offers": lazy_gettext("New task for you"),
    "offer_taken": lazy_gettext("Offer withdrawn"),
    "offer_closed": lazy_gettext("Offer withdrawn"),
    "task_escalated": lazy_gettext("A task needs someone"),
    "contact_escalated": lazy_gettext("A client could not be reached"),
    "chat_message": lazy_gettext("New message"),
    "no_tasks_today": lazy_gettext("No tasks near you today"),
    "concern_raised": lazy_gettext("A safeguarding concern"),
    "concern_no_lead": lazy_gettext("A safeguarding concern"),
    "concern_updated": lazy_gettext("A safeguarding concern"),
    "expense_approved": lazy_gettext("Your expense claim"),
    "expense_rejected": lazy_gettext("Your expense claim"),
    "thanks": lazy_gettext("A thumbs-up for you"),
    "thanks_for_task": lazy_gettext("A thumbs-up for you"),
    "badge_awarded": lazy_gettext("A badge for you"),
}


def _headline(kind: str) -> str:
    if kind in HEADLINES:
        return str(HEADLINES[kind])
    return str(HEADLINES["offers"]) if GROUP_OF_KIND.get(kind) == "offers" else gettext("News")


def fan_out(kind: str, params_by_recipient: dict[uuid.UUID, dict[str, Any]]) -> None:
    """Outbox rows for each recipient's chosen channels (none for inbox-only kinds): the
    recipients, their accounts and their devices read once for them all."""
    from nyby.notifications.services import enqueue_delivery, message_text

    group = GROUP_OF_KIND.get(kind)
    if group is None or not params_by_recipient:
        return
    members = _recipients(list(params_by_recipient))
    wanted: dict[uuid.UUID, list[str]] = {}
    for member in members:
        channels = chosen_channels(member.notification_channels)[group]
        if kind in DEVICE_ONLY:
            channels = [channel for channel in channels if channel == "push"]
        if channels:
            wanted[member.id] = channels
    devices: dict[uuid.UUID, list[str]] = {}
    pushed = [member_id for member_id, channels in wanted.items() if "push" in channels]
    if pushed:
        found = db.session.execute(
            select(PushSubscription.membership_id, PushSubscription.id).where(
                PushSubscription.membership_id.in_(pushed)
            )
        ).all()
        # Put in order here, not by SQL: asked "ORDER BY id", SQLite reads every device of
        # the tenant in its primary key's order (260,000 at NHS scale, half a second)
        # rather than these people's few by their index.
        for member_id, device in sorted(found, key=lambda row: row[1]):
            devices.setdefault(member_id, []).append(str(device))
    tenant = db.session.get(Tenant, current_tenant_id())
    rows: list[dict[str, Any]] = []
    for member in members:
        if member.id not in wanted:
            continue
        with force_locale(member.locale or (tenant.locale if tenant else "en")):
            subject = _headline(kind)
            body = message_text(kind, params_by_recipient[member.id])
        targets: list[tuple[str, str]] = []
        if "email" in wanted[member.id] and member.email:
            targets.append(("email", member.email))
        if "sms" in wanted[member.id] and member.phone:
            targets.append(("sms", member.phone))
        if "push" in wanted[member.id]:
            targets += [("push", device) for device in devices.get(member.id, [])]
        for channel, address in targets:
            # Its id given here, so the delivery job can be named before the row is written.
            message_id = new_id()
            rows.append(
                {
                    "id": message_id,
                    "channel": channel,
                    "to_address": address,
                    "kind": kind,
                    "subject": subject,
                    "body": body,
                }
            )
            enqueue_delivery(message_id)
    add_rows(OutgoingMail, rows)


def _recipients(ids: list[uuid.UUID]) -> list[Row[Any]]:
    """What the fan-out reads of each recipient and their account, in one query, in the
    order asked (plain rows: a wave's fifteen people as ORM objects cost more than the
    query)."""
    loaded = {
        row.id: row
        for row in db.session.execute(
            select(
                Membership.id,
                Membership.notification_channels,
                Account.email,
                Account.phone,
                Account.locale,
            )
            .join(Account, Account.id == Membership.account_id)
            .where(Membership.id.in_(ids))
        )
    }
    return [loaded[member_id] for member_id in ids if member_id in loaded]


# -- the person's own choices (API and web) ---------------------------------------------


def notification_settings(actor: Actor) -> dict[str, Any]:
    actor.require(Action.TAKE_TASKS)
    member = actor.membership
    devices = db.session.scalars(
        select(PushSubscription)
        .where(PushSubscription.membership_id == member.id)
        .order_by(PushSubscription.created_at, PushSubscription.id)
    ).all()
    return {
        **chosen_channels(member.notification_channels),
        "has_phone": bool(member.account.phone),
        "push_devices": len(devices),
        "vapid_public_key": vapid_public_key(),
    }


def set_notification_settings(
    actor: Actor, settings: dict[str, Any], version: int | None = None
) -> dict[str, Any]:
    """Replace which channels I want for offers and for other notices (the in-app inbox
    always gets everything). ``version``: the membership version a page was read at."""
    actor.require(Action.TAKE_TASKS)
    member = actor.membership
    if version is not None and version != member.version_id:
        raise Conflict("Your settings were changed elsewhere since this page was opened.")
    member.notification_channels = {
        group: [channel for channel in CHANNELS if channel in settings[group]]
        for group in DEFAULT_CHANNELS
    }
    db.session.flush()
    return notification_settings(actor)


def add_push_subscription(actor: Actor, body: dict[str, Any]) -> PushSubscription:
    """Remember this device for Web Push; subscribing the same device again updates its
    keys (browsers rotate them) instead of adding a second copy."""
    actor.require(Action.TAKE_TASKS)
    member = actor.membership
    mine = select(PushSubscription).where(
        PushSubscription.membership_id == member.id,
        PushSubscription.endpoint == body["endpoint"],
    )
    device = db.session.scalar(mine.with_for_update())
    if device is None:
        try:
            # Two tabs subscribing at once: the unique constraint keeps one row.
            with db.session.begin_nested():
                device = PushSubscription(
                    membership_id=member.id, endpoint=body["endpoint"], **body["keys"]
                )
                db.session.add(device)
        except IntegrityError:
            device = db.session.scalars(mine.with_for_update()).one()
    device.p256dh = body["keys"]["p256dh"]
    device.auth = body["keys"]["auth"]
    db.session.flush()
    return device


def remove_push_subscription(actor: Actor, subscription_id: uuid.UUID) -> None:
    # No role check: stopping messages to one's own device is always allowed.
    device = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.id == subscription_id,
            PushSubscription.membership_id == actor.membership.id,
        )
    )
    if device is None:
        raise NotFound("No such device.")
    db.session.delete(device)
    db.session.flush()


def forget_device(subscription_id: uuid.UUID) -> None:
    """The push service said the subscription is gone: stop sending to it."""
    db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))
