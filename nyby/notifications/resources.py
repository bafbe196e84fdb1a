from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.notifications import channels, services
from nyby.notifications.models import OutgoingMail, PushSubscription
from nyby.notifications.schemas import (
    DeadLetterSchema,
    InboxQuerySchema,
    MarkedSchema,
    MarkReadSchema,
    NotificationSchema,
    NotificationSettingsSchema,
    NotificationSettingsUpdateSchema,
    PushSubscriptionCreateSchema,
    PushSubscriptionSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="My in-app inbox: what happened to my tasks.",
)


@blp.route("/notifications")
class Inbox(MethodView):
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """My notifications, newest first (``unread=true``: the unread count is the total)."""
        return services.inbox(current_actor(), **query)


@blp.route("/notifications/read")
class MarkRead(MethodView):
    @blp.arguments(MarkReadSchema, required=False)
    @blp.response(200, MarkedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, int]:
        """Mark some (or all) of my notifications read."""
        return {"marked": services.mark_read(current_actor(), body.get("ids"))}


@blp.route("/me/notification-settings")
class MyNotificationSettings(MethodView):
    @blp.etag
    @blp.response(200, NotificationSettingsSchema)
    def get(self) -> dict[str, Any]:
        """Which channels I want for offers and for other notices (volunteers, staff)."""
        return channels.notification_settings(current_actor())

    @allowed_to(Action.TAKE_TASKS)
    @blp.etag
    @blp.arguments(NotificationSettingsUpdateSchema)
    @blp.response(200, NotificationSettingsSchema)
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace my channels: any of email, sms, push for offers and for updates."""
        actor = current_actor()
        blp.check_etag(channels.notification_settings(actor), NotificationSettingsSchema)
        return channels.set_notification_settings(actor, body)


@blp.route("/me/push-subscriptions")
class MyPushSubscriptions(MethodView):
    @allowed_to(Action.TAKE_TASKS)
    @blp.arguments(PushSubscriptionCreateSchema)
    @blp.response(201, PushSubscriptionSchema)
    def post(self, body: dict[str, Any]) -> PushSubscription:
        """Turn on Web Push for this device (the browser's PushSubscription); the same
        endpoint again updates its keys."""
        return channels.add_push_subscription(current_actor(), body)


@blp.route("/me/push-subscriptions/<uuid:subscription_id>")
class MyPushSubscription(MethodView):
    @blp.response(204)
    def delete(self, subscription_id: uuid.UUID) -> None:
        """Turn Web Push off for one of my devices (anyone may stop their own)."""
        channels.remove_push_subscription(current_actor(), subscription_id)


@blp.route("/dead-letters")
class DeadLetters(MethodView):
    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.response(200, DeadLetterSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """Messages that failed every delivery attempt, newest first (admins)."""
        return services.dead_letters(current_actor())


@blp.route("/dead-letters/<uuid:message_id>/retry")
class DeadLetterRetry(MethodView):
    @allowed_to(Action.CHANGE_CONFIGURATION)
    @blp.response(200, DeadLetterSchema)
    @blp.alt_response(409, description="Sent already, or still being tried")
    def post(self, message_id: uuid.UUID) -> OutgoingMail:
        """Try a dead message again from the start (admins)."""
        return services.retry_dead_letter(current_actor(), message_id)
