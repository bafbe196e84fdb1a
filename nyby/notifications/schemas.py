from __future__ import annotations

import marshmallow as ma


class NotificationSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    task_id = ma.fields.UUID(allow_none=True)
    params = ma.fields.Dict(required=True)
    message = ma.fields.String(required=True, metadata={"description": "In the reader's language"})
    created_at = ma.fields.AwareDateTime(required=True)
    read_at = ma.fields.AwareDateTime(allow_none=True)


class InboxQuerySchema(ma.Schema):
    unread = ma.fields.Boolean(load_default=False)


class MarkReadSchema(ma.Schema):
    ids = ma.fields.List(
        ma.fields.UUID(),
        validate=ma.validate.Length(max=500),
        metadata={"description": "Leave out to mark everything read"},
    )


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer(required=True)


# -- channels, push devices, dead letters ------------------------------------------------

CHANNEL = ma.validate.OneOf(["email", "sms", "push"])


def _channel_list(description: str) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=CHANNEL),
        required=True,
        validate=ma.validate.Length(max=3),
        metadata={"description": description},
    )


class NotificationSettingsSchema(ma.Schema):
    offers = ma.fields.List(ma.fields.String(), required=True)
    updates = ma.fields.List(ma.fields.String(), required=True)
    has_phone = ma.fields.Boolean(
        required=True, metadata={"description": "SMS needs a phone number on my account"}
    )
    push_devices = ma.fields.Integer(
        required=True, metadata={"description": "Devices subscribed to Web Push"}
    )
    vapid_public_key = ma.fields.String(
        required=True, metadata={"description": "applicationServerKey to subscribe with"}
    )


class NotificationSettingsUpdateSchema(ma.Schema):
    """Channels besides the in-app inbox (which always gets everything)."""

    offers = _channel_list("For task offers: any of email, sms, push")
    updates = _channel_list("For other notices (checks, roles, escalations, the digest)")


class PushKeysSchema(ma.Schema):
    p256dh = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    auth = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))


def _https_url(value: str) -> None:
    if not (value.startswith("https://") or value.startswith("http://")):
        raise ma.ValidationError("Must be an http(s) URL.")


class PushSubscriptionCreateSchema(ma.Schema):
    """What the browser's PushManager.subscribe() gives (PushSubscription.toJSON())."""

    endpoint = ma.fields.String(required=True, validate=[ma.validate.Length(max=1000), _https_url])
    keys = ma.fields.Nested(PushKeysSchema, required=True)
    expirationTime = ma.fields.Raw(load_default=None, allow_none=True)


class PushSubscriptionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    endpoint = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class DeadLetterSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    channel = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    to_address = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    attempts = ma.fields.Integer(required=True)
    last_error = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    dead_at = ma.fields.AwareDateTime(allow_none=True)
