from __future__ import annotations

from typing import Any

import marshmallow as ma
from babel import Locale
from flask_smorest.fields import Upload

from nyby.core.db import utcnow
from nyby.onboarding.models import AssignmentStatus, CheckStatus


def _version() -> ma.fields.Integer:
    # The version of the row the coordinator saw: a decision made meanwhile is a 409.
    return ma.fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=1),
        metadata={"description": "The version last read; if someone decided since: 409"},
    )


def _reason() -> ma.fields.String:
    return ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=2000),
        metadata={"description": "Why: required to reject or suspend; the volunteer sees it"},
    )


class RoleDecisionSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=63))
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(
            [s.value for s in AssignmentStatus if s is not AssignmentStatus.APPLIED]
        ),
    )
    reason = _reason()
    version = _version()

    @ma.validates_schema
    def _why(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("status") != AssignmentStatus.APPROVED and not data.get("reason", "").strip():
            raise ma.ValidationError("Say why, so the volunteer knows.", "reason")


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
    reason = _reason()
    version = _version()

    @ma.validates_schema
    def _future(self, data: dict[str, Any], **kwargs: Any) -> None:
        expires = data.get("expires_at")
        if expires is not None and expires <= utcnow():
            raise ma.ValidationError("A verified check must expire in the future.", "expires_at")

    @ma.validates_schema
    def _why(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("status") == CheckStatus.REJECTED and not data.get("reason", "").strip():
            raise ma.ValidationError(
                "Say why the check was not passed, so the volunteer can put it right.", "reason"
            )


class RoleStandingSchema(ma.Schema):
    role = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    status = ma.fields.String(allow_none=True, metadata={"description": "Null: never applied"})
    reason = ma.fields.String(
        required=True, metadata={"description": "Why it was rejected or suspended"}
    )
    version = ma.fields.Integer(
        allow_none=True, metadata={"description": "Send it with a decision"}
    )
    may_take_tasks = ma.fields.Boolean(required=True)
    missing_checks = ma.fields.List(ma.fields.String(), required=True)


class CheckStandingSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "For GET /checks/{id}/evidence"})
    check_type = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={"description": "Why it was rejected"})
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    verified_by = ma.fields.UUID(
        allow_none=True,
        metadata={"description": "The coordinator's membership id; null: passed online or shared"},
    )
    source = ma.fields.String(
        required=True, metadata={"description": "Where it came from if not a coordinator here"}
    )
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    evidence_sent = ma.fields.Boolean(required=True)
    version = ma.fields.Integer(required=True, metadata={"description": "Send it with an outcome"})


class QualificationsSchema(ma.Schema):
    roles = ma.fields.List(ma.fields.Nested(RoleStandingSchema), required=True)
    checks = ma.fields.List(ma.fields.Nested(CheckStandingSchema), required=True)


# -- sign-up (onboarding.signup) ------------------------------------------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_PARTS = ("morning", "afternoon", "evening")
# ISO 639-1: the two-letter codes among the languages Babel (CLDR) names.
LANGUAGE_CODES = frozenset(code for code in map(str, Locale("en").languages) if len(code) == 2)


def _listed_once(values: list[Any]) -> None:
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise ma.ValidationError(f"Listed more than once: {value}.")
        seen.append(value)


def _iso_language(code: str) -> None:
    if code not in LANGUAGE_CODES:
        raise ma.ValidationError("Use a two-letter ISO 639-1 language code, such as 'pl'.")


def _skill(text: str) -> str:
    return " ".join(text.split()).lower()


class AvailabilitySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    day = ma.fields.String(required=True, validate=ma.validate.OneOf(DAYS))
    part = ma.fields.String(required=True, validate=ma.validate.OneOf(DAY_PARTS))


class SignUpHomeAreaSchema(ma.Schema):
    """Where I start from and how far I will go (the same as ``PUT /home-area``)."""

    class Meta:
        unknown = ma.RAISE

    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-180, max=180))
    travel_radius_km = ma.fields.Float(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=0.1, max=50)
    )


class GuardianSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class SignUpSchema(ma.Schema):
    """Sign up as a volunteer. Logged in (a bearer token), only ``roles`` and
    ``agree_to_agreement`` are needed: the rest comes from the account and the
    person's most recent other membership unless given."""

    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Required unless logged in"},
    )
    email = ma.fields.Email(
        validate=ma.validate.Length(max=254), metadata={"description": "Required unless logged in"}
    )
    password = ma.fields.String(
        validate=ma.validate.Length(min=10, max=1024),
        metadata={"description": "At least 10 characters; required unless logged in"},
    )
    phone = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^\+?[0-9 ()-]{5,31}$", error="Enter a phone number."),
    )
    date_of_birth = ma.fields.Date(
        metadata={"description": "Required unless the logged-in account already has it"}
    )
    roles = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=63)),
        required=True,
        validate=[
            ma.validate.Length(min=1, error="Choose at least one role."),
            ma.validate.Length(max=50),
            _listed_once,
        ],
        metadata={"description": "Keys of the roles to apply for"},
    )
    availability = ma.fields.List(
        ma.fields.Nested(AvailabilitySchema),
        validate=[ma.validate.Length(max=len(DAYS) * len(DAY_PARTS)), _listed_once],
    )
    skills = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
        validate=ma.validate.Length(max=20),
        metadata={"description": "Short words such as 'driving', 'cooking'"},
    )
    languages = ma.fields.List(
        ma.fields.String(validate=_iso_language),
        validate=[ma.validate.Length(max=20), _listed_once],
        metadata={"description": "ISO 639-1 codes of the languages I speak"},
    )
    home_area = ma.fields.Nested(SignUpHomeAreaSchema, allow_none=True)
    agree_to_agreement = ma.fields.Boolean(
        required=True,
        validate=ma.validate.Equal(True, error="You must accept the volunteer agreement."),
    )
    campaign = ma.fields.String(
        validate=ma.validate.Length(min=1, max=63),
        metadata={"description": "The key of the campaign whose link brought me"},
    )
    guardian = ma.fields.Nested(
        GuardianSchema,
        allow_none=True,
        metadata={"description": "A parent or guardian: required when under 18"},
    )

    @ma.post_load
    def _tidy(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if "skills" in data:
            data["skills"] = list(dict.fromkeys(_skill(s) for s in data["skills"] if s.strip()))
        return data


class SignUpResultSchema(ma.Schema):
    membership_id = ma.fields.UUID(required=True)
    email_verified = ma.fields.Boolean(required=True)
    guardian_consent_needed = ma.fields.Boolean(
        required=True, metadata={"description": "A consent link was mailed to the guardian"}
    )
    qualifications = ma.fields.Nested(QualificationsSchema, required=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))


class EmailVerifiedSchema(ma.Schema):
    email = ma.fields.Email(required=True)
    email_verified_at = ma.fields.AwareDateTime(required=True)


class VerificationSentSchema(ma.Schema):
    sent_to = ma.fields.Email(required=True)


class GuardianConsentSchema(ma.Schema):
    volunteer_name = ma.fields.Function(
        lambda member: member.account.name, required=True, metadata={"type": "string"}
    )
    guardian_consent_at = ma.fields.AwareDateTime(required=True)


# -- the volunteer passport (onboarding.passport) ----------------------------------


class PassportShareSchema(ma.Schema):
    to_tenant = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=63),
        metadata={"description": "Slug of another tenant you are an active member of"},
    )


class PassportConsentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    to_tenant = ma.fields.String(required=True, metadata={"description": "Tenant slug"})
    to_tenant_name = ma.fields.String(required=True)
    given_at = ma.fields.AwareDateTime(required=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)


class PassportSharedSchema(PassportConsentSchema):
    shared_checks = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Names of the verified checks sent with this consent"},
    )


