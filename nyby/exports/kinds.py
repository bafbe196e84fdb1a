"""What can be exported: one entry per kind, its header and its rows in batches.

A kind never reads everything at once (one tenant may hold 1.8 million tasks): ``rows``
yields batches read by keyset (``id > the last one``, in primary-key order), each a
fresh query, so the job can commit its progress between batches. ``count`` says how
many rows to expect, for the progress bar.

A kind is one ``register(ExportKind(key, title, header, count, rows, description))``
below: tasks, volunteers and metrics.

Cells are plain values (text, numbers, booleans, times, None); the job writes them in
the tenant's zone and neutralises text a spreadsheet would run as a formula.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext
from sqlalchemy import ColumnElement, Select, func, select, true

from nyby.auth.models import Account
from nyby.configuration.models import TaskCategory, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.members.duty import on_duty_at
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, RoleAssignment
from nyby.reporting.metrics import (
    METRICS,
    Scope,
    Window,
    all_metrics,
    month_label,
    months_back,
    period_window,
)
from nyby.tasks.models import Task, TaskStatus

Row = Sequence[Any]


@dataclass(frozen=True)
class Period:
    """Local days in the tenant's zone, both included; None: no bound."""

    start: date | None
    end: date | None
    zone: ZoneInfo

    @classmethod
    def of(cls, parameters: dict[str, Any], zone: ZoneInfo) -> Period:
        start, end = parameters.get("from"), parameters.get("to")
        return cls(
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
            zone,
        )

    def covers(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a UTC timestamp) falls on one of the period's local days."""
        condition: ColumnElement[bool] = true()
        if self.start is not None:
            condition = condition & (column >= datetime.combine(self.start, time(0), self.zone))
        if self.end is not None:
            after = datetime.combine(self.end + timedelta(days=1), time(0), self.zone)
            condition = condition & (column < after)
        return condition


@dataclass(frozen=True)
class ExportKind:
    key: str
    title: Any  # a lazy string, shown on the page
    header: tuple[str, ...]
    count: Callable[[Period], int]
    rows: Callable[[Period, int], Iterator[list[Row]]]
    description: Any = ""


KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    KINDS[kind.key] = kind
    return kind


def _keyset(statement: Select[Any], key: Any, size: int) -> Iterator[list[Any]]:
    """``statement``'s rows in batches of ``size``, in ``key`` order, each batch one
    query starting after the last key seen (no cursor held open between batches)."""
    after: uuid.UUID | None = None
    while True:
        page = statement.order_by(key).limit(size)
        if after is not None:
            page = page.where(key > after)
        rows = list(db.session.execute(page).all())
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        after = rows[-1][0]


# -- tasks: no client data but the client's id ------------------------------------------

TASK_HEADER = (
    "task_id",
    "client_id",
    "role",
    "category",
    "status",
    "urgency",
    "posted_at",
    "earliest_start",
    "due_by",
    "assigned_at",
    "started_at",
    "completed_at",
    "estimated_minutes",
    "minutes_spent",
    "area_cell",
    "posted_by_member_id",
    "assignee_member_id",
)


def _count_tasks(period: Period) -> int:
    return db.session.scalar(select(func.count(Task.id)).where(period.covers(Task.created_at))) or 0


def _task_rows(period: Period, size: int) -> Iterator[list[Row]]:
    # A tenant has a handful of roles and categories: their keys once, not a join per row.
    roles = dict(db.session.execute(select(VolunteerRole.id, VolunteerRole.key)).tuples().all())
    categories = dict(db.session.execute(select(TaskCategory.id, TaskCategory.key)).tuples().all())
    statement = select(
        Task.id,
        Task.client_id,
        Task.role_id,
        Task.category_id,
        Task.status,
        Task.urgency,
        Task.created_at,
        Task.earliest_start,
        Task.due_by,
        Task.assigned_at,
        Task.started_at,
        Task.completed_at,
        Task.estimated_minutes,
        Task.minutes_spent,
        Task.area_cell,
        Task.posted_by,
        Task.assignee_id,
    ).where(period.covers(Task.created_at))
    for batch in _keyset(statement, Task.id, size):
        yield [
            [
                row.id,
                row.client_id,
                roles.get(row.role_id, ""),
                categories.get(row.category_id, "") if row.category_id else None,
                row.status,
                row.urgency,
                row.created_at,
                row.earliest_start,
                row.due_by,
                row.assigned_at,
                row.started_at,
                row.completed_at,
                row.estimated_minutes,
                row.minutes_spent,
                row.area_cell,
                row.posted_by,
                row.assignee_id,
            ]
            for row in batch
        ]


