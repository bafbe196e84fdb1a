"""Reports for coordinators and admins: the metrics, Table 2 and the dashboard's charts
(numbers from ``metrics``), and the success criteria: kept, evaluated into a history,
exported for the board as CSV and as a one-page PDF."""

from __future__ import annotations

import csv
import io
import logging
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from nyby.auth.permissions import Action
from nyby.configuration.models import VolunteerRole
from nyby.core.days import local_midnight
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Unprocessable
from nyby.core.spreadsheet import safe_cell
from nyby.reporting import metrics
from nyby.reporting.metrics import METRICS, Scope, Window
from nyby.reporting.models import (
    Comparison,
    CriterionEvaluation,
    Status,
    SuccessCriterion,
    Trend,
)
from nyby.reporting.schemas import criterion_fields
from nyby.tasks.models import Task
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

log = logging.getLogger(__name__)

TREND_MONTHS = 6


# -- which numbers -----------------------------------------------------------------------


def zone_of(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.timezone)


def scope_for(role_key: str | None, area: str | None) -> Scope:
    """A role's key and an area cell as a ``Scope``; an unknown role is a 422."""
    role_id = None
    if role_key is not None:
        role_id = db.session.scalar(select(VolunteerRole.id).where(VolunteerRole.key == role_key))
        if role_id is None:
            raise Unprocessable(
                f"There is no role {role_key!r}.", errors={"role": ["No such role."]}
            )
    return Scope(role_id=role_id, area_cell=area)


def window_for(tenant: Tenant, period: str, at: date | None, now: datetime) -> Window:
    """The tenant's week, month or quarter holding the day ``at`` (today by default),
    or "all": from the tenant's first task or its creation, whichever came first, to now."""
    tz = zone_of(tenant)
    if period == "all":
        first = db.session.scalar(select(func.min(Task.created_at)))
        start = min(first, tenant.created_at) if first is not None else tenant.created_at
        return Window(start, max(now, start + timedelta(seconds=1)))
    moment = now if at is None else datetime.combine(at, time(12), tzinfo=tz)
    return metrics.period_window(period, moment, tz)


def _window_view(window: Window, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "start": window.start,
        "end": window.end,
        "months": round(metrics.months_in(window, tz), 3),
    }


def metrics_report(actor: Actor, query: dict[str, Any]) -> dict[str, Any]:
    """Every metric for one period, role and area (``ReportQuerySchema``)."""
    actor.require(Action.VIEW_REPORTS)
    tz, now = zone_of(actor.tenant), utcnow()
    scope = scope_for(query.get("role"), query.get("area"))
    window = window_for(actor.tenant, query["period"], query.get("at"), now)
    return {
        "period": query["period"],
        "window": _window_view(window, tz),
        "role": query.get("role"),
        "area": query.get("area"),
        "metrics": metrics.all_metrics(window, scope, tz, now),
    }


def table_2(actor: Actor, query: dict[str, Any]) -> dict[str, Any]:
    """The NHS evaluation's Table 2 for one period (everything to now by default)."""
    actor.require(Action.VIEW_REPORTS)
    tz, now = zone_of(actor.tenant), utcnow()
    scope = scope_for(query.get("role"), query.get("area"))
    window = window_for(actor.tenant, query["period"], query.get("at"), now)
    return {
        "period": query["period"],
        "window": _window_view(window, tz),
        "rows": metrics.table_2(window, scope, tz),
    }


def months(actor: Actor, query: dict[str, Any]) -> list[dict[str, Any]]:
    """The last six months of completion and time to accept."""
    actor.require(Action.VIEW_REPORTS)
    scope = scope_for(query.get("role"), query.get("area"))
    return metrics.monthly_trend(utcnow(), zone_of(actor.tenant), scope, TREND_MONTHS)


