from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest.fields import Upload

from nyby.clients.schemas import ClientSchema
from nyby.tasks.browse import Search
from nyby.tasks.models import TaskStatus, Urgency
from nyby.tasks.series import MAX_VISIT_WINDOW
from nyby.tasks.services import CLIENT_FIELDS_FOR_HOLDER

STATUSES = [status.value for status in TaskStatus]
URGENCIES = [urgency.value for urgency in Urgency]


class ClientForHolderSchema(ClientSchema):
    """What the person holding a task needs to know about its client."""

    class Meta:
        fields = CLIENT_FIELDS_FOR_HOLDER


class TaskSchema(ma.Schema):
    """A task; ``address``, ``latitude``, ``longitude`` and ``client_id`` are null for a
    volunteer who has not taken it (they see the ``area_cell`` only). ``client`` is
    filled for the person holding the task only."""

    id = ma.fields.UUID(required=True)
    role = ma.fields.String(
        attribute="role_key", required=True, metadata={"description": "Volunteer role key"}
    )
    category = ma.fields.String(
        attribute="category_key", allow_none=True, metadata={"description": "Task category key"}
    )
    series_id = ma.fields.UUID(allow_none=True, metadata={"description": "Its repeat series"})
    reserved_until = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "Until then only the client's previous helpers may take it"},
    )
    client_id = ma.fields.UUID(allow_none=True)
    client = ma.fields.Nested(ClientForHolderSchema, allow_none=True)
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


class TaskEventSchema(ma.Schema):
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(required=True)
    actor_id = ma.fields.UUID(allow_none=True, metadata={"description": "Null: the system"})
    note = ma.fields.String(required=True)
    at = ma.fields.AwareDateTime(required=True)


class TaskCreateSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=63))
    category = ma.fields.String(validate=ma.validate.Length(min=1, max=63))
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
    """From a point, or (with no point) from the caller's home area and travel radius."""

    latitude = ma.fields.Float(validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(validate=ma.validate.Range(min=-180, max=180))
    radius_km = ma.fields.Float(
        validate=ma.validate.Range(min=0.1, max=50),
        metadata={"description": "Default: your travel radius from home, else 5 km"},
    )
    role = ma.fields.String(validate=ma.validate.Length(min=1, max=63))
    category = ma.fields.String(validate=ma.validate.Length(min=1, max=63))
    window_start = ma.fields.AwareDateTime(
        metadata={"description": "Only tasks I could still do after this time"}
    )
    window_end = ma.fields.AwareDateTime(
        metadata={"description": "Only tasks that can start before this time"}
    )
    sort = ma.fields.String(
        load_default="distance", validate=ma.validate.OneOf(["distance", "due"])
    )

    @ma.validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("latitude" in data) != ("longitude" in data):
            raise ma.ValidationError("Give latitude and longitude together.", "latitude")
        start, end = data.get("window_start"), data.get("window_end")
        if start is not None and end is not None and end <= start:
            raise ma.ValidationError("Must be after window_start.", "window_end")

    @ma.post_load
    def _search(self, data: dict[str, Any], **kwargs: Any) -> Search:
        return Search(**data)


class StreetGroupSchema(ma.Schema):
    street_cell = ma.fields.String(
        required=True, metadata={"description": "H3 cell, about 200 m across"}
    )
    distance_km = ma.fields.Float(required=True, metadata={"description": "Its nearest task"})
    task_count = ma.fields.Integer(required=True)
    total_minutes = ma.fields.Integer(required=True)
    tasks = ma.fields.List(ma.fields.Nested(TaskSchema), required=True)


class TakeGroupSchema(ma.Schema):
    task_ids = ma.fields.List(
        ma.fields.UUID(),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "The group's tasks as listed: all are taken, or none"},
    )


class TaskQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    client_id = ma.fields.UUID(metadata={"description": "Only this client's tasks"})


class CompletionSchema(ma.Schema):
    minutes_spent = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=1, max=24 * 60)
    )
    outcome_note = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class NoteSchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class SeriesCreateSchema(TaskCreateSchema):
    """A repeating task: the first visit's window, and how it repeats."""

    rrule = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=500),
        metadata={
            "description": "RFC 5545 RRULE in the tenant's time zone, such as "
            "FREQ=WEEKLY;BYDAY=MO or FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=18",
            "example": "FREQ=WEEKLY;BYDAY=MO",
        },
    )

    @ma.validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, due = data.get("earliest_start"), data.get("due_by")
        if start is not None and due is not None and due - start > MAX_VISIT_WINDOW:
            raise ma.ValidationError(
                f"A visit's window is at most {MAX_VISIT_WINDOW.days} days.", "due_by"
            )


class AttachmentUploadSchema(ma.Schema):
    file = Upload(
        required=True,
        metadata={
            "description": "A JPEG, PNG, HEIC or WebP photo, or a PDF, of at most "
            "MAX_UPLOAD_BYTES (10 MB unless configured). The type is read from the "
            "file's content; its name and declared type do not count."
        },
    )


class SeriesSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    role = ma.fields.String(attribute="role_key", required=True)
    client_id = ma.fields.UUID(allow_none=True)
    rrule = ma.fields.String(required=True)
    first_start = ma.fields.AwareDateTime(required=True)
    window_minutes = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    estimated_minutes = ma.fields.Integer(required=True)
    address = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    area_cell = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": ["active", "ended"]})
    holder_id = ma.fields.UUID(allow_none=True, metadata={"description": "Who takes every visit"})
    generated_until = ma.fields.AwareDateTime(allow_none=True)
    upcoming = ma.fields.List(
        ma.fields.Nested(TaskSchema),
        metadata={"description": "The next visits (up to 10)"},
    )
    created_at = ma.fields.AwareDateTime(required=True)


class TaskAttachmentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    uploaded_by = ma.fields.UUID(required=True, metadata={"description": "Membership id"})
    file_name = ma.fields.String(required=True)
    content_type = ma.fields.String(
        required=True, metadata={"description": "As read from the file's first bytes"}
    )
    size_bytes = ma.fields.Integer(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class TaskAttachmentLinkSchema(TaskAttachmentSchema):
    download_url = ma.fields.String(
        required=True,
        metadata={
            "description": "Downloads the file without further authentication until "
            "download_expires_at (a few minutes): do not store or share it."
        },
    )
    download_expires_at = ma.fields.AwareDateTime(required=True)
