"""Jobs that hand the outbox to each channel's backend, retry with backoff, and the
daily "no tasks near you today" digest."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, and_, or_, select, union

from nyby.core.db import db, utcnow
from nyby.integrations.mail import build_message, current_mailer
from nyby.integrations.push import PushTarget, SubscriptionGone, current_push
from nyby.integrations.sms import current_sms
from nyby.jobs.queues import enqueue, tenant_job
from nyby.notifications.channels import GROUP_OF_KIND, forget_device
from nyby.notifications.models import Notification, OutgoingMail, PushSubscription
from nyby.tenancy.context import current_tenant_id

log = logging.getLogger(__name__)

# After this many failed attempts a message is dead: admins see it as a dead letter.
MAX_ATTEMPTS = 5
# Fresh messages are the delivery job's; the sweep takes over after this long.
SWEEP_AFTER = timedelta(minutes=5)
# The digest goes out once the local day's offers are mostly over.
DIGEST_LOCAL_HOUR = 18


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 5, 25, 125 ... minutes."""
    return timedelta(minutes=5 ** (attempts - 1))


def _hand_over(message: OutgoingMail) -> None:
    from flask import current_app

    if message.channel == "sms":
        current_sms().send(message.to_address, message.body)
    elif message.channel == "push":
        device = db.session.get(
            PushSubscription, (current_tenant_id(), uuid.UUID(message.to_address))
        )
        if device is None:
            raise SubscriptionGone("The device was unsubscribed.")
        target = PushTarget(device.endpoint, device.p256dh, device.auth)
        urgent = GROUP_OF_KIND.get(message.kind) == "offers"
        current_push().send(target, {"title": message.subject, "body": message.body}, urgent)
    else:
        sender = current_app.extensions["nyby.settings"].mail_from
        current_mailer().send(
            build_message(sender, message.to_address, message.subject, message.body)
        )


@tenant_job
def deliver_mail(mail_id: str) -> bool:
    """Send one outbox message (any channel) unless it is sent, dead or not yet due
    again; True if sent now. The row is locked while sending, so two workers given the
    same job send once."""

    message = db.session.scalar(
        select(OutgoingMail).where(OutgoingMail.id == uuid.UUID(mail_id)).with_for_update()
    )
    now = utcnow()
    if message is None or message.sent_at is not None or message.dead_at is not None:
        return False
    if message.next_attempt_at is not None and message.next_attempt_at > now:
        return False
    message.attempts += 1
    try:
        _hand_over(message)
    except SubscriptionGone as error:
        # Retrying can never work: dead now, and the device forgotten.
        message.last_error = str(error)[:2000]
        message.dead_at = now
        if message.channel == "push":
            forget_device(uuid.UUID(message.to_address))
        return False
    except Exception as error:  # any backend failure: record it, retry after a backoff
        # The address and the backend's words (which may quote the address) stay on the
        # row, where the admins' dead-letter page shows them; the log names ids only.
        log.warning(
            "%s %s failed (%s), attempt %s",
            message.channel,
            message.id,
            type(error).__name__,
            message.attempts,
        )
        message.last_error = str(error)[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.dead_at = now
            message.next_attempt_at = None
        else:
            message.next_attempt_at = now + backoff(message.attempts)
        return False
    message.sent_at = now
    message.next_attempt_at = None
    message.last_error = ""
    return True


@tenant_job
def send_waiting_mail() -> int:
    """Re-enqueue unsent messages that are due: a retry whose backoff has passed, or a
    fresh one whose job never ran (Redis was down, a worker died). Loses nothing."""
    now = utcnow()
    waiting = db.session.scalars(
        select(OutgoingMail.id).where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.dead_at.is_(None),
            or_(
                OutgoingMail.next_attempt_at <= now,
                and_(
                    OutgoingMail.next_attempt_at.is_(None),
                    OutgoingMail.created_at < now - SWEEP_AFTER,
                ),
            ),
        )
    ).all()
    tenant_id = str(current_tenant_id())
    for mail_id in waiting:
        enqueue(deliver_mail, tenant_id, str(mail_id))
    return len(waiting)


def _local_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    return datetime.combine(local.date(), datetime.min.time(), tzinfo=tz)


@tenant_job
def send_no_tasks_digest(force: bool = False) -> int:
    """Tell each on-duty volunteer who got no offer and took no task today that nothing
    came up near them, once a local day after 18:00 (``force``: any hour), never in
    their quiet hours (the hourly run after those end tells them, if it is still the
    same day). Returns how many were told; running it again the same day tells nobody
    twice."""
    from nyby.dispatch.models import Offer
    from nyby.members.duty import in_quiet_hours, on_duty_at
    from nyby.members.models import Membership
    from nyby.notifications.services import notify
    from nyby.tasks.models import Task
    from nyby.tenancy.models import Tenant

    # One digest run per tenant at a time, so a duplicated job sees the first's notices.
    tenant = db.session.scalar(
        select(Tenant).where(Tenant.id == current_tenant_id()).with_for_update()
    )
    if tenant is None:
        return 0
    tz = ZoneInfo(tenant.timezone)
    now = utcnow()
    if not force and now.astimezone(tz).hour < DIGEST_LOCAL_HOUR:
        return 0
    since = _local_day_start(now, tz)
    busy: CompoundSelect[Any] = union(
        select(Offer.membership_id).where(Offer.offered_at >= since),
        select(Task.assignee_id).where(Task.assigned_at >= since, Task.assignee_id.is_not(None)),
        select(Notification.recipient_id).where(
            Notification.kind == "no_tasks_today", Notification.created_at >= since
        ),
    )
    # A deactivated member may still have on_duty set: they are no longer ours to tell.
    candidates = db.session.scalars(
        select(Membership)
        .where(Membership.on_duty, Membership.is_active, Membership.id.not_in(busy))
        .order_by(Membership.id)
    ).all()
    told = 0
    local = now.astimezone(tz).time()
    for member in candidates:
        if on_duty_at(member, now) and not in_quiet_hours(member, local):
            notify(member.id, "no_tasks_today")
            told += 1
    db.session.flush()
    return told
