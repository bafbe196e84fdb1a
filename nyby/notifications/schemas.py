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
