from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, new_id, utcnow
from nyby.tenancy.models import TenantScoped, tenant_fk


class Notification(TenantScoped, Base):
    """One message in a member's in-app inbox.

    Written in the same transaction as the change it reports, so a change is never
    committed without its message, nor a message without its change. Only the kind
    and its parameters are stored: the text is rendered in the reader's language.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        tenant_fk(["recipient_id"], "memberships", ondelete="CASCADE"),
        tenant_fk(["task_id"], "tasks", ondelete="CASCADE"),
        Index("ix_notifications_recipient", "tenant_id", "recipient_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    recipient_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[uuid.UUID | None]
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class OutgoingMail(TenantScoped, Base):
    """A message to send on one channel (email, SMS or Web Push), written in the
    transaction that caused it (a transactional outbox): a rolled-back change sends
    nothing, and a job retried after sending does not send twice (``sent_at``).

    A failed send waits ``next_attempt_at`` (1, 5, 25 ... minutes); after
    ``MAX_ATTEMPTS`` it is dead (``dead_at``) and admins see it as a dead letter.
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        Index("ix_outgoing_mail_unsent", "tenant_id", "sent_at"),
        Index("ix_outgoing_mail_dead", "tenant_id", "dead_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(8), default="email")  # email, sms, push
    # An email address, a phone number, or a PushSubscription id.
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))  # verify_email, invitation ...
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]


class PushSubscription(TenantScoped, Base):
    """One browser or phone that agreed to receive Web Push for a member (the
    PushManager subscription: endpoint + keys). A member may have several devices."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        tenant_fk(["membership_id"], "memberships", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "membership_id", "endpoint"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    membership_id: Mapped[uuid.UUID]
    endpoint: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
