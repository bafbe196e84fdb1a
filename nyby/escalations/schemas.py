from __future__ import annotations

import marshmallow as ma

from nyby.escalations.models import ContactMethod, EscalationReason, EscalationStatus, Resolution
from nyby.tasks.schemas import TaskEventSchema, TaskSchema

METHODS = [method.value for method in ContactMethod]
REASONS = [reason.value for reason in EscalationReason]
STATUSES = [status.value for status in EscalationStatus]
RESOLUTIONS = [resolution.value for resolution in Resolution]


class FailedContactCreateSchema(ma.Schema):
    method = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(METHODS),
        metadata={"description": "door: no answer at the door; phone: no answer on the phone"},
    )
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    attempted_at = ma.fields.AwareDateTime(
        metadata={"description": "When it happened (default: now); within the last 14 days"}
    )


class ContactAttemptSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    membership_id = ma.fields.UUID(required=True)
    person_name = ma.fields.String(required=True, metadata={"description": "Display name"})
    method = ma.fields.String(required=True, metadata={"enum": METHODS})
    reached = ma.fields.Boolean(
        required=True, metadata={"description": "A coordinator reached the client"}
    )
    note = ma.fields.String(required=True)
    attempted_at = ma.fields.AwareDateTime(required=True)
    recorded_at = ma.fields.AwareDateTime(required=True)
    escalation_id = ma.fields.UUID(allow_none=True)


class EscalationSchema(ma.Schema):
    """A task the coordinators must act on: nobody took it after the last wave of offers
    (``no_taker``), or its holder could not reach the client (``failed_contact``)."""

    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    task = ma.fields.Nested(TaskSchema, required=True)
    reason = ma.fields.String(required=True, metadata={"enum": REASONS})
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    opened_at = ma.fields.AwareDateTime(required=True)
    escalated_at = ma.fields.AwareDateTime(required=True, metadata={"description": "opened_at"})
    resolution = ma.fields.String(allow_none=True, metadata={"enum": RESOLUTIONS})
    resolution_note = ma.fields.String(required=True)
    resolved_by = ma.fields.UUID(allow_none=True)
    resolved_by_name = ma.fields.String(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    waves_sent = ma.fields.Integer(required=True, metadata={"description": "Waves of offers"})
    radius_km = ma.fields.Float(
        allow_none=True, metadata={"description": "The last wave's radius around the task"}
    )
    failed_contacts = ma.fields.Integer(
        required=True, metadata={"description": "Failed contact attempts that led to it"}
    )


class EventWithNameSchema(TaskEventSchema):
    actor_name = ma.fields.String(allow_none=True)


class WaveSummarySchema(ma.Schema):
    """One wave of offers: how many were asked, and what they answered."""

    wave = ma.fields.Integer(required=True)
    asked = ma.fields.Integer(required=True)
    accepted = ma.fields.Integer(required=True)
    declined = ma.fields.Integer(required=True)
    expired = ma.fields.Integer(required=True)
    withdrawn = ma.fields.Integer(required=True)
    unanswered = ma.fields.Integer(required=True)


class EscalationDetailSchema(EscalationSchema):
    """With the task's whole history."""

    attempts = ma.fields.List(ma.fields.Nested(ContactAttemptSchema), required=True)
    events = ma.fields.List(ma.fields.Nested(EventWithNameSchema), required=True)
    waves = ma.fields.List(ma.fields.Nested(WaveSummarySchema), required=True)


class EscalationQuerySchema(ma.Schema):
    status = ma.fields.String(
        load_default=EscalationStatus.OPEN.value, validate=ma.validate.OneOf(STATUSES)
    )


class ReassignSchema(ma.Schema):
    membership_id = ma.fields.UUID(
        required=True, metadata={"description": "A qualified member (see /candidates)"}
    )
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class ClientContactSchema(ma.Schema):
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(METHODS))
    reached = ma.fields.Boolean(
        required=True,
        metadata={"description": "true resolves the escalation; false only records it"},
    )
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))


class CandidateSchema(ma.Schema):
    membership_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