class PassportCheckSchema(ma.Schema):
    """A check another tenant verified, shared with this one by the volunteer."""

    id = ma.fields.UUID(required=True)
    member_id = ma.fields.UUID(attribute="membership_id", required=True)
    from_tenant = ma.fields.String(attribute="from_tenant_name", required=True)
    check_kind = ma.fields.String(required=True)
    check_name = ma.fields.String(required=True)
    verified_by = ma.fields.String(
        attribute="verified_by_name",
        required=True,
        metadata={"description": "Empty when passed online (a training module)"},
    )
    verified_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    decision = ma.fields.String(required=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class PassportDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(["accepted", "declined"]))
    check_type = ma.fields.String(
        validate=ma.validate.Length(min=1, max=63),
        metadata={"description": "Required to accept: this tenant's check of the same kind"},
    )

    @ma.validates_schema
    def _check_type_to_accept(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("decision") == "accepted" and not data.get("check_type"):
            raise ma.ValidationError(
                "Say which of this tenant's checks it counts as.", "check_type"
            )


# -- checks with evidence, training, the approval queue (onboarding.checks, services) ---------


class EvidenceUploadSchema(ma.Schema):
    file = Upload(
        metadata={
            "description": "A photo or scan: JPEG, PNG, HEIC, WebP or PDF, at most "
            "MAX_UPLOAD_BYTES (10 MB unless configured). The type is read from the content, "
            "which must match the file name's extension. Required when the check wants a "
            "document."
        },
    )
    number = ma.fields.String(
        validate=ma.validate.Length(min=1, max=80),
        metadata={
            "description": "A certificate number (a DBS certificate's 12 digits). Required "
            "when the check wants a number; may also be sent as JSON without a file."
        },
    )


class MyCheckSchema(ma.Schema):
    id = ma.fields.UUID(required=True, metadata={"description": "The check type's id"})
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    evidence_wanted = ma.fields.String(
        required=True,
        metadata={
            "enum": ["none", "document", "number"],
            "description": "none: a coordinator records it",
        },
    )
    training_available = ma.fields.Boolean(required=True)
    roles = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "Role names"}
    )
    status = ma.fields.String(allow_none=True, metadata={"description": "Null: nothing sent yet"})
    reason = ma.fields.String(required=True, metadata={"description": "Why it was rejected"})
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    evidence_file_name = ma.fields.String(allow_none=True)
    evidence_number_sent = ma.fields.Boolean(required=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    may_send = ma.fields.Boolean(
        required=True, metadata={"description": "False while verified and not yet due for renewal"}
    )


class EvidenceSchema(ma.Schema):
    check_id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True)
    file_name = ma.fields.String(allow_none=True)
    content_type = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    number = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    download_url = ma.fields.String(
        allow_none=True, metadata={"description": "Downloads the file until download_expires_at"}
    )
    download_expires_at = ma.fields.AwareDateTime(allow_none=True)


class TrainingQuestionSchema(ma.Schema):
    number = ma.fields.Integer(required=True)
    question = ma.fields.String(required=True)
    options = ma.fields.List(ma.fields.String(), required=True)


class TrainingModuleSchema(ma.Schema):
    check_id = ma.fields.UUID(required=True)
    check = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    introduction = ma.fields.String(required=True)
    pass_mark = ma.fields.Integer(required=True, metadata={"description": "Right answers needed"})
    questions = ma.fields.List(ma.fields.Nested(TrainingQuestionSchema), required=True)


class TrainingAnswersSchema(ma.Schema):
    answers = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=99)),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "The chosen option's index (from 0) for each question, in order"},
    )


class TrainingResultSchema(ma.Schema):
    passed = ma.fields.Boolean(required=True)
    score = ma.fields.Integer(required=True)
    out_of = ma.fields.Integer(required=True)
    pass_mark = ma.fields.Integer(required=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)


class MissingSchema(ma.Schema):
    what = ma.fields.String(
        required=True,
        metadata={"enum": ["check", "evidence_to_check", "email_not_verified", "guardian_consent"]},
    )
    check = ma.fields.String(allow_none=True, metadata={"description": "The check's key"})
    name = ma.fields.String(required=True)
    status = ma.fields.String(allow_none=True)


class ApplicationSchema(ma.Schema):
    role = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    applied_at = ma.fields.AwareDateTime(required=True)
    version = ma.fields.Integer(required=True)
    missing = ma.fields.List(ma.fields.Nested(MissingSchema), required=True)
    ready = ma.fields.Boolean(required=True, metadata={"description": "Nothing is missing"})


class CheckToVerifySchema(ma.Schema):
    check_id = ma.fields.UUID(required=True)
    check_type = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    submitted_at = ma.fields.AwareDateTime(required=True)
    renewal = ma.fields.Boolean(required=True, metadata={"description": "Of a verified check"})


class ApplicantSchema(ma.Schema):
    member_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    signed_up_at = ma.fields.AwareDateTime(required=True)
    roles = ma.fields.List(ma.fields.Nested(ApplicationSchema), required=True)
    checks_to_verify = ma.fields.List(ma.fields.Nested(CheckToVerifySchema), required=True)


class ApprovalTimesSchema(ma.Schema):
    since = ma.fields.AwareDateTime(required=True)
    count = ma.fields.Integer(required=True, metadata={"description": "First approved since"})
    median_days = ma.fields.Float(allow_none=True)
    p90_days = ma.fields.Float(allow_none=True)
