from __future__ import annotations

import marshmallow as ma

from nyby.feedback.models import FeedbackSide
from nyby.feedback.services import TIMELINE_KINDS

SIDES = [side.value for side in FeedbackSide]


class FeedbackCreateSchema(ma.Schema):
    rating = ma.fields.Integer(
        strict=True,
        required=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "1 (poor) to 5 (excellent)"},
    )
    comment = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class FeedbackSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    author_id = ma.fields.UUID(required=True)
    author_name = ma.fields.String(required=True)
    side = ma.fields.String(
        required=True,
        metadata={"enum": SIDES, "description": "volunteer: who did it; poster: who posted it"},
    )
    rating = ma.fields.Integer(required=True)
    comment = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class ThanksCreateSchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    task_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "A task they hold or did (optional)"}
    )


class ThanksSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    recipient_id = ma.fields.UUID(required=True)
    sender_id = ma.fields.UUID(required=True)
    sender_name = ma.fields.String(required=True)
    task_id = ma.fields.UUID(allow_none=True)
    task_title = ma.fields.String(allow_none=True)
    note = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class TimelineEntrySchema(ma.Schema):
    at = ma.fields.AwareDateTime(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(TIMELINE_KINDS)})
    actor_id = ma.fields.UUID(allow_none=True, metadata={"description": "Null: the platform"})
    actor_name = ma.fields.String(allow_none=True)
    note = ma.fields.String(metadata={"description": "A status note, comment or thanks"})
    wave = ma.fields.Integer(metadata={"description": "offered: the wave"})
    count = ma.fields.Integer(metadata={"description": "offered: to how many people"})
    side = ma.fields.String(metadata={"enum": SIDES})
    rating = ma.fields.Integer()
