from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma

from nyby.configuration.schemas import (
    MAX_TARGET,
    Key,
    StrictSchema,
    SuccessCriterionFileSchema,
    validate_area,
)
from nyby.reporting.metrics import METRICS
from nyby.reporting.models import Comparison, Period, Status, Trend

PERIODS = [p.value for p in Period]
QUERY_PERIODS = [*PERIODS, "all"]


class ReportQuerySchema(ma.Schema):
    """Which numbers: a period holding a day (the tenant's week, month or quarter, or
    everything up to now) and an optional role and area."""

    period = ma.fields.String(
        load_default="month",
        validate=ma.validate.OneOf(QUERY_PERIODS),
        metadata={"description": "week, month, quarter (the tenant's local time), or all"},
    )
    at = ma.fields.Date(
        validate=ma.validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)),
        metadata={"description": "A day in the period (default: today)"},
    )
    role = Key(metadata={"description": "A role's key: only that role"})
    area = ma.fields.String(
        validate=validate_area,
        metadata={"description": "An H3 cell (resolution 4 to 7): only there"},
    )


class TableQuerySchema(ReportQuerySchema):
    # The NHS evaluation's Table 2 is a total to a date, so "all" is its default.
    period = ma.fields.String(
        load_default="all",
        validate=ma.validate.OneOf(QUERY_PERIODS),
        metadata={"description": "week, month, quarter (the tenant's local time), or all"},
    )


class WindowSchema(ma.Schema):
    start = ma.fields.AwareDateTime(required=True)
    end = ma.fields.AwareDateTime(required=True)
    months = ma.fields.Float(required=True, metadata={"description": "Calendar months"})


def _number(description: str) -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, metadata={"description": description})


class MetricsSchema(ma.Schema):
    """Every metric (README: the exact definitions)."""

    approved_volunteers = ma.fields.Integer(required=True)
    volunteers_on_duty = ma.fields.Integer(
        required=True, metadata={"description": "Approved, and ever went on duty"}
    )
    tasks_created = ma.fields.Integer(required=True)
    tasks_completed = ma.fields.Integer(required=True)
    completion_rate = _number("tasks_completed / tasks_created, 0..1")
    completed_per_month = ma.fields.Float(required=True)
    time_to_accept_median = _number("Minutes from posting to acceptance")
    time_to_accept_p90 = _number("Minutes; the 90th percentile")
    unmet_tasks = ma.fields.Integer(required=True, metadata={"description": "Expired or unmet"})
    signup_to_approval_median = _number("Minutes from sign-up to first approval")
    active_volunteers = ma.fields.Integer(required=True)
    idle_on_duty_volunteers = ma.fields.Integer(required=True)
    repeat_client_continuity = _number("Share of completed tasks by a client's earlier helper")
    volunteer_hours = ma.fields.Float(required=True)


class MetricsReportSchema(ma.Schema):
    period = ma.fields.String(required=True)
    window = ma.fields.Nested(WindowSchema, required=True)
    role = ma.fields.String(allow_none=True)
    area = ma.fields.String(allow_none=True)
    metrics = ma.fields.Nested(MetricsSchema, required=True)


class Table2RowSchema(ma.Schema):
    role_key = ma.fields.String(allow_none=True, metadata={"description": "Null: the total"})
    role_name = ma.fields.String(allow_none=True)
    approved_volunteers = ma.fields.Integer(required=True)
    volunteers_on_duty = ma.fields.Integer(required=True, metadata={"description": "Ever"})
    tasks_created = ma.fields.Integer(required=True)
    tasks_completed = ma.fields.Integer(required=True)
    completion_rate = _number("0..1")
    completed_per_month = ma.fields.Float(required=True)


class Table2Schema(ma.Schema):
    period = ma.fields.String(required=True)
    window = ma.fields.Nested(WindowSchema, required=True)
    rows = ma.fields.List(ma.fields.Nested(Table2RowSchema), required=True)


class MonthSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"description": "YYYY-MM, local"})
    start = ma.fields.AwareDateTime(required=True)
    end = ma.fields.AwareDateTime(required=True)
    tasks_created = ma.fields.Integer(required=True)
    tasks_completed = ma.fields.Integer(required=True)
    completion_rate = _number("0..1")
    time_to_accept_median = _number("Minutes")
    time_to_accept_p90 = _number("Minutes")


class VolunteerFunnelSchema(ma.Schema):
    signed_up = ma.fields.Integer(required=True)
    approved = ma.fields.Integer(required=True)
    went_on_duty = ma.fields.Integer(required=True)
    active = ma.fields.Integer(required=True)
    idle_on_duty = ma.fields.Integer(required=True)


class DashboardSchema(ma.Schema):
    """Everything the dashboard page shows, as numbers."""

    months = ma.fields.List(ma.fields.Nested(MonthSchema), required=True)
    funnel = ma.fields.Nested(VolunteerFunnelSchema, required=True)
    table_2 = ma.fields.Nested(Table2Schema, required=True)
    criteria = ma.fields.List(ma.fields.Nested(lambda: CriterionSchema()), required=True)


# -- success criteria ---------------------------------------------------------------------


class CriterionCreateSchema(SuccessCriterionFileSchema):
    """A new criterion; the same fields as in the tenant file."""


class CriterionUpdateSchema(StrictSchema):
    """Only the fields given change; ``null`` clears the role or the area."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    metric = ma.fields.String(validate=ma.validate.OneOf(list(METRICS)))
    comparison = ma.fields.String(validate=ma.validate.OneOf([c.value for c in Comparison]))
    target = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=0, max=MAX_TARGET))
    period = ma.fields.String(validate=ma.validate.OneOf(PERIODS))
    role = Key(allow_none=True)
    area = ma.fields.String(allow_none=True, validate=validate_area)
    at_risk_margin = ma.fields.Float(allow_nan=False, validate=ma.validate.Range(min=0, max=1))


class EvaluationSchema(ma.Schema):
    period_start = ma.fields.AwareDateTime(required=True)
    period_end = ma.fields.AwareDateTime(required=True)
    value = ma.fields.Float(allow_none=True)
    target = ma.fields.Float(required=True)
    status = ma.fields.String(required=True, metadata={"enum": [s.value for s in Status]})
    trend = ma.fields.String(
        allow_none=True,
        metadata={
            "enum": [t.value for t in Trend],
            "description": "Against the previous period; null for the first",
        },
    )
    evaluated_at = ma.fields.AwareDateTime(required=True)


class CriterionSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    key = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    metric = ma.fields.String(required=True)
    unit = ma.fields.String(required=True, metadata={"description": "count, fraction, minutes…"})
    comparison = ma.fields.String(required=True)
    target = ma.fields.Float(required=True)
    period = ma.fields.String(required=True)
    role = ma.fields.String(allow_none=True)
    area = ma.fields.String(allow_none=True)
    at_risk_margin = ma.fields.Float(required=True)
    version = ma.fields.Integer(required=True)
    latest = ma.fields.Nested(
        EvaluationSchema,
        allow_none=True,
        metadata={"description": "The latest period measured; null until the first"},
    )


def criterion_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The load schemas' names as the model's columns."""
    renamed = {"area": "area_cell"}
    return {renamed.get(name, name): value for name, value in data.items() if name != "role"}
