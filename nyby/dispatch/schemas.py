from __future__ import annotations

import marshmallow as ma

from nyby.clients.models import NEED_FLAGS
from nyby.dispatch.models import OfferStatus
from nyby.tasks.schemas import TaskSchema

OFFER_STATUSES = [status.value for status in OfferStatus]


class OfferSchema(ma.Schema):
    """A task offered to me; its task shows the area, not the address, until I take it."""

    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    task = ma.fields.Nested(TaskSchema, required=True)
    wave = ma.fields.Integer(required=True, metadata={"description": "1 for the first wave"})
    status = ma.fields.String(required=True, metadata={"enum": OFFER_STATUSES})
    offered_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "After this the task may be offered to others"},
    )
    responded_at = ma.fields.AwareDateTime(allow_none=True)
    answerable = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether it can still be accepted or declined (the task is open)"},
    )
    seconds_left = ma.fields.Integer(
        required=True, metadata={"description": "Until expires_at, for an open offer; else 0"}
    )
    distance_km = ma.fields.Float(
        allow_none=True,
        metadata={"description": "Roughly where: km from my home area (null for remote roles)"},
    )
    client_needs = ma.fields.List(
        ma.fields.String(metadata={"enum": list(NEED_FLAGS)}),
        required=True,
        metadata={"description": "What to know about the client before saying yes"},
    )
    client_language = ma.fields.String(
        allow_none=True, metadata={"description": "The language the client speaks"}
    )
