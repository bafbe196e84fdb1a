from __future__ import annotations

from collections import Counter
from typing import Any

import marshmallow as ma

from nyby.auth.permissions import Role
from nyby.configuration.schemas import Key

ROLE_NAMES = [role.value for role in Role]
MAX_TEAMS = 50


def _no_repeats(keys: list[str]) -> None:
    twice = sorted(key for key, count in Counter(keys).items() if count > 1)
    if twice:
        raise ma.ValidationError(f"Listed more than once: {', '.join(twice)}.")


class MemberSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    account_id = ma.fields.UUID(required=True)
    name = ma.fields.Function(lambda m: m.account.name, required=True)
    email = ma.fields.Function(lambda m: m.account.email, required=True)
    roles = ma.fields.Function(lambda m: sorted(r.value for r in m.roles), required=True)
    teams = ma.fields.Function(
        lambda m: [team.key for team in m.teams],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}, "description": "Team keys"},
    )
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
    teams = ma.fields.List(
        Key(),
        validate=[ma.validate.Length(max=MAX_TEAMS), _no_repeats],
        metadata={"description": "The member's teams, by key (replaces the current list)."},
    )
    is_active = ma.fields.Boolean()


class MemberQuerySchema(ma.Schema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLE_NAMES))
    team = Key(metadata={"description": "Only members of this team (by key)"})
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


class HomeAreaSchema(ma.Schema):
    """Where I start from (kept to my own tenant) and how far I will travel."""

    latitude = ma.fields.Float(
        attribute="home_latitude", allow_none=True, validate=ma.validate.Range(min=-90, max=90)
    )
    longitude = ma.fields.Float(
        attribute="home_longitude",
        allow_none=True,
        validate=ma.validate.Range(min=-180, max=180),
    )
    area_cell = ma.fields.String(attribute="home_area_cell", dump_only=True, allow_none=True)
    travel_radius_km = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=0.1, max=50))


class HomeAreaUpdateSchema(ma.Schema):
    """The whole home area; null latitude and longitude clear it."""

    latitude = ma.fields.Float(
        required=True, allow_none=True, validate=ma.validate.Range(min=-90, max=90)
    )
    longitude = ma.fields.Float(
        required=True, allow_none=True, validate=ma.validate.Range(min=-180, max=180)
    )
    travel_radius_km = ma.fields.Float(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=0.1, max=50)
    )

    @ma.validates_schema
    def _together(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ma.ValidationError("Give latitude and longitude together.", "latitude")
