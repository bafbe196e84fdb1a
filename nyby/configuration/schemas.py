"""The tenant file format (tenants/*.yaml) and the API shapes of its parts.

Load schemas raise on unknown fields, so a typo in a tenant file or a request body
is an error naming the field rather than a setting silently ignored. A loaded
document has the same shape as the file, so loading it again gives the same result.
"""

from __future__ import annotations

import decimal
import zoneinfo
from collections import Counter
from typing import Any

import babel
import babel.numbers
import marshmallow as ma

from nyby.configuration.models import CheckKind, DispatchMode, Evidence
from nyby.recognition.schemas import RecognitionSettingsDumpSchema, RecognitionSettingsSchema
from nyby.reporting.metrics import METRICS, valid_area
from nyby.reporting.models import DEFAULT_AT_RISK_MARGIN, Comparison, Period

KEY_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"  # the tenant slug appears in every URL
COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"

TENANT_KINDS = ("local_authority", "health", "charity")
LOCALES = ("en", "nb")
CHECK_KINDS = tuple(kind.value for kind in CheckKind)
EVIDENCE = tuple(evidence.value for evidence in Evidence)
DISPATCH_MODES = tuple(mode.value for mode in DispatchMode)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class Key(ma.fields.String):
    """A lowercase slug that names a row in the tenant file."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=ma.validate.Regexp(
                KEY_PATTERN,
                error="Use a lowercase key: a letter, then letters, digits, '-' or '_' "
                "(at most 63 characters).",
            ),
            **kwargs,
        )


class Text(ma.fields.String):
    """Free text; surrounding whitespace (a YAML block's last newline) is dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _name(**kwargs: Any) -> Text:
    return Text(validate=ma.validate.Length(min=1, max=200), **kwargs)


def _description(**kwargs: Any) -> Text:
    return Text(validate=ma.validate.Length(max=4000), **kwargs)


def _unique(values: list[str]) -> None:
    twice = sorted(value for value, count in Counter(values).items() if count > 1)
    if twice:
        raise ma.ValidationError(f"Listed more than once: {', '.join(twice)}.")


def _timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ma.ValidationError("Unknown time zone; use an IANA name such as Europe/London.")


# -- the tenant file ----------------------------------------------------------------------


class BrandingSchema(StrictSchema):
    logo_url = ma.fields.URL(
        relative=True,
        schemes={"https", "http"},
        metadata={"format": "uri-reference", "pattern": r"^(https?://[^\s/]+)?/\S*$"},
    )
    primary_colour = ma.fields.String(
        validate=ma.validate.Regexp(COLOUR_PATTERN, error="Use a colour as #rrggbb.")
    )
    accent_colour = ma.fields.String(
        validate=ma.validate.Regexp(COLOUR_PATTERN, error="Use a colour as #rrggbb.")
    )


def _weight(default: float, what: str) -> ma.fields.Float:
    return ma.fields.Float(
        load_default=default,
        validate=ma.validate.Range(min=0, max=100),
        metadata={"description": f"{what} (default {default})"},
    )


class DispatchWeightsSchema(StrictSchema):
    """How much each term of a person's match score counts (nyby.dispatch.ranking)."""

    distance = _weight(1.0, "Closer first, measured against the wave's radius")
    continuity = _weight(1.0, "Has completed a task for this client before")
    fairness = _weight(1.5, "Fewest offers and tasks in the last 7 days first")
    language = _weight(0.5, "Speaks the client's language")
    response = _weight(0.5, "Share of past offers answered")


class DispatchPolicySchema(StrictSchema):
    """How tasks reach people: defaults filled in, so dispatch never guesses."""

    mode = ma.fields.String(load_default="both", validate=ma.validate.OneOf(DISPATCH_MODES))
    # 15: at NHS Volunteer Responders' demand (0.1 tasks per on-duty volunteer a week)
    # that is about 1.5 alerts a week per volunteer, most of them "taken" within minutes;
    # waves of 5 reach at most two thirds of the pool in a week, however well spread
    # (``nyby simulate-dispatch``, README "Engagement simulation"). Where demand is close
    # to supply the daily alert limit caps it, and a tenant can ask fewer.
    wave_size = ma.fields.Integer(
        strict=True, load_default=15, validate=ma.validate.Range(min=1, max=100)
    )
    wave_timeout_minutes = ma.fields.Integer(
        strict=True, load_default=10, validate=ma.validate.Range(min=1, max=1440)
    )
    max_waves = ma.fields.Integer(
        strict=True, load_default=3, validate=ma.validate.Range(min=1, max=20)
    )
    radius_km = ma.fields.Float(load_default=3.0, validate=ma.validate.Range(min=0.1, max=200))
    radius_growth_km = ma.fields.Float(load_default=2.0, validate=ma.validate.Range(min=0, max=200))
    # A person's own limit (Membership.max_alerts_per_day) wins over this one.
    max_alerts_per_day = ma.fields.Integer(
        strict=True, load_default=10, validate=ma.validate.Range(min=1, max=100)
    )
    weights = ma.fields.Nested(
        DispatchWeightsSchema, load_default=lambda: DispatchWeightsSchema().load({})
    )


class TaskSupportSchema(StrictSchema):
    """Around a task once someone holds it: its chat, and failed contact (nyby.chat,
    nyby.escalations). Defaults filled in, so a tenant file may leave it out."""

    chat_closes_after_days = ma.fields.Integer(
        strict=True,
        load_default=7,
        validate=ma.validate.Range(min=0, max=365),
        metadata={"description": "No new messages this many days after the task ends"},
    )
    chat_attachment_max_mb = ma.fields.Integer(
        strict=True,
        load_default=5,
        validate=ma.validate.Range(min=1, max=10),
        metadata={"description": "Largest photo or PDF sent in a task's chat, in MB"},
    )
    failed_contacts_to_escalate = ma.fields.Integer(
        strict=True,
        load_default=3,
        validate=ma.validate.Range(min=1, max=20),
        metadata={"description": "Failed contact attempts before coordinators are asked"},
    )


class DecimalText(ma.fields.Field):
    """A decimal amount kept as canonical text ("150.00"): exact, never a float, and
    JSON-safe in the tenant row. Reads a YAML number or a string alike."""

    def __init__(self, *, places: int, low: str, high: str, **kwargs: Any) -> None:
        pattern = rf"^\d+(\.\d{{1,{places}}})?$"
        kwargs["metadata"] = {"type": "string", "pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)
        self.places, self.low, self.high = places, decimal.Decimal(low), decimal.Decimal(high)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ma.ValidationError("Enter an amount such as 12.50.")
        try:
            amount = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise ma.ValidationError("Enter an amount such as 12.50.")
        if not amount.is_finite() or not self.low <= amount <= self.high:
            raise ma.ValidationError(f"Must be between {self.low} and {self.high}.")
        step = decimal.Decimal(1).scaleb(-self.places)
        if amount != amount.quantize(step):
            raise ma.ValidationError(f"Use at most {self.places} decimal places.")
        return str(amount.quantize(step))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else str(value)


def _currency(code: str) -> None:
    # Amounts are kept in minor units of two decimals (pence, øre, cents).
    if code not in babel.numbers.list_currencies() or (
        babel.numbers.get_currency_precision(code) != 2
    ):
        raise ma.ValidationError(
            "Use an ISO 4217 currency code with two decimals, such as GBP, NOK or EUR."
        )


class ExpensePolicySchema(StrictSchema):
    """Volunteers' expenses (nyby.expenses): defaults filled in, as for dispatch."""

    currency = ma.fields.String(load_default="GBP", validate=_currency)
    max_per_claim = DecimalText(
        places=2,
        low="0.01",
        high="100000",
        load_default="100.00",
        metadata={"description": "The most one claim may be for, in the currency"},
    )
    mileage_rate_per_km = DecimalText(
        places=4,
        low="0",
        high="100",
        load_default="0.2800",
        metadata={"description": "Paid per km driven (45p a mile is about 0.28 a km)"},
    )


class NeedProvisionSchema(StrictSchema):
    """The need-versus-provision map (nyby.provision): defaults filled in, as for dispatch."""

    # 4 (a county's districts, ~22 km edge) to 7 (the area cell stored with every place,
    # ~1.4 km edge); 6 (~3.2 km edge, a neighbourhood) by default.
    resolution = ma.fields.Integer(
        strict=True,
        load_default=6,
        validate=ma.validate.Range(min=4, max=7),
        metadata={"description": "H3 resolution of the map's areas, 4 (large) to 7 (small)"},
    )


class CheckTypeFileSchema(StrictSchema):
    key = Key(required=True)
    name = _name(required=True)
    description = _description(load_default="")
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(CHECK_KINDS))
    evidence = ma.fields.String(load_default="none", validate=ma.validate.OneOf(EVIDENCE))
    validity_months = ma.fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=ma.validate.Range(min=1, max=240)
    )
    training = ma.fields.Nested(lambda: TrainingFileSchema(), load_default=None, allow_none=True)


