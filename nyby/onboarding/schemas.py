from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.core.db import utcnow
from nyby.onboarding.models import AssignmentStatus, CheckStatus


class RoleDecisionSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=63))
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            [s.value for s in AssignmentStatus if s is not AssignmentStatus.APPLIED]
        ),
    )


class CheckOutcomeSchema(ma.Schema):
    check_type = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=63))
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf([s.value for s in CheckStatus if s is not CheckStatus.PENDING]),
    )
    expires_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "Default: the check type's validity period from today"},
    )

    @ma.validates_schema
    def _future(self, data: dict[str, Any], **kwargs: Any) -> None:
        expires = data.get("expires_at")
        if expires is not None and expires <= utcnow():
            raise ma.ValidationError("A verified check must expire in the future.", "expires_at")


class RoleStandingSchema(ma.Schema):
    role = ma.fields.String(required=True)
    status = ma.fields.String(allow_none=True, metadata={"description": "Null: never applied"})
    may_take_tasks = ma.fields.Boolean(required=True)
    missing_checks = ma.fields.List(ma.fields.String(), required=True)


class CheckStandingSchema(ma.Schema):
    check_type = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)


class QualificationsSchema(ma.Schema):
    roles = ma.fields.List(ma.fields.Nested(RoleStandingSchema), required=True)
    checks = ma.fields.List(ma.fields.Nested(CheckStandingSchema), required=True)