register(
    ExportKind(
        "tasks",
        lazy_gettext("Tasks"),
        TASK_HEADER,
        _count_tasks,
        _task_rows,
        lazy_gettext(
            "Every task posted in the period: times, role, status and area; the client by id only."
        ),
    )
)

# -- volunteers: what admins already see of them, and what they did ------------------------

VOLUNTEER_HEADER = (
    "member_id",
    "name",
    "email",
    "active",
    "joined_at",
    "first_approved_at",
    "roles",
    "roles_approved_at",
    "on_duty",
    "tasks_completed",
    "hours",
)


def _count_volunteers(period: Period) -> int:
    return db.session.scalar(select(func.count(Membership.id)).where(Membership.is_volunteer)) or 0


def _volunteer_rows(period: Period, size: int) -> Iterator[list[Row]]:
    roles = dict(db.session.execute(select(VolunteerRole.id, VolunteerRole.key)).tuples().all())
    statement = (
        select(
            Membership.id,
            Account.name,
            Account.email,
            Membership.is_active,
            Membership.created_at,
            Membership.first_approved_at,
            Membership.on_duty,
            Membership.on_duty_until,
        )
        .join(Account, Account.id == Membership.account_id)
        .where(Membership.is_volunteer)
    )
    now = utcnow()
    for batch in _keyset(statement, Membership.id, size):
        ids = [row.id for row in batch]
        approved: dict[uuid.UUID, list[tuple[str, datetime | None]]] = {}
        for member_id, role_id, approved_at in db.session.execute(
            select(RoleAssignment.membership_id, RoleAssignment.role_id, RoleAssignment.approved_at)
            .where(
                RoleAssignment.membership_id.in_(ids),
                RoleAssignment.status == AssignmentStatus.APPROVED.value,
            )
            .order_by(RoleAssignment.membership_id)
        ):
            approved.setdefault(member_id, []).append((roles.get(role_id, ""), approved_at))
        done = {
            member_id: (count, minutes or 0)
            for member_id, count, minutes in db.session.execute(
                select(Task.assignee_id, func.count(Task.id), func.sum(Task.minutes_spent))
                .where(
                    Task.assignee_id.in_(ids),
                    Task.status == TaskStatus.COMPLETED.value,
                    period.covers(Task.completed_at),
                )
                .group_by(Task.assignee_id)
            )
        }
        rows: list[Row] = []
        for row in batch:
            held = sorted(approved.get(row.id, []), key=lambda pair: pair[0])
            count, minutes = done.get(row.id, (0, 0))
            rows.append(
                [
                    row.id,
                    row.name,
                    row.email,
                    row.is_active,
                    row.created_at,
                    row.first_approved_at,
                    "; ".join(key for key, _ in held),
                    "; ".join(
                        when.astimezone(period.zone).date().isoformat() if when else ""
                        for _, when in held
                    ),
                    on_duty_at(row, now),  # type: ignore[arg-type]
                    count,
                    (Decimal(minutes) / 60).quantize(Decimal("0.01")),
                ]
            )
        yield rows


register(
    ExportKind(
        "volunteers",
        lazy_gettext("Volunteers"),
        VOLUNTEER_HEADER,
        _count_volunteers,
        _volunteer_rows,
        lazy_gettext(
            "Every volunteer: name, email, roles and when they were approved, "
            "on duty now, tasks completed and hours in the period."
        ),
    )
)


# -- metrics: one row a month, every metric (nyby.reporting.metrics says how each counts) --

METRICS_HEADER = ("month", *METRICS)
# Without a period: the last twelve months.
DEFAULT_MONTHS = 12


def _metric_months(period: Period) -> list[Window]:
    """The tenant-local months the period touches, oldest first."""
    zone = period.zone
    last = datetime.combine(period.end, time(12), zone) if period.end is not None else utcnow()
    if period.start is None:
        return months_back(last, zone, DEFAULT_MONTHS)
    months = [period_window("month", datetime.combine(period.start, time(12), zone), zone)]
    while months[-1].end <= last:
        months.append(period_window("month", months[-1].end, zone))
    return months


def _metric_rows(period: Period, size: int) -> Iterator[list[Row]]:
    rows: list[Row] = []
    now = utcnow()
    for window in _metric_months(period):
        values = all_metrics(window, Scope(), period.zone, now)
        rows.append([month_label(window, period.zone), *(values[key] for key in METRICS)])
        if len(rows) == size:
            yield rows
            rows = []
    if rows:
        yield rows


register(
    ExportKind(
        "metrics",
        lazy_gettext("Metrics"),
        METRICS_HEADER,
        lambda period: len(_metric_months(period)),
        _metric_rows,
        lazy_gettext(
            "Every metric of the dashboard, one row a month of the period (the last twelve "
            "months without one), counted as the README says."
        ),
    )
)