class TrainingQuestionFileSchema(StrictSchema):
    question = Text(required=True, validate=ma.validate.Length(min=1, max=1000))
    options = ma.fields.List(
        Text(validate=ma.validate.Length(min=1, max=500)),
        required=True,
        validate=[ma.validate.Length(min=2, max=10), _unique],
    )
    answer = ma.fields.Integer(
        strict=True,
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "The right option's index, counting from 0"},
    )

    @ma.validates_schema
    def _answer_is_an_option(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "options" in data and "answer" in data and data["answer"] >= len(data["options"]):
            raise ma.ValidationError(
                f"There are {len(data['options'])} options: answer counts from 0.", "answer"
            )


class TrainingFileSchema(StrictSchema):
    """A short online module that passes a training check (onboarding.checks)."""

    introduction = _description(load_default="")
    pass_mark = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(min=0, min_inclusive=False, max=50),
        metadata={"description": "A fraction (0.8) or a number of right answers (4)"},
    )
    questions = ma.fields.List(
        ma.fields.Nested(TrainingQuestionFileSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
    )

    @ma.validates_schema
    def _reachable(self, data: dict[str, Any], **kwargs: Any) -> None:
        mark, questions = data.get("pass_mark"), data.get("questions")
        if mark is not None and mark > 1 and not float(mark).is_integer():
            raise ma.ValidationError(
                "Give a fraction up to 1 (0.8) or a whole number of right answers (4).",
                "pass_mark",
            )
        if mark is not None and questions and mark > len(questions):
            raise ma.ValidationError(
                f"The module has {len(questions)} questions: it could never be passed.",
                "pass_mark",
            )

    @ma.post_load
    def _count_as_int(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # 4 right answers stays 4 (not 4.0) in the database and in an export.
        if data["pass_mark"] > 1:
            data["pass_mark"] = int(data["pass_mark"])
        return data


class CategoryFileSchema(StrictSchema):
    key = Key(required=True)
    name = _name(required=True)
    description = _description(load_default="")


class TeamFileSchema(StrictSchema):
    """A team of the tenant's staff; members are put in teams through the members API."""

    key = Key(required=True)
    name = _name(required=True)
    description = _description(load_default="")


class RoleFileSchema(StrictSchema):
    """A volunteer role in the tenant file; checks, categories and teams are keys from the file."""

    key = Key(required=True)
    name = _name(required=True)
    description = _description(required=True)
    guidance = Text(load_default="", validate=ma.validate.Length(max=20000))
    dispatch_mode = ma.fields.String(
        load_default="both", validate=ma.validate.OneOf(DISPATCH_MODES)
    )
    staff_only = ma.fields.Boolean(load_default=False)
    remote = ma.fields.Boolean(load_default=False)
    min_age = ma.fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=ma.validate.Range(min=0, max=120)
    )
    checks = ma.fields.List(Key(), load_default=list, validate=_unique)
    categories = ma.fields.List(Key(), load_default=list, validate=_unique)
    posted_by_teams = ma.fields.List(
        Key(),
        load_default=list,
        validate=_unique,
        metadata={
            "description": "Only members of these teams (and coordinators and admins) may post "
            "tasks in this role. Empty: anyone who may post tasks."
        },
    )


def _language(value: str) -> None:
    if value not in _LANGUAGE_NAMES:
        raise ma.ValidationError("Use a two-letter ISO 639-1 language code, such as pl or ur.")


# Every ISO 639-1 code that CLDR names (the web pages show the names).
_LANGUAGE_NAMES = frozenset(
    code
    for code in babel.Locale("en").languages
    if isinstance(code, str) and len(code) == 2 and code.isalpha()
)


class FileDate(ma.fields.Date):
    """A date, kept as ISO text in the document: YAML's bare 2027-01-31 and a quoted
    "2027-01-31" load alike, and a document stays plain JSON for the API."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:  # type: ignore[override]
        return super()._deserialize(value, attr, data, **kwargs).isoformat()

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class CampaignAreaSchema(StrictSchema):
    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-90, max=90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(min=-180, max=180))
    radius_km = ma.fields.Float(required=True, validate=ma.validate.Range(min=0.1, max=200))


class TargetGroupSchema(StrictSchema):
    """Who a campaign is aimed at; every part optional (only what is given is kept)."""

    min_age = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=120))
    max_age = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=120))
    skills = ma.fields.List(
        Text(validate=ma.validate.Length(min=1, max=50)),
        validate=[ma.validate.Length(max=20), _unique],
        metadata={"example": ["driving"]},
    )
    languages = ma.fields.List(
        ma.fields.String(validate=_language),
        validate=[ma.validate.Length(max=20), _unique],
        metadata={"description": "ISO 639-1 codes", "example": ["pl", "ur"]},
    )
    area = ma.fields.Nested(CampaignAreaSchema)

    @ma.validates_schema
    def _age_band(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("max_age") is not None and data.get("min_age", 0) > data["max_age"]:
            raise ma.ValidationError("Must not be below min_age.", "max_age")


class CampaignFileSchema(StrictSchema):
    """A recruitment campaign in the tenant file; roles are keys of the file's roles."""

    key = Key(required=True)
    name = _name(required=True)
    message = _description(load_default="")
    target_group = ma.fields.Nested(TargetGroupSchema, load_default=dict)
    roles = ma.fields.List(
        Key(), required=True, validate=[ma.validate.Length(min=1, max=50), _unique]
    )
    starts_on = FileDate(required=True)
    ends_on = FileDate(load_default=None, allow_none=True, metadata={"description": "null: open"})
    target_sign_ups = ma.fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=ma.validate.Range(min=1)
    )

    @ma.validates_schema
    def _ends_after_start(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
            raise ma.ValidationError("Must not be before starts_on.", "ends_on")


def validate_area(cell: str) -> None:
    if not valid_area(cell):
        raise ma.ValidationError(
            "Must be an H3 cell id at resolution 4 to 7 (the tenant's areas or coarser)."
        )


# A criterion's target: no count, rate or time of a tenant comes near it, and a number
# past it cannot be printed (the board's PDF rounds it as a decimal).
MAX_TARGET = 1_000_000_000


class SuccessCriterionFileSchema(StrictSchema):
    """A success criterion: a metric compared with a target over a week, month or
    quarter (the tenant's time zone), for the whole tenant or one role and/or area."""

    key = Key(required=True)
    name = _name(required=True)
    metric = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(METRICS)),
        metadata={"description": "A metric's key (README: the metrics table)"},
    )
    comparison = ma.fields.String(
        load_default=Comparison.AT_LEAST.value,
        validate=ma.validate.OneOf([c.value for c in Comparison]),
    )
    target = ma.fields.Float(
        required=True,
        allow_nan=False,
        validate=ma.validate.Range(min=0, max=MAX_TARGET),
        metadata={"description": "Minutes for times, a fraction (0..1) for rates"},
    )
    period = ma.fields.String(
        load_default=Period.MONTH.value, validate=ma.validate.OneOf([p.value for p in Period])
    )
    role = Key(load_default=None, allow_none=True, metadata={"description": "A role's key"})
    area = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate_area,
        metadata={"description": "An H3 cell at resolution 4 to 7"},
    )
    at_risk_margin = ma.fields.Float(
        load_default=DEFAULT_AT_RISK_MARGIN,
        allow_nan=False,
        validate=ma.validate.Range(min=0, max=1),
        metadata={"description": "Missing the target by at most this share of it: at risk"},
    )

    @ma.validates_schema
    def _rates_are_fractions(self, data: dict[str, Any], **kwargs: Any) -> None:
        metric = METRICS.get(data.get("metric", ""))
        if metric is not None and metric.unit == "fraction" and data.get("target", 0) > 1:
            raise ma.ValidationError("A rate's target is a fraction from 0 to 1.", "target")


