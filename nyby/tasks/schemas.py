from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.tasks.models import TaskStatus, Urgency

STATUSES = [status.value for status in TaskStatus]
URGENCIES = [urgency.value for urgency in Urgency]


class TaskSchema(ma.Schema):
    """A task; ``address``, ``latitude``, ``longitude`` and ``client_id`` are null for a
    volunteer who has not taken it (they see the ``area_cell`` only)."""

    id = ma.fields.UUID(required=True)
    role = ma.fields.String(
        attribute="role_key", required=True, metadata={"description": "Volunteer role key"}
    )
    client_id = ma.fields.UUID(allow_none=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    estimated_minutes = ma.fields.Integer(required=True)
    earliest_start = ma.fields.AwareDateTime(required=True)
    due_by = ma.fields.AwareDateTime(required=True)
    urgency = ma.fields.String(required=True, metadata={"enum": URGENCIES})
    what_to_bring = ma.fields.String(required=True)
    payment_note = ma.fields.String(required=True)
    address = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    distance_km = ma.fields.Float(
        allow_none=True, metadata={"description": "From the point searched from (open tasks)"}
    )
    area_cell = ma.fields.String(allow_none=True, metadata={"description": "H3 cell, about 1.4 km"})
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    assignee_id = ma.fields.UUID(allow_none=True)
    assigned_at = ma.fields.AwareDateTime(allow_none=True)
    started_at = ma.fields.AwareDateTime(allow_none=True)
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    minutes_spent = ma.fields.Integer(allow_none=True)
    outcome_note = ma.fields.String(required=True)
    closing_reason = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class TaskCreateSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=63))
    client_id = ma.fields.UUID(allow_none=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(validate=ma.validate.Length(max=5000))
    estimated_minutes = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=1, max=24 * 60)
    )
    earliest_start = ma.fields.AwareDateTime(required=True)
    due_by = ma.fields.AwareDateTime(required=True)
    urgency = ma.fields.String(validate=ma.validate.OneOf(URGENCIES))
    what_to_bring = ma.fields.String(validate=ma.validate.Length(max=2000))
    payment_note = ma.fields.String(validate=ma.validate.Length(max=2000))
    address = ma.fields.String(validate=ma.validate.Length(max=2000))
    latitude = ma.fields.Float(validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(validate=ma.validate.Range(min=-180, max=180))

    @ma.validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("latitude" in data) != ("longitude" in data):
            raise ma.ValidationError("Give latitude and longitude together.", "latitude")
        start, due = data.get("earliest_start"), data.get("due_by")
        if start is not None and due is not None and due <= start:
            raise ma.ValidationError("Must be after earliest_start.", "due_by")


class NearQuerySchema(ma.Schema):
    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-180, max=180))
    radius_km = ma.fields.Float(load_default=5.0, validate=ma.validate.Range(min=0.1, max=50))
    role = ma.fields.String(validate=ma.validate.Length(min=1, max=63))
    sort = ma.fields.String(
        load_default="distance", validate=ma.validate.OneOf(["distance", "due"])
    )


class TaskQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))


class CompletionSchema(ma.Schema):
    minutes_spent = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=1, max=24 * 60)
    )
    outcome_note = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class NoteSchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
