from __future__ import annotations

from collections import Counter
from typing import Any

import marshmallow as ma

from nyby.auth.permissions import Role
from nyby.configuration.schemas import Key
from nyby.core.db import utcnow
from nyby.members.invitations import status_of
from nyby.onboarding.schemas import DAY_PARTS, DAYS, LANGUAGE_CODES, AvailabilitySchema

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
    is_safeguarding_lead = ma.fields.Boolean(
        required=True, metadata={"description": "Reads and handles safeguarding concerns"}
    )
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
    is_safeguarding_lead = ma.fields.Boolean(
        metadata={"description": "Told of every safeguarding concern, and may read them all"}
    )


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


# -- on duty and alert settings (members.duty) -------------------------------------

QUIET_TIME_FORMAT = "%H:%M"


class DutySchema(ma.Schema):
    on_duty = ma.fields.Boolean(
        required=True, metadata={"description": "On duty now (false once `until` has passed)"}
    )
    until = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "Null: until switched off"}
    )
    needs_home_area = ma.fields.Boolean(
        required=True,
        metadata={"description": "Going on duty needs a home area first (PUT /home-area)"},
    )


class DutyUpdateSchema(ma.Schema):
    """Switch on or off duty; on duty until a time, or until switched off."""

    on_duty = ma.fields.Boolean(required=True)
    until = ma.fields.AwareDateTime(
        load_default=None,
        allow_none=True,
        metadata={"description": "When to go off duty by itself (in the future); only when on"},
    )

    @ma.validates_schema
    def _until(self, data: dict[str, Any], **kwargs: Any) -> None:
        until = data.get("until")
        if until is None:
            return
        if not data.get("on_duty"):
            raise ma.ValidationError("Only going on duty takes an end time.", "until")
        if until <= utcnow():
            raise ma.ValidationError("Must be in the future.", "until")


def _quiet_time(**kwargs: Any) -> ma.fields.Time:
    return ma.fields.Time(
        format=QUIET_TIME_FORMAT,
        allow_none=True,
        error_messages={"invalid": "Enter a time as HH:MM, such as 22:00."},
        metadata={"description": "Local time, HH:MM"},
        **kwargs,
    )


def _languages_known(code: str) -> None:
    if code not in LANGUAGE_CODES:
        raise ma.ValidationError("Use a two-letter ISO 639-1 language code, such as 'pl'.")


def _windows_once(windows: list[dict[str, str]]) -> None:
    _no_repeats([f"{w['day']}-{w['part']}" for w in windows])


class AlertSettingsSchema(ma.Schema):
    max_alerts_per_day = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "Null: the tenant's default"}
    )
    daily_limit = ma.fields.Integer(
        required=True, metadata={"description": "The limit that applies: mine or the tenant's"}
    )
    quiet_hours_start = _quiet_time(required=True)
    quiet_hours_end = _quiet_time(required=True)
    preferred_roles = ma.fields.List(ma.fields.String(), required=True)
    availability = ma.fields.List(ma.fields.Nested(AvailabilitySchema), required=True)
    languages = ma.fields.List(ma.fields.String(), required=True)


class AlertSettingsUpdateSchema(ma.Schema):
    """The whole of my alert settings; a field left out takes its default (null or empty)."""

    max_alerts_per_day = ma.fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1, max=100),
        metadata={"description": "Offers a day at most; null: the tenant's default"},
    )
    quiet_hours_start = _quiet_time(load_default=None)
    quiet_hours_end = _quiet_time(load_default=None)
    preferred_roles = ma.fields.List(
        Key(),
        load_default=list,
        validate=[ma.validate.Length(max=50), _no_repeats],
        metadata={"description": "Keys of active roles to be offered first"},
    )
    availability = ma.fields.List(
        ma.fields.Nested(AvailabilitySchema),
        load_default=list,
        validate=[ma.validate.Length(max=len(DAYS) * len(DAY_PARTS)), _windows_once],
        metadata={"description": "Weekly windows; empty: any time"},
    )
    languages = ma.fields.List(
        ma.fields.String(validate=_languages_known),
        load_default=list,
        validate=[ma.validate.Length(max=20), _no_repeats],
        metadata={"description": "ISO 639-1 codes of the languages I speak"},
    )

    @ma.validates_schema
    def _quiet_hours(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("quiet_hours_start"), data.get("quiet_hours_end")
        if (start is None) != (end is None):
            field = "quiet_hours_end" if end is None else "quiet_hours_start"
            raise ma.ValidationError("Give both the start and the end of quiet hours.", field)
        if start is not None and start == end:
            raise ma.ValidationError("Quiet hours must end at another time.", "quiet_hours_end")


# -- staff invitations (members.invitations) ---------------------------------------

INVITABLE_ROLE_NAMES = [Role.STAFF.value, Role.PROFESSIONAL.value, Role.COORDINATOR.value]
INVITATION_STATES = ["pending", "accepted", "expired", "revoked"]


class InvitationCreateSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    roles = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(INVITABLE_ROLE_NAMES)),
        required=True,
        validate=[ma.validate.Length(min=1, max=len(INVITABLE_ROLE_NAMES)), _no_repeats],
        metadata={"description": "Platform roles given on acceptance"},
    )
    role_keys = ma.fields.List(
        Key(),
        load_default=list,
        validate=[ma.validate.Length(max=50), _no_repeats],
        metadata={"description": "Staff-only volunteer roles (keys), approved on acceptance"},
    )


class InvitationSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    email = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    role_keys = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.Function(
        lambda i: status_of(i).value,
        required=True,
        metadata={"type": "string", "enum": INVITATION_STATES},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class InvitationQuerySchema(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(INVITATION_STATES))


class InvitationAcceptSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "For a new account; default: the name in the invitation"},
    )
    password = ma.fields.String(
        validate=ma.validate.Length(max=200),
        load_only=True,
        metadata={"description": "For a new account (at least 10 characters)"},
    )