class TenantFileSchema(StrictSchema):
    """One tenant's configuration file."""

    slug = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            SLUG_PATTERN, error="Use a lowercase slug of letters, digits and '-'."
        ),
    )
    name = _name(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(TENANT_KINDS))
    locale = ma.fields.String(required=True, validate=ma.validate.OneOf(LOCALES))
    timezone = ma.fields.String(required=True, validate=_timezone)
    # What a volunteer reads and accepts when signing up (onboarding.signup).
    volunteer_agreement = Text(load_default="", validate=ma.validate.Length(max=20000))
    branding = ma.fields.Nested(BrandingSchema, load_default=dict)
    dispatch_policy = ma.fields.Nested(
        DispatchPolicySchema, load_default=lambda: DispatchPolicySchema().load({})
    )
    task_support = ma.fields.Nested(
        TaskSupportSchema, load_default=lambda: TaskSupportSchema().load({})
    )
    expense_policy = ma.fields.Nested(
        ExpensePolicySchema, load_default=lambda: ExpensePolicySchema().load({})
    )
    # Badges and the leaderboard switch (nyby.recognition.schemas).
    recognition = ma.fields.Nested(
        RecognitionSettingsSchema, load_default=lambda: RecognitionSettingsSchema().load({})
    )
    need_provision = ma.fields.Nested(
        NeedProvisionSchema, load_default=lambda: NeedProvisionSchema().load({})
    )
    check_types = ma.fields.List(ma.fields.Nested(CheckTypeFileSchema), load_default=list)
    categories = ma.fields.List(ma.fields.Nested(CategoryFileSchema), load_default=list)
    teams = ma.fields.List(ma.fields.Nested(TeamFileSchema), load_default=list)
    roles = ma.fields.List(ma.fields.Nested(RoleFileSchema), load_default=list)
    campaigns = ma.fields.List(ma.fields.Nested(CampaignFileSchema), load_default=list)
    success_criteria = ma.fields.List(
        ma.fields.Nested(SuccessCriterionFileSchema), load_default=list
    )

    @ma.validates_schema
    def keys_are_unique_and_known(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, dict[int, Any]] = {}
        for section in (
            "check_types",
            "categories",
            "teams",
            "roles",
            "campaigns",
            "success_criteria",
        ):
            seen: set[str] = set()
            for index, item in enumerate(data[section]):
                if item["key"] in seen:
                    errors.setdefault(section, {})[index] = {
                        "key": [f"Key {item['key']!r} is used twice in {section}."]
                    }
                seen.add(item["key"])
        checks = {item["key"] for item in data["check_types"]}
        categories = {item["key"] for item in data["categories"]}
        teams = {item["key"] for item in data["teams"]}
        for index, role in enumerate(data["roles"]):
            problems: dict[str, dict[int, list[str]]] = {}
            for field, known, section in (
                ("checks", checks, "check_types"),
                ("categories", categories, "categories"),
                ("posted_by_teams", teams, "teams"),
            ):
                for position, key in enumerate(role[field]):
                    if key not in known:
                        problems.setdefault(field, {})[position] = [
                            f"Role {role['key']!r} names {key!r}, which is not defined "
                            f"under {section} in this file."
                        ]
            if problems:
                errors.setdefault("roles", {}).setdefault(index, {}).update(problems)
        # Campaigns recruit volunteers, so they offer the file's volunteer roles.
        volunteer_roles = {role["key"] for role in data["roles"] if not role["staff_only"]}
        for index, campaign in enumerate(data["campaigns"]):
            unknown = {
                position: [
                    f"Campaign {campaign['key']!r} offers {key!r}, which is not a volunteer "
                    "role defined under roles in this file."
                ]
                for position, key in enumerate(campaign["roles"])
                if key not in volunteer_roles
            }
            if unknown:
                errors.setdefault("campaigns", {}).setdefault(index, {})["roles"] = unknown
        roles = {role["key"] for role in data["roles"]}
        for index, criterion in enumerate(data["success_criteria"]):
            if criterion["role"] is not None and criterion["role"] not in roles:
                errors.setdefault("success_criteria", {}).setdefault(index, {})["role"] = [
                    f"Criterion {criterion['key']!r} names role {criterion['role']!r}, which "
                    "is not defined under roles in this file."
                ]
        if errors:
            raise ma.ValidationError(errors)  # type: ignore[arg-type]


