"""What the metrics, statuses and trends are called, and how their values read, in the
person's language (the dashboard, the board's PDF)."""

from __future__ import annotations

from flask_babel import format_decimal, lazy_gettext
from flask_babel import gettext as _

METRIC_NAMES = {
    "approved_volunteers": lazy_gettext("Approved volunteers"),
    "volunteers_on_duty": lazy_gettext("Volunteers ever on duty"),
    "tasks_created": lazy_gettext("Tasks created"),
    "tasks_completed": lazy_gettext("Tasks completed"),
    "completion_rate": lazy_gettext("Share of tasks completed"),
    "completed_per_month": lazy_gettext("Average completed per month"),
    "time_to_accept_median": lazy_gettext("Time to accept (median)"),
    "time_to_accept_p90": lazy_gettext("Time to accept (90th percentile)"),
    "unmet_tasks": lazy_gettext("Expired or unmet tasks"),
    "signup_to_approval_median": lazy_gettext("Sign-up to approval (median)"),
    "active_volunteers": lazy_gettext("Active volunteers (a task done in 30 days)"),
    "idle_on_duty_volunteers": lazy_gettext("On duty but idle"),
    "repeat_client_continuity": lazy_gettext("Clients helped again by the same volunteer"),
    "volunteer_hours": lazy_gettext("Volunteer hours"),
}
STATUS_NAMES = {
    "met": lazy_gettext("Met"),
    "at_risk": lazy_gettext("At risk"),
    "missed": lazy_gettext("Missed"),
    "no_data": lazy_gettext("No data yet"),
}
TREND_NAMES = {
    "better": lazy_gettext("Better"),
    "worse": lazy_gettext("Worse"),
    "same": lazy_gettext("Same"),
}
PERIOD_NAMES = {
    "week": lazy_gettext("week"),
    "month": lazy_gettext("month"),
    "quarter": lazy_gettext("quarter"),
}


def status_name(status: str | None) -> str:
    return str(STATUS_NAMES.get(status or "", _("Not evaluated yet")))


def trend_name(trend: str | None) -> str:
    return str(TREND_NAMES.get(trend or "", "-"))


def format_value(value: float | None, unit: str) -> str:
    """A metric's value as people read it: 85 %, 1 h 20 min, 12."""
    if value is None:
        return "-"
    if unit == "fraction":
        return f"{format_decimal(round(value * 100, 1), format='#,##0.#')} %"
    if unit == "minutes":
        return duration(value)
    if unit == "hours":
        return _("%(hours)s h", hours=format_decimal(value, format="#,##0.##"))
    return str(format_decimal(value, format="#,##0.#"))


def duration(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return _("%(num)s min", num=format_decimal(minutes, format="#,##0.#"))
    days, rest = divmod(whole, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h", days=days, hours=hours)
    return _("%(hours)s h %(minutes)s min", hours=hours, minutes=mins)
