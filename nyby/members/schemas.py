from __future__ import annotations

import marshmallow as ma

from nyby.auth.permissions import Role

ROLE_NAMES = [role.value for role in Role]


class MemberSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    name = ma.fields.Function(lambda m: m.account.name, required=True)
    email = ma.fields.Function(lambda m: m.account.email, required=True)
    roles = ma.fields.Function(lambda m: sorted(r.value for r in m.roles), required=True)
    is_active = ma.fields.Boolean(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    deactivated_at = ma.fields.AwareDateTime(allow_none=True)


class MemberCreateSchema(ma.Schema):
    """Add a person who already has an account (invitations come with onboarding)."""

    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    roles = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(ROLE_NAMES)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(ROLE_NAMES)),
    )


class MemberUpdateSchema(ma.Schema):
    """What an admin may change on a membership; nothing else is accepted."""

    roles = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(ROLE_NAMES)),
        validate=ma.validate.Length(max=len(ROLE_NAMES)),
    )
    is_active = ma.fields.Boolean()


class MemberQuerySchema(ma.Schema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLE_NAMES))
    active = ma.fields.Boolean()


class TenantSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    locale = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)
    branding = ma.fields.Dict(required=True)
    my_roles = ma.fields.List(ma.fields.String(), required=True)