def error_lines(messages: Any, path: str = "") -> list[str]:
    """Flatten marshmallow's nested messages to ``roles.2.checks.0: ...`` lines."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for name, inner in messages.items():
            part = path if name == "_schema" else f"{path}.{name}" if path else str(name)
            lines.extend(error_lines(inner, part))
        return lines
    if isinstance(messages, list | tuple):
        if all(isinstance(item, str) for item in messages):
            return [f"{path or '(file)'}: {message}" for message in messages]
        return [line for item in messages for line in error_lines(item, path)]
    return [f"{path or '(file)'}: {messages}"]


# -- the API ---------------------------------------------------------------------------


class CheckTypeSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(CHECK_KINDS)})
    evidence = ma.fields.String(required=True, metadata={"enum": list(EVIDENCE)})
    validity_months = ma.fields.Integer(
        allow_none=True, metadata={"description": "null: never expires"}
    )
    # The module's questions come only from GET /me/checks/{id}/training, without answers.
    has_training = ma.fields.Function(
        lambda check: check.training is not None,
        metadata={"description": "It can be passed online (a training module)"},
    )


class CategorySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class TeamSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class RoleSchema(ma.Schema):
    """A volunteer role as the API shows it; checks, categories and teams by key."""

    id = ma.fields.UUID(required=True)
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    guidance = ma.fields.String(required=True)
    dispatch_mode = ma.fields.String(required=True, metadata={"enum": list(DISPATCH_MODES)})
    staff_only = ma.fields.Boolean(required=True)
    remote = ma.fields.Boolean(required=True)
    min_age = ma.fields.Integer(allow_none=True)
    is_active = ma.fields.Boolean(required=True)
    checks = ma.fields.Function(
        lambda role: [check.key for check in role.check_types],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    categories = ma.fields.Function(
        lambda role: [category.key for category in role.categories],
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    posted_by_teams = ma.fields.Function(
        lambda role: [team.key for team in role.posted_by_teams],
        required=True,
        metadata={
            "type": "array",
            "items": {"type": "string"},
            "description": "Teams whose members may post tasks in this role (coordinators "
            "and admins always may). Empty: anyone who may post tasks.",
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class RoleCreateSchema(RoleFileSchema):
    """A new role through the API: the same fields as in the file.

    It exists in the database only until the next ``tenants apply`` of a file
    without it, which deactivates it; export the file to keep it.
    """


class RoleUpdateSchema(StrictSchema):
    """What may change on a role; only the fields given are changed.

    The key is fixed: the tenant file matches roles by key.
    """

    name = _name()
    description = _description()
    guidance = Text(validate=ma.validate.Length(max=20000))
    dispatch_mode = ma.fields.String(validate=ma.validate.OneOf(DISPATCH_MODES))
    staff_only = ma.fields.Boolean()
    remote = ma.fields.Boolean()
    min_age = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=0, max=120)
    )
    checks = ma.fields.List(Key(), validate=_unique)
    categories = ma.fields.List(Key(), validate=_unique)
    posted_by_teams = ma.fields.List(Key(), validate=_unique)
    is_active = ma.fields.Boolean()


class BrandingDumpSchema(ma.Schema):
    logo_url = ma.fields.String()
    primary_colour = ma.fields.String()
    accent_colour = ma.fields.String()


class TaskSupportDumpSchema(ma.Schema):
    # Absent in configurations stored before they existed (the defaults apply).
    chat_closes_after_days = ma.fields.Integer()
    chat_attachment_max_mb = ma.fields.Integer()
    failed_contacts_to_escalate = ma.fields.Integer()


class DispatchPolicyDumpSchema(ma.Schema):
    mode = ma.fields.String(required=True)
    wave_size = ma.fields.Integer(required=True)
    wave_timeout_minutes = ma.fields.Integer(required=True)
    max_waves = ma.fields.Integer(required=True)
    radius_km = ma.fields.Float(required=True)
    radius_growth_km = ma.fields.Float(required=True)
    max_alerts_per_day = ma.fields.Integer()  # absent in policies stored before it existed
    weights = ma.fields.Nested(lambda: DispatchWeightsDumpSchema())


class ExpensePolicyDumpSchema(ma.Schema):
    currency = ma.fields.String()  # absent in tenants stored before expenses existed
    max_per_claim = ma.fields.String()
    mileage_rate_per_km = ma.fields.String()


class NeedProvisionDumpSchema(ma.Schema):
    resolution = ma.fields.Integer()  # absent in tenants stored before it existed


class DispatchWeightsDumpSchema(ma.Schema):
    distance = ma.fields.Float(required=True)
    continuity = ma.fields.Float(required=True)
    fairness = ma.fields.Float(required=True)
    language = ma.fields.Float(required=True)
    response = ma.fields.Float(required=True)


class TrainingQuestionDumpSchema(ma.Schema):
    question = ma.fields.String(required=True)
    options = ma.fields.List(ma.fields.String(), required=True)
    answer = ma.fields.Integer(required=True)


class TrainingDumpSchema(ma.Schema):
    introduction = ma.fields.String(required=True)
    pass_mark = ma.fields.Float(required=True)
    questions = ma.fields.List(ma.fields.Nested(TrainingQuestionDumpSchema), required=True)


class CheckTypeDumpSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    evidence = ma.fields.String(required=True)
    validity_months = ma.fields.Integer(allow_none=True)
    # Left out when the check has no online module.
    training = ma.fields.Nested(TrainingDumpSchema)


class CategoryDumpSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class TeamDumpSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)


class RoleDumpSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    guidance = ma.fields.String(required=True)
    dispatch_mode = ma.fields.String(required=True)
    staff_only = ma.fields.Boolean(required=True)
    remote = ma.fields.Boolean(required=True)
    min_age = ma.fields.Integer(allow_none=True)
    checks = ma.fields.List(ma.fields.String(), required=True)
    categories = ma.fields.List(ma.fields.String(), required=True)
    posted_by_teams = ma.fields.List(ma.fields.String(), required=True)


class CampaignAreaDumpSchema(ma.Schema):
    latitude = ma.fields.Float(required=True)
    longitude = ma.fields.Float(required=True)
    radius_km = ma.fields.Float(required=True)


class TargetGroupDumpSchema(ma.Schema):
    """Only the parts the campaign sets are present."""

    min_age = ma.fields.Integer()
    max_age = ma.fields.Integer()
    skills = ma.fields.List(ma.fields.String())
    languages = ma.fields.List(ma.fields.String())
    area = ma.fields.Nested(CampaignAreaDumpSchema)


class CampaignDumpSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    target_group = ma.fields.Nested(TargetGroupDumpSchema, required=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    starts_on = FileDate(required=True)
    ends_on = FileDate(allow_none=True)
    target_sign_ups = ma.fields.Integer(allow_none=True)


class SuccessCriterionDumpSchema(ma.Schema):
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    metric = ma.fields.String(required=True)
    comparison = ma.fields.String(required=True)
    target = ma.fields.Float(required=True)
    period = ma.fields.String(required=True)
    role = ma.fields.String(allow_none=True)
    area = ma.fields.String(allow_none=True)
    at_risk_margin = ma.fields.Float(required=True)


class ConfigurationSchema(ma.Schema):
    """The whole configuration document, in the file's shape (what ``export`` returns)."""

    slug = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    locale = ma.fields.String(required=True)
    timezone = ma.fields.String(required=True)
    volunteer_agreement = ma.fields.String(required=True)
    branding = ma.fields.Nested(BrandingDumpSchema, required=True)
    dispatch_policy = ma.fields.Nested(DispatchPolicyDumpSchema, required=True)
    task_support = ma.fields.Nested(TaskSupportDumpSchema, required=True)
    expense_policy = ma.fields.Nested(ExpensePolicyDumpSchema, required=True)
    recognition = ma.fields.Nested(RecognitionSettingsDumpSchema, required=True)
    need_provision = ma.fields.Nested(NeedProvisionDumpSchema, required=True)
    check_types = ma.fields.List(ma.fields.Nested(CheckTypeDumpSchema), required=True)
    categories = ma.fields.List(ma.fields.Nested(CategoryDumpSchema), required=True)
    teams = ma.fields.List(ma.fields.Nested(TeamDumpSchema), required=True)
    roles = ma.fields.List(ma.fields.Nested(RoleDumpSchema), required=True)
    campaigns = ma.fields.List(ma.fields.Nested(CampaignDumpSchema), required=True)
    success_criteria = ma.fields.List(ma.fields.Nested(SuccessCriterionDumpSchema), required=True)
