from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.clients.models import ClientStatus

STATUSES = [status.value for status in ClientStatus]


class ClientSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True)
    email = ma.fields.String(allow_none=True)
    address = ma.fields.String(required=True)
    postcode = ma.fields.String(allow_none=True)
    latitude = ma.fields.Float(required=True)
    longitude = ma.fields.Float(required=True)
    hearing_impairment = ma.fields.Boolean(required=True)
    dementia = ma.fields.Boolean(required=True)
    interpreter_language = ma.fields.String(allow_none=True)
    mobility_needs = ma.fields.Boolean(required=True)
    pets = ma.fields.Boolean(required=True)
    key_safe = ma.fields.Boolean(required=True)
    lone_working_risk = ma.fields.Boolean(required=True)
    risk_assessment = ma.fields.String(required=True)
    consent_given_at = ma.fields.AwareDateTime(allow_none=True)
    consent_recorded_by = ma.fields.UUID(allow_none=True)
    consent_note = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": STATUSES})
    status_reason = ma.fields.String(required=True)
    professionals = ma.fields.Function(
        lambda client: [link.membership_id for link in client.professional_links],
        required=True,
        metadata={
            "type": "array",
            "items": {"type": "string", "format": "uuid"},
            "description": "Membership ids of the responsible professionals",
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


def _text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(validate=ma.validate.Length(max=max_length), **kwargs)


class ClientChangesSchema(ma.Schema):
    """Fields a care professional may set; every one optional (PATCH)."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    phone = _text(32, allow_none=True)
    email = ma.fields.Email(allow_none=True, validate=ma.validate.Length(max=254))
    address = _text(2000)
    postcode = _text(16, allow_none=True)
    latitude = ma.fields.Float(validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(validate=ma.validate.Range(min=-180, max=180))
    hearing_impairment = ma.fields.Boolean()
    dementia = ma.fields.Boolean()
    interpreter_language = _text(35, allow_none=True)
    mobility_needs = ma.fields.Boolean()
    pets = ma.fields.Boolean()
    key_safe = ma.fields.Boolean()
    lone_working_risk = ma.fields.Boolean()
    risk_assessment = _text(5000)
    consent_given = ma.fields.Boolean(
        metadata={"description": "Record (true) or withdraw (false) the client's consent"}
    )
    consent_note = _text(2000)
    professionals = ma.fields.List(
        ma.fields.UUID(),
        validate=ma.validate.Length(max=20),
        metadata={"description": "Membership ids"},
    )
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    status_reason = _text(2000)

    @ma.validates_schema
    def _both_coordinates(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("latitude" in data) != ("longitude" in data):
            raise ma.ValidationError("Give latitude and longitude together.", "latitude")


class ClientCreateSchema(ClientChangesSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-180, max=180))

    class Meta:
        exclude = ("status", "status_reason")  # a new client is active


class ClientQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200), metadata={"description": "Part of the name"}
    )