def dashboard(actor: Actor, query: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's numbers: six months of completion and time to accept, the
    volunteer funnel now, Table 2 and the success criteria with their latest status."""
    actor.require(Action.VIEW_REPORTS)
    tz, now = zone_of(actor.tenant), utcnow()
    scope = scope_for(query.get("role"), query.get("area"))
    return {
        "months": metrics.monthly_trend(now, tz, scope, TREND_MONTHS),
        "funnel": metrics.volunteer_counts(now, scope, now),
        "table_2": table_2(actor, {**query, "period": "all"}),
        "criteria": criteria_report(actor),
    }


# -- success criteria ---------------------------------------------------------------------


def list_criteria(actor: Actor) -> Select[tuple[SuccessCriterion]]:
    actor.require(Action.VIEW_REPORTS)
    return select(SuccessCriterion).order_by(SuccessCriterion.position, SuccessCriterion.key)


def _role_keys() -> dict[uuid.UUID, str]:
    return dict(db.session.execute(select(VolunteerRole.id, VolunteerRole.key)).tuples().all())


def present_criteria(rows: list[SuccessCriterion]) -> list[dict[str, Any]]:
    """Criteria with their latest evaluation, in two queries whatever their number."""
    role_keys = _role_keys()
    latest: dict[uuid.UUID, CriterionEvaluation] = {}
    if rows:
        newest = (
            select(
                CriterionEvaluation.criterion_id,
                func.max(CriterionEvaluation.period_start).label("start"),
            )
            .where(CriterionEvaluation.criterion_id.in_([row.id for row in rows]))
            .group_by(CriterionEvaluation.criterion_id)
            .subquery()
        )
        for evaluation in db.session.scalars(
            select(CriterionEvaluation).join(
                newest,
                (CriterionEvaluation.criterion_id == newest.c.criterion_id)
                & (CriterionEvaluation.period_start == newest.c.start),
            )
        ):
            latest[evaluation.criterion_id] = evaluation
    return [present_criterion(row, role_keys, latest.get(row.id)) for row in rows]


def present_criterion(
    criterion: SuccessCriterion,
    role_keys: dict[uuid.UUID, str] | None = None,
    latest: CriterionEvaluation | None = None,
) -> dict[str, Any]:
    role_keys = _role_keys() if role_keys is None else role_keys
    return {
        "id": criterion.id,
        "key": criterion.key,
        "name": criterion.name,
        "metric": criterion.metric,
        "unit": METRICS[criterion.metric].unit,
        "comparison": criterion.comparison,
        "target": criterion.target,
        "period": criterion.period,
        "role": role_keys.get(criterion.role_id) if criterion.role_id else None,
        "area": criterion.area_cell,
        "at_risk_margin": criterion.at_risk_margin,
        "version": criterion.version_id,
        "latest": None if latest is None else present_evaluation(latest),
    }


def etag_of(criterion: SuccessCriterion) -> dict[str, Any]:
    """What a criterion's ETag stands for: the criterion itself, not its latest
    evaluation, so the hourly job does not make an admin's If-Match stale."""
    return {"id": str(criterion.id), "version": criterion.version_id}


def present_evaluation(evaluation: CriterionEvaluation) -> dict[str, Any]:
    return {
        "period_start": evaluation.period_start,
        "period_end": evaluation.period_end,
        "value": evaluation.value,
        "target": evaluation.target,
        "status": evaluation.status,
        "trend": evaluation.trend,
        "evaluated_at": evaluation.evaluated_at,
    }


def criteria_report(actor: Actor) -> list[dict[str, Any]]:
    return present_criteria(list(db.session.scalars(list_criteria(actor)).all()))


def _check_target(metric: str, target: float) -> None:
    if METRICS[metric].unit == "fraction" and target > 1:
        raise Unprocessable(
            "A rate's target is a fraction from 0 to 1.",
            errors={"target": ["A rate's target is a fraction from 0 to 1."]},
        )


def _role_id(role_key: str | None) -> uuid.UUID | None:
    if role_key is None:
        return None
    role_id = scope_for(role_key, None).role_id
    return role_id


def create_criterion(actor: Actor, data: dict[str, Any]) -> SuccessCriterion:
    """A new criterion (``CriterionCreateSchema``); its key must be new in the tenant.
    The next ``tenants apply`` of a file without it removes it: export the file to keep it."""
    actor.require(Action.CHANGE_CONFIGURATION)
    existing = db.session.scalar(
        select(SuccessCriterion.id).where(SuccessCriterion.key == data["key"])
    )
    if existing is not None:
        raise Conflict(
            f"A success criterion with key {data['key']!r} already exists.",
            errors={"key": ["A success criterion with this key already exists."]},
        )
    last = db.session.scalar(select(func.max(SuccessCriterion.position)))
    criterion = SuccessCriterion(
        role_id=_role_id(data.get("role")),
        position=0 if last is None else last + 1,
        **criterion_fields(data),
    )
    try:
        with db.session.begin_nested():
            db.session.add(criterion)
    except IntegrityError:  # two admins adding the same key at once: one wins
        raise Conflict(
            f"A success criterion with key {data['key']!r} already exists.",
            errors={"key": ["A success criterion with this key already exists."]},
        )
    log.info("success criterion %s (%s) added", criterion.id, criterion.key)
    return criterion


def update_criterion(
    actor: Actor, criterion: SuccessCriterion, data: dict[str, Any]
) -> SuccessCriterion:
    """Change the fields given (``CriterionUpdateSchema``); unchanged values write nothing."""
    actor.require(Action.CHANGE_CONFIGURATION)
    metric = data.get("metric", criterion.metric)
    _check_target(metric, data.get("target", criterion.target))
    if "role" in data:
        role_id = _role_id(data["role"])
        if role_id != criterion.role_id:
            criterion.role_id = role_id
    for column, value in criterion_fields(data).items():
        if getattr(criterion, column) != value:
            setattr(criterion, column, value)
    db.session.flush()
    return criterion


def delete_criterion(actor: Actor, criterion: SuccessCriterion) -> None:
    """Remove a criterion with its history."""
    actor.require(Action.CHANGE_CONFIGURATION)
    db.session.delete(criterion)
    db.session.flush()


def history(actor: Actor, criterion: SuccessCriterion) -> Select[tuple[CriterionEvaluation]]:
    """A criterion's evaluations, the latest period first."""
    actor.require(Action.VIEW_REPORTS)
    return (
        select(CriterionEvaluation)
        .where(CriterionEvaluation.criterion_id == criterion.id)
        .order_by(CriterionEvaluation.period_start.desc())
    )


# -- evaluation ---------------------------------------------------------------------------


def status_of(criterion: SuccessCriterion, value: float | None) -> Status:
    """Met: on the right side of the target. At risk: on the wrong side by no more than
    ``at_risk_margin`` of the target. Missed: further off. No data: nothing to measure."""
    if value is None:
        return Status.NO_DATA
    target, margin = criterion.target, criterion.at_risk_margin * criterion.target
    if criterion.comparison == Comparison.AT_LEAST:
        if value >= target:
            return Status.MET
        return Status.AT_RISK if value >= target - margin else Status.MISSED
    if value <= target:
        return Status.MET
    return Status.AT_RISK if value <= target + margin else Status.MISSED


def trend_of(
    criterion: SuccessCriterion, value: float | None, before: float | None
) -> Trend | None:
    """Better, worse or the same as the previous period, in the criterion's direction."""
    if value is None or before is None:
        return None
    if value == before:
        return Trend.SAME
    higher_is_better = criterion.comparison == Comparison.AT_LEAST
    return Trend.BETTER if (value > before) == higher_is_better else Trend.WORSE


def evaluate(
    criterion: SuccessCriterion, window: Window, tz: ZoneInfo, now: datetime
) -> CriterionEvaluation:
    """Measure one criterion over one period into its history: one row per criterion and
    period, updated in place when measured again (two jobs at once: one row)."""
    scope = Scope(role_id=criterion.role_id, area_cell=criterion.area_cell)
    value = metrics.measure(criterion.metric, window, scope, tz, now)
    previous = metrics.previous_window(criterion.period, window, tz)
    before = db.session.scalar(
        select(CriterionEvaluation.value).where(
            CriterionEvaluation.criterion_id == criterion.id,
            CriterionEvaluation.period_start == previous.start,
        )
    )
    fields = {
        "period_end": window.end,
        "value": value,
        "target": criterion.target,
        "status": status_of(criterion, value).value,
        "trend": trend.value if (trend := trend_of(criterion, value, before)) else None,
        "evaluated_at": now,
    }
    row = _evaluation_of(criterion, window)
    if row is None:
        row = CriterionEvaluation(criterion_id=criterion.id, period_start=window.start, **fields)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # another job measured it first: ours is as new
            row = _evaluation_of(criterion, window)
            assert row is not None
        else:
            return row
    for name, new in fields.items():
        if getattr(row, name) != new:
            setattr(row, name, new)
    db.session.flush()
    return row


def _evaluation_of(criterion: SuccessCriterion, window: Window) -> CriterionEvaluation | None:
    return db.session.scalar(
        select(CriterionEvaluation).where(
            CriterionEvaluation.criterion_id == criterion.id,
            CriterionEvaluation.period_start == window.start,
        )
    )


def evaluate_all(tenant: Tenant, now: datetime | None = None) -> int:
    """Every criterion over its current period and the one before (so a period that has
    just ended gets its final figures); idempotent. The number of evaluations written."""
    now = now or utcnow()
    tz = zone_of(tenant)
    count = 0
    for criterion in db.session.scalars(
        select(SuccessCriterion).order_by(SuccessCriterion.position)
    ).all():
        current = metrics.period_window(criterion.period, now, tz)
        evaluate(criterion, metrics.previous_window(criterion.period, current, tz), tz, now)
        evaluate(criterion, current, tz, now)
        count += 2
    return count


# Months back whose ends the first count keeps (a year's monthly Table 2 reads kept counts).
KEPT_MONTHS = 13


def keep_volunteer_counts(tenant: Tenant, now: datetime | None = None) -> int:
    """Count the tenant's volunteers at its last local midnight, the end of every
    period that has just ended, and keep them for Table 2 (``metrics.volunteers_by_role``
    reads them); the first run also keeps the start of each of the last 13 months.
    Idempotent: what is kept is never counted again. The number of moments counted."""
    now = now or utcnow()
    tz = zone_of(tenant)
    today = local_midnight(now.astimezone(tz).date(), tz)
    moments = {today, *(w.start for w in metrics.months_back(now, tz, KEPT_MONTHS))}
    return sum(metrics.keep_volunteer_counts(moment, now) for moment in sorted(moments))


# -- the board's export -------------------------------------------------------------------

EXPORT_COLUMNS = (
    "key",
    "name",
    "metric",
    "unit",
    "comparison",
    "target",
    "period",
    "role",
    "area",
    "period_start",
    "period_end",
    "value",
    "status",
    "trend",
    "evaluated_at",
)


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment else ""


def export_csv(actor: Actor) -> str:
    """The evaluation: each criterion with its latest period measured, as CSV."""
    actor.require(Action.VIEW_REPORTS)
    tz = zone_of(actor.tenant)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for view in criteria_report(actor):
        latest = view["latest"] or {}
        writer.writerow(
            [
                view["key"],
                safe_cell(view["name"]),
                view["metric"],
                view["unit"],
                view["comparison"],
                f"{view['target']:g}",
                view["period"],
                view["role"] or "",
                view["area"] or "",
                _local(latest.get("period_start"), tz),
                _local(latest.get("period_end"), tz),
                "" if latest.get("value") is None else f"{latest['value']:g}",
                latest.get("status", ""),
                latest.get("trend") or "",
                _local(latest.get("evaluated_at"), tz),
            ]
        )
    return out.getvalue()


def export_pdf(actor: Actor) -> bytes:
    """The evaluation on one page for the board: each criterion's latest status, and
    the tenant's Table 2 totals to date."""
    from nyby.reporting.board import board_pdf  # fpdf2 only when a PDF is asked for

    actor.require(Action.VIEW_REPORTS)
    now = utcnow()
    table = table_2(actor, {"period": "all"})
    return board_pdf(actor.tenant, criteria_report(actor), table["rows"][-1], now)
