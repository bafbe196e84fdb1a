from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma

from nyby.core.db import utcnow
from nyby.safeguarding.models import ConcernCategory, ConcernStatus

CATEGORIES = [category.value for category in ConcernCategory]
STATUSES = [status.value for status in ConcernStatus]


class ConcernCreateSchema(ma.Schema):
    """About a task (its client too, if it has one) or a client: give one of the two."""

    task_id = ma.fields.UUID()
    client_id = ma.fields.UUID()
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    description = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=10000),
        metadata={"description": "What you saw or heard, and when; only the leads read it"},
    )
    occurred_at = ma.fields.AwareDateTime(
        metadata={"description": "When it happened or was noticed, if known"}
    )

    @ma.validates_schema
    def _one_subject(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("task_id" in data) == ("client_id" in data):
            raise ma.ValidationError("Give either a task or a client.", "task_id")
        when = data.get("occurred_at")
        if when is not None and when > utcnow() + timedelta(minutes=5):
            raise ma.ValidationError("Cannot be in the future.", "occurred_at")


class ConcernSchema(ma.Schema):
    """The raiser sees the fields up to ``status_changed_at``; the rest is for the leads."""

    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(allow_none=True)
    task_title = ma.fields.String(allow_none=True)
    client_id = ma.fields.UUID(allow_none=True)
    category = ma.fields.String(required=True, metadata={"enum": CATEGORIES})
    description = ma.fields.String(required=True)
    occurred_at = ma.fields.AwareDateTime(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    raised_by = ma.fields.UUID(required=True, metadata={"description": "Membership id"})
    created_at = ma.fields.AwareDateTime(required=True)
    status_changed_at = ma.fields.AwareDateTime(allow_none=True)
    # Leads only.
    outcome = ma.fields.String()
    status_changed_by = ma.fields.UUID(allow_none=True)
    status_changed_by_name = ma.fields.String(allow_none=True)
    raised_by_name = ma.fields.String(allow_none=True)
    client_name = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


class ConcernUpdateSchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    outcome = ma.fields.String(
        validate=ma.validate.Length(max=10000),
        metadata={"description": "What was decided or done; needed to close"},
    )


class ConcernQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))


class ConcernNoteCreateSchema(ma.Schema):
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=10000))


class ConcernNoteSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    author_id = ma.fields.UUID(required=True)
    author_name = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
