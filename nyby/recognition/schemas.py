"""The tenant file's ``recognition`` section (read by configuration.schemas) and the
API shapes of badges, the leaderboard and the activity record."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.core.fields import Flag
from nyby.recognition.models import Milestone, Tier

MILESTONES = [milestone.value for milestone in Milestone]
TIERS = [tier.value for tier in Tier]

# For a tenant that says nothing: a first badge within a month or two of regular help,
# gold for years of it. Hours are whole hours; years are whole years since the first task.
DEFAULT_TIERS: dict[str, tuple[int, int, int]] = {
    Milestone.TASKS_COMPLETED: (5, 25, 100),
    Milestone.HOURS: (10, 50, 200),
    Milestone.CLIENTS_HELPED: (3, 10, 25),
    Milestone.YEARS_ACTIVE: (1, 3, 5),
    Milestone.THANKS: (3, 10, 25),
}


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


def _threshold() -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(min=1))


class TiersSchema(_Strict):
    """Bronze, silver and gold thresholds, each higher than the one before."""

    bronze = _threshold()
    silver = _threshold()
    gold = _threshold()

    @ma.validates_schema
    def rising(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data["bronze"] < data["silver"] < data["gold"]:
            raise ma.ValidationError(
                "Each tier needs more than the one before: bronze < silver < gold."
            )


def _milestone(milestone: Milestone, what: str) -> ma.fields.Nested:
    bronze, silver, gold = DEFAULT_TIERS[milestone]
    return ma.fields.Nested(
        TiersSchema,
        allow_none=True,
        load_default=lambda: {"bronze": bronze, "silver": silver, "gold": gold},
        metadata={
            "description": f"{what}; null: no badges for it (default {bronze}/{silver}/{gold})"
        },
    )


class MilestonesSchema(_Strict):
    tasks_completed = _milestone(Milestone.TASKS_COMPLETED, "Tasks completed")
    hours = _milestone(Milestone.HOURS, "Hours given (as recorded on completing a task)")
    clients_helped = _milestone(Milestone.CLIENTS_HELPED, "Different people helped")
    years_active = _milestone(Milestone.YEARS_ACTIVE, "Whole years since the first task")
    thanks = _milestone(Milestone.THANKS, "Coordinators' thumbs-up received")


class RecognitionSettingsSchema(_Strict):
    """Badges for milestones (tenant file ``recognition:`` and the admin API). Defaults
    filled in, so a tenant file may leave it out."""

    # Off by default: volunteers warned that a ranking pushes quantity over quality.
    leaderboard = ma.fields.Boolean(
        load_default=False, metadata={"description": "Show a leaderboard (display names only)"}
    )
    milestones = ma.fields.Nested(
        MilestonesSchema, load_default=lambda: MilestonesSchema().load({})
    )


class TiersDumpSchema(ma.Schema):
    bronze = ma.fields.Integer(required=True)
    silver = ma.fields.Integer(required=True)
    gold = ma.fields.Integer(required=True)


class MilestonesDumpSchema(ma.Schema):
    tasks_completed = ma.fields.Nested(TiersDumpSchema, allow_none=True)
    hours = ma.fields.Nested(TiersDumpSchema, allow_none=True)
    clients_helped = ma.fields.Nested(TiersDumpSchema, allow_none=True)
    years_active = ma.fields.Nested(TiersDumpSchema, allow_none=True)
    thanks = ma.fields.Nested(TiersDumpSchema, allow_none=True)


class RecognitionSettingsDumpSchema(ma.Schema):
    # Absent in configurations stored before recognition existed (the defaults apply).
    leaderboard = ma.fields.Boolean()
    milestones = ma.fields.Nested(MilestonesDumpSchema)


# -- badges ---------------------------------------------------------------------------


class BadgeSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    milestone = ma.fields.String(required=True, metadata={"enum": MILESTONES})
    tier = ma.fields.String(required=True, metadata={"enum": TIERS})
    threshold = ma.fields.Integer(required=True)
    value = ma.fields.Integer(required=True, metadata={"description": "The figure that reached it"})
    awarded_at = ma.fields.AwareDateTime(required=True)


class ProgressSchema(ma.Schema):
    milestone = ma.fields.String(required=True, metadata={"enum": MILESTONES})
    value = ma.fields.Integer(required=True, metadata={"description": "Where they are now"})
    tier = ma.fields.String(
        allow_none=True, metadata={"enum": TIERS, "description": "The highest tier reached"}
    )
    next_tier = ma.fields.String(allow_none=True, metadata={"enum": TIERS})
    next_threshold = ma.fields.Integer(allow_none=True)
    to_go = ma.fields.Integer(allow_none=True, metadata={"description": "Left to the next tier"})


class MyRecognitionSchema(ma.Schema):
    opted_out = ma.fields.Boolean(required=True)
    badges = ma.fields.List(ma.fields.Nested(BadgeSchema), required=True)
    progress = ma.fields.List(ma.fields.Nested(ProgressSchema), required=True)


class OptOutSchema(ma.Schema):
    opted_out = Flag(
        required=True,
        metadata={"description": "True: no badges, no notices about them, no leaderboard place"},
    )


class LeaderboardEntrySchema(ma.Schema):
    rank = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True, metadata={"description": "Display name only"})
    tasks_completed = ma.fields.Integer(required=True)
    badges = ma.fields.Integer(required=True)


# -- the activity record ---------------------------------------------------------------


class RoleFiguresSchema(ma.Schema):
    role = ma.fields.String(required=True)
    tasks = ma.fields.Integer(required=True)
    hours = ma.fields.Float(required=True)


class CheckHeldSchema(ma.Schema):
    check = ma.fields.String(required=True)
    verified_on = ma.fields.String(metadata={"format": "date"}, allow_none=True)
    valid_until = ma.fields.String(
        allow_none=True, metadata={"format": "date", "description": "Null: no expiry"}
    )


class FiguresSchema(ma.Schema):
    name = ma.fields.String(required=True)
    tenant = ma.fields.String(required=True)
    member_since = ma.fields.String(metadata={"format": "date"}, required=True)
    tasks_completed = ma.fields.Integer(required=True)
    hours = ma.fields.Float(required=True)
    clients_helped = ma.fields.Integer(required=True)
    first_task_on = ma.fields.String(metadata={"format": "date"}, allow_none=True)
    last_task_on = ma.fields.String(metadata={"format": "date"}, allow_none=True)
    by_role = ma.fields.List(ma.fields.Nested(RoleFiguresSchema), required=True)
    checks = ma.fields.List(ma.fields.Nested(CheckHeldSchema), required=True)
    badges = ma.fields.List(ma.fields.Nested(lambda: RecordBadgeSchema()), required=True)
    thanks_received = ma.fields.Integer(required=True, metadata={"description": "Thumbs-up"})
    ratings = ma.fields.Integer(required=True, metadata={"description": "Feedback ratings"})
    average_rating = ma.fields.Float(allow_none=True, metadata={"description": "Out of 5"})


class RecordBadgeSchema(ma.Schema):
    milestone = ma.fields.String(required=True, metadata={"enum": MILESTONES})
    tier = ma.fields.String(required=True, metadata={"enum": TIERS})
    threshold = ma.fields.Integer(required=True)
    awarded_on = ma.fields.String(metadata={"format": "date"}, required=True)


class ActivityRecordSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    member_id = ma.fields.UUID(required=True)
    code = ma.fields.String(required=True, metadata={"description": "The verification code"})
    verify_url = ma.fields.String(required=True, metadata={"description": "Public, no login"})
    issued_at = ma.fields.AwareDateTime(required=True)
    figures = ma.fields.Nested(FiguresSchema, required=True)
