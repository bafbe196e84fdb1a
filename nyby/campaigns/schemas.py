"""Campaigns in the API: the set-up (the tenant file's fields), the funnel, and the
public landing page."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g

from nyby.campaigns import services
from nyby.configuration.schemas import (
    CampaignFileSchema,
    FileDate,
    Key,
    StrictSchema,
    TargetGroupDumpSchema,
    TargetGroupSchema,
    Text,
    _unique,
)


def _today() -> Any:
    return services.tenant_today(g.tenant)


class CampaignSchema(ma.Schema):
    """A campaign as coordinators see it; roles by key. Visits are in the funnel, so a
    visit does not change this representation (or its ETag)."""

    id = ma.fields.UUID(required=True)
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    target_group = ma.fields.Nested(TargetGroupDumpSchema, required=True)
    roles = ma.fields.Function(
        lambda campaign: [role.key for role in campaign.roles],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(allow_none=True, metadata={"description": "null: open-ended"})
    target_sign_ups = ma.fields.Integer(allow_none=True)
    is_active = ma.fields.Boolean(required=True)
    status = ma.fields.Function(
        lambda campaign: services.status_of(campaign, _today()),
        required=True,
        metadata={"enum": ["upcoming", "open", "ended", "inactive"]},
    )
    landing_url = ma.fields.Function(
        lambda campaign: services.landing_url(g.tenant, campaign),
        required=True,
        metadata={"description": "The public landing page to share", "format": "uri"},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class CampaignQuerySchema(ma.Schema):
    include_inactive = ma.fields.Boolean(load_default=False)


class CampaignCreateSchema(CampaignFileSchema):
    """A new campaign: the same fields as in the tenant file.

    It exists in the database only until the next ``tenants apply`` of a file
    without it, which deactivates it; export the file to keep it.
    """


class CampaignUpdateSchema(StrictSchema):
    """What may change on a campaign; only the fields given are changed.

    The key is fixed: the tenant file matches campaigns by key, and links carry it.
    """

    name = Text(validate=ma.validate.Length(min=1, max=200))
    message = Text(validate=ma.validate.Length(max=4000))
    target_group = ma.fields.Nested(TargetGroupSchema)
    roles = ma.fields.List(Key(), validate=[ma.validate.Length(min=1, max=50), _unique])
    starts_on = FileDate()
    ends_on = FileDate(allow_none=True)
    target_sign_ups = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1)
    )
    is_active = ma.fields.Boolean()

    @ma.validates_schema
    def _ends_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ma.ValidationError("Must not be before starts_on.", "ends_on")


class FunnelSchema(ma.Schema):
    """Each stage is part of the one before it (see the docs for the exact rules)."""

    campaign_id = ma.fields.UUID(required=True)
    visits = ma.fields.Integer(required=True, metadata={"description": "Landing page views"})
    sign_ups = ma.fields.Integer(required=True)
    approved = ma.fields.Integer(required=True)
    first_task_done = ma.fields.Integer(required=True)
    judged_after_90_days = ma.fields.Integer(
        required=True, metadata={"description": "Sign-ups at least 90 days old"}
    )
    active_after_90_days = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Of those judged: still members, with a task completed in the "
            "last 90 days"
        },
    )
    target_sign_ups = ma.fields.Integer(allow_none=True)
    progress = ma.fields.Float(
        allow_none=True, metadata={"description": "sign_ups / target_sign_ups"}
    )


class LandingCheckSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class LandingRoleSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    remote = ma.fields.Boolean(required=True)
    min_age = ma.fields.Integer(allow_none=True)
    checks = ma.fields.List(
        ma.fields.Nested(LandingCheckSchema), required=True, attribute="check_types"
    )


class LandingSchema(ma.Schema):
    """What a campaign's public page shows: no counts, no people."""

    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    tenant_name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.Nested(LandingRoleSchema), required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(allow_none=True)
    sign_up_url = ma.fields.String(required=True, metadata={"format": "uri"})
