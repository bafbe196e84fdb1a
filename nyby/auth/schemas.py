from __future__ import annotations

import marshmallow as ma


class TokenRequestSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024))


class RefreshRequestSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


class TokenResponseSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds"})
    refresh_token = ma.fields.String(required=True)


class JwksSchema(ma.Schema):
    keys = ma.fields.List(ma.fields.Dict(), required=True)


class MembershipSummarySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    tenant = ma.fields.String(required=True, metadata={"description": "Tenant slug"})
    tenant_name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    is_active = ma.fields.Boolean(required=True)


class MeSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    email = ma.fields.Email(required=True)
    name = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True)
    locale = ma.fields.String(allow_none=True)
    memberships = ma.fields.List(ma.fields.Nested(MembershipSummarySchema), required=True)
