"""Reporting: every metric and the NHS evaluation's Table 2 against a tenant seeded with
generated activity whose true figures the test works out for itself; success criteria
that flip from met to missed when the data changes; exports for the board; who may see
what."""

from __future__ import annotations

import csv
import io
import random
import statistics
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.clients.models import Client
from nyby.configuration import services as configuration
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.members.models import Membership
from nyby.onboarding.models import RoleAssignment
from nyby.reporting import metrics
from nyby.reporting import services as reporting
from nyby.reporting.jobs import evaluate_success_criteria, keep_volunteer_counts
from nyby.reporting.models import CriterionEvaluation, SuccessCriterion, VolunteerCount
from nyby.reporting.services import status_of
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World, all_at_once
from tests.test_web_tasks import signed_in

SLUG = "metricsville"
API = f"/api/v1/tenants/{SLUG}/reporting"
# March 2026 in Oslo: from 1 March 00:00 (+01:00) to 1 April 00:00 (+02:00, summer time).
MARCH = (datetime(2026, 2, 28, 23, tzinfo=UTC), datetime(2026, 3, 31, 22, tzinfo=UTC))
BASE = datetime(2026, 1, 1, tzinfo=UTC)
ROLES = ("shopper", "caller")
# An area of the tenant: one resolution-6 cell; two of its resolution-7 children are used,
# and one cell elsewhere.
PARENT = h3.latlng_to_cell(51.5072, -0.1276, 6)
INSIDE = sorted(h3.cell_to_children(PARENT, 7))[:2]
OUTSIDE = h3.latlng_to_cell(53.4808, -2.2426, 7)
CELLS = [*INSIDE, OUTSIDE]


def document(timezone: str = "Europe/Oslo") -> dict[str, Any]:
    return {
        "slug": SLUG,
        "name": "Metricsville",
        "kind": "charity",
        "locale": "en",
        "timezone": timezone,
        "roles": [
            {"key": "shopper", "name": "Shopper", "description": "Shops."},
            {"key": "caller", "name": "Caller", "description": "Calls.", "remote": True},
        ],
        "success_criteria": [
            {
                "key": "completion",
                "name": "Tasks completed",
                "metric": "completion_rate",
                "target": 0.8,
                "period": "month",
            },
        ],
    }


@pytest.fixture
def tenant(app: Flask, world: World) -> Tenant:
    created = world.tenant(SLUG)
    with app.app_context():
        configuration.apply(db.session(), document())
        db.session.commit()
    return created


@pytest.fixture
def admin(world: World, tenant: Tenant) -> Person:
    return world.person(tenant, Role.ADMIN)


# -- the generated activity ----------------------------------------------------------------


@dataclass
class Volunteer:
    id: uuid.UUID
    created: datetime
    cell: str
    approved: dict[str, datetime | None]  # role key -> approved_at (None: applied only)
    first_on_duty: datetime | None
    on_duty_now: bool
    deactivated: datetime | None
    first_approved: datetime | None = None


@dataclass
class Job:
    role: str
    cell: str
    created: datetime
    status: str
    client: int | None
    assignee: uuid.UUID | None = None
    assigned: datetime | None = None
    completed: datetime | None = None
    minutes: int | None = None


@dataclass
class Activity:
    volunteers: list[Volunteer] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)


def minute(rng: random.Random, days: int, after: datetime = BASE) -> datetime:
    return after + timedelta(minutes=rng.randrange(days * 24 * 60))


def generate(seed: int = 8) -> Activity:
    rng = random.Random(seed)
    activity = Activity()
    for _ in range(36):
        created = minute(rng, 110)
        approved: dict[str, datetime | None] = {}
        for role in ROLES:
            chance = rng.random()
            if chance < 0.55:
                approved[role] = created + timedelta(minutes=rng.randrange(60, 30 * 24 * 60))
            elif chance < 0.7:
                approved[role] = None  # applied, not (yet) approved
        times = [t for t in approved.values() if t is not None]
        first_on_duty = None
        if times and rng.random() < 0.7:
            first_on_duty = min(times) + timedelta(minutes=rng.randrange(10, 20 * 24 * 60))
        deactivated = None
        if rng.random() < 0.15:
            deactivated = created + timedelta(days=rng.randrange(5, 80))
        activity.volunteers.append(
            Volunteer(
                id=uuid.uuid4(),
                created=created,
                cell=rng.choice(CELLS),
                approved=approved,
                first_on_duty=first_on_duty,
                on_duty_now=first_on_duty is not None and rng.random() < 0.5,
                deactivated=deactivated,
                first_approved=min(times) if times else None,
            )
        )
    statuses = ["completed"] * 10 + ["open", "assigned", "in_progress"] * 1
    statuses += ["expired", "expired", "unmet", "cancelled", "cancelled"]
    for _ in range(140):
        role = rng.choice(ROLES)
        status = rng.choice(statuses)
        job = Job(
            role=role,
            cell=rng.choice(CELLS),
            created=minute(rng, 100, BASE + timedelta(days=20)),
            status=status,
            client=None if rng.random() < 0.2 else rng.randrange(4),
        )
        if status in ("completed", "assigned", "in_progress"):
            able = [v for v in activity.volunteers if v.approved.get(role)]
            job.assignee = rng.choice(able or activity.volunteers).id
            job.assigned = job.created + timedelta(minutes=rng.randrange(1, 3000))
        if status == "completed":
            assert job.assigned is not None
            job.completed = job.assigned + timedelta(minutes=rng.randrange(30, 5000))
            job.minutes = rng.randrange(10, 180)
        activity.jobs.append(job)
    return activity


def store(app: Flask, tenant: Tenant, activity: Activity) -> None:
    """Write the activity as rows, as the services would have left them."""
    with app.app_context(), tenant_scope(tenant.id):
        roles = dict(db.session.execute(select(VolunteerRole.key, VolunteerRole.id)).tuples().all())
        nurse = Membership(
            account_id=_account().id, is_professional=True, created_at=BASE, updated_at=BASE
        )
        db.session.add(nurse)
        for v in activity.volunteers:
            db.session.add(
                Membership(
                    id=v.id,
                    account_id=_account().id,
                    is_volunteer=True,
                    created_at=v.created,
                    home_area_cell=v.cell,
                    first_on_duty_at=v.first_on_duty,
                    on_duty=v.on_duty_now,
                    first_approved_at=v.first_approved,
                    is_active=v.deactivated is None,
                    deactivated_at=v.deactivated,
                )
            )
        db.session.flush()
        for v in activity.volunteers:
            for key, at in v.approved.items():
                db.session.add(
                    RoleAssignment(
                        membership_id=v.id,
                        role_id=roles[key],
                        status="approved" if at else "applied",
                        approved_at=at,
                    )
                )
        clients = [
            Client(
                name=f"Client {i}",
                latitude=51.5,
                longitude=-0.12,
                area_cell=INSIDE[0],
                street_cell=INSIDE[0],
            )
            for i in range(4)
        ]
        db.session.add_all(clients)
        db.session.flush()
        for job in activity.jobs:
            db.session.add(
                Task(
                    role_id=roles[job.role],
                    posted_by=nurse.id,
                    client_id=None if job.client is None else clients[job.client].id,
                    title="A task",
                    estimated_minutes=30,
                    area_cell=job.cell,
                    earliest_start=job.created,
                    due_by=job.created + timedelta(days=3),
                    created_at=job.created,
                    updated_at=job.created,
                    status=job.status,
                    assignee_id=job.assignee,
                    assigned_at=job.assigned,
                    completed_at=job.completed,
                    minutes_spent=job.minutes,
                )
            )
        db.session.commit()


def _account() -> Account:
    account = Account(email=f"{uuid.uuid4().hex[:12]}@example.org", name="Generated Person")
    db.session.add(account)
    db.session.flush()
    return account


# -- the true figures, worked out from the generated activity alone --------------------------


def quantile(values: list[float], which: str) -> float | None:
    if not values:
        return None
    if which == "median":
        return round(statistics.median(values), 1)
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=10, method="inclusive")[8], 1)


def truth(
    activity: Activity, start: datetime, end: datetime, role: str | None, cells: list[str]
) -> dict[str, Any]:
    now = utcnow()
    jobs = [
        j
        for j in activity.jobs
        if start <= j.created < end and (role is None or j.role == role) and j.cell in cells
    ]
    done = [j for j in jobs if j.status == "completed"]
    waits = sorted((j.assigned - j.created).total_seconds() / 60 for j in jobs if j.assigned)

    def approved(v: Volunteer) -> bool:
        held = [at for key, at in v.approved.items() if role is None or key == role]
        return any(at is not None and at < end for at in held)

    def active(v: Volunteer) -> bool:
        recent = min(end, now)
        return any(
            j.assignee == v.id
            and j.status == "completed"
            and (role is None or j.role == role)
            and j.completed is not None
            and recent - timedelta(days=30) <= j.completed < recent
            for j in activity.jobs
        )

    members = [
        v
        for v in activity.volunteers
        if v.created < end and (v.deactivated is None or v.deactivated >= end) and v.cell in cells
    ]
    approved_people = [v for v in members if approved(v)]
    with_client = [j for j in done if j.client is not None]
    repeated = [
        j
        for j in with_client
        if any(
            o.client == j.client
            and o.assignee == j.assignee
            and o.status == "completed"
            and o.completed is not None
            and j.completed is not None
            and o.completed < j.completed
            for o in activity.jobs
        )
    ]
    first_approvals = sorted(
        (v.first_approved - v.created).total_seconds() / 60
        for v in activity.volunteers
        if v.first_approved is not None
        and start <= v.first_approved < end
        and v.cell in cells
        and (role is None or (v.approved.get(role) is not None and v.approved[role] < end))  # type: ignore[operator]
    )
    return {
        "approved_volunteers": len(approved_people),
        "volunteers_on_duty": sum(
            1 for v in approved_people if v.first_on_duty is not None and v.first_on_duty < end
        ),
        "tasks_created": len(jobs),
        "tasks_completed": len(done),
        "completion_rate": round(len(done) / len(jobs), 4) if jobs else None,
        "completed_per_month": round(len(done) / 1.0, 1),  # March is one whole month
        "time_to_accept_median": quantile(waits, "median"),
        "time_to_accept_p90": quantile(waits, "p90"),
        "unmet_tasks": sum(1 for j in jobs if j.status in ("expired", "unmet")),
        "signup_to_approval_median": quantile(first_approvals, "median"),
        "active_volunteers": sum(1 for v in approved_people if active(v)),
        "idle_on_duty_volunteers": sum(
            1 for v in approved_people if v.on_duty_now and not active(v)
        ),
        "repeat_client_continuity": (
            round(len(repeated) / len(with_client), 4) if with_client else None
        ),
        "volunteer_hours": round(sum(j.minutes or 0 for j in done) / 60, 2),
    }


# -- the tests -------------------------------------------------------------------------------


def test_every_metric_and_table_2_match_the_true_figures(
    app: Flask, client: FlaskClient, tenant: Tenant, admin: Person
) -> None:
    activity = generate()
    store(app, tenant, activity)
    # The generated data has some of everything, or the comparison below proves little.
    march = truth(activity, *MARCH, None, CELLS)
    assert march["tasks_created"] > 30 and 0 < march["tasks_completed"] < march["tasks_created"]
    assert march["unmet_tasks"] and march["approved_volunteers"] > 10
    assert 0 < march["repeat_client_continuity"] < 1
    assert 0 < march["volunteers_on_duty"] < march["approved_volunteers"]

    for role, area, cells in (
        (None, None, CELLS),
        ("shopper", None, CELLS),
        ("caller", None, CELLS),
        (None, PARENT, INSIDE),
        ("shopper", INSIDE[1], [INSIDE[1]]),
    ):
        query = {"period": "month", "at": "2026-03-15"}
        if role:
            query["role"] = role
        if area:
            query["area"] = area
        answer = client.get(f"{API}/metrics", query_string=query, headers=admin.headers)
        assert answer.status_code == 200, answer.json
        assert answer.json["window"]["start"] == "2026-02-28T23:00:00+00:00"
        assert answer.json["window"]["end"] == "2026-03-31T22:00:00+00:00"
        assert answer.json["window"]["months"] == 1.0
        assert answer.json["metrics"] == truth(activity, *MARCH, role, cells), (role, area)

    table = client.get(
        f"{API}/table-2",
        query_string={"period": "month", "at": "2026-03-02"},
        headers=admin.headers,
    )
    assert table.status_code == 200, table.json
    rows = {row["role_key"]: row for row in table.json["rows"]}
    assert list(rows) == ["shopper", "caller", None]  # per role in the file's order, then total
    for key in ("shopper", "caller", None):
        expected = truth(activity, *MARCH, key, CELLS)
        assert rows[key] == {
            "role_key": key,
            "role_name": {"shopper": "Shopper", "caller": "Caller", None: None}[key],
            **{
                name: expected[name]
                for name in (
                    "approved_volunteers",
                    "volunteers_on_duty",
                    "tasks_created",
                    "tasks_completed",
                    "completion_rate",
                    "completed_per_month",
                )
            },
        }
    # Tasks add up across roles; a volunteer approved in both roles counts once in total.
    assert (
        rows[None]["tasks_created"]
        == rows["shopper"]["tasks_created"] + (rows["caller"]["tasks_created"])
    )
    assert rows[None]["approved_volunteers"] < (
        rows["shopper"]["approved_volunteers"] + rows["caller"]["approved_volunteers"]
    )


def test_a_past_months_volunteers_are_kept_as_counted_when_it_ended(
    app: Flask, client: FlaskClient, tenant: Tenant, admin: Person
) -> None:
    activity = generate()
    store(app, tenant, activity)
    in_april = datetime(2026, 4, 10, 9, tzinfo=UTC)
    with app.app_context(), tenant_scope(tenant.id):
        # Today's midnight and thirteen months' starts, the end of March among them;
        # a second run counts nothing again.
        oslo = db.session.get_one(Tenant, tenant.id)
        assert reporting.keep_volunteer_counts(oslo, in_april) == 14
        assert reporting.keep_volunteer_counts(oslo, in_april) == 0
        db.session.commit()

    def table(**query: str) -> dict[str | None, dict[str, Any]]:
        answer = client.get(
            f"{API}/table-2",
            query_string={"period": "month", "at": "2026-03-02", **query},
            headers=admin.headers,
        )
        assert answer.status_code == 200, answer.json
        return {row["role_key"]: row for row in answer.json["rows"]}

    def approved(rows: dict[str | None, dict[str, Any]]) -> dict[str | None, int]:
        return {key: row["approved_volunteers"] for key, row in rows.items()}

    kept = table()
    expected = {key: truth(activity, *MARCH, key, CELLS) for key in ("shopper", "caller", None)}
    assert approved(kept) == {k: v["approved_volunteers"] for k, v in expected.items()}
    assert {k: r["volunteers_on_duty"] for k, r in kept.items()} == {
        k: v["volunteers_on_duty"] for k, v in expected.items()
    }
    in_area = approved(table(area=PARENT))

    # After March, a shopper approved before its end is suspended: March's table still
    # shows the volunteers as they stood when it ended, for every role and one role;
    # a table by area is counted again, and so is the month still running.
    shopper = next(
        v
        for v in activity.volunteers
        if (at := v.approved.get("shopper"))
        and at < MARCH[0]
        and v.deactivated is None
        and v.cell in INSIDE
    )
    now_before = approved(table(at=utcnow().date().isoformat()))
    with app.app_context(), tenant_scope(tenant.id):
        assignment = db.session.scalar(
            select(RoleAssignment)
            .join(VolunteerRole, VolunteerRole.id == RoleAssignment.role_id)
            .where(RoleAssignment.membership_id == shopper.id, VolunteerRole.key == "shopper")
        )
        assert assignment is not None
        assignment.status = "suspended"
        db.session.commit()
    assert table() == kept
    assert approved(table(role="shopper"))["shopper"] == kept["shopper"]["approved_volunteers"]
    assert approved(table(area=PARENT))["shopper"] == in_area["shopper"] - 1
    assert approved(table(at=utcnow().date().isoformat()))["shopper"] == (now_before["shopper"] - 1)


def test_periods_follow_the_tenants_calendar() -> None:
    oslo = metrics.ZoneInfo("Europe/Oslo")
    at = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # already 1 April in Oslo
    month = metrics.period_window("month", at, oslo)
    assert month == metrics.Window(
        datetime(2026, 3, 31, 22, tzinfo=UTC), datetime(2026, 4, 30, 22, tzinfo=UTC)
    )
    quarter = metrics.period_window("quarter", at, oslo)
    assert quarter.start == datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert quarter.end == datetime(2026, 6, 30, 22, tzinfo=UTC)
    assert metrics.months_in(quarter, oslo) == pytest.approx(3.0)
    week = metrics.period_window("week", at, oslo)  # Wednesday 1 April: Monday 30 March
    assert week.start == datetime(2026, 3, 29, 22, tzinfo=UTC)
    # 30-31 March of a March one hour short (summer time), then 1-5 April.
    assert metrics.months_in(week, oslo) == pytest.approx(48 / 743 + 120 / 720)
    before = metrics.previous_window("month", month, oslo)
    assert before.end == month.start and before.start == datetime(2026, 2, 28, 23, tzinfo=UTC)


def _tasks(app: Flask, tenant: Tenant, times: list[datetime], status: str) -> None:
    with app.app_context(), tenant_scope(tenant.id):
        role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == "caller")).one()
        poster = db.session.scalars(select(Membership)).first()
        assert poster is not None
        for at in times:
            db.session.add(
                Task(
                    role_id=role.id,
                    posted_by=poster.id,
                    title="Call",
                    estimated_minutes=20,
                    earliest_start=at,
                    due_by=at + timedelta(days=1),
                    created_at=at,
                    status=status,
                )
            )
        db.session.commit()


def run_evaluation(app: Flask, tenant: Tenant) -> int:
    with app.app_context():
        written: int = evaluate_success_criteria(str(tenant.id))
        return written


def test_a_criterion_flips_from_met_to_missed_when_the_data_changes(
    app: Flask, client: FlaskClient, tenant: Tenant, admin: Person
) -> None:
    oslo = metrics.ZoneInfo("Europe/Oslo")
    now = utcnow()
    this_month = metrics.period_window("month", now, oslo)
    last_month = metrics.previous_window("month", this_month, oslo)
    so_far = now - this_month.start

    def within(window: metrics.Window, share: float) -> datetime:
        span = min(window.end, now) - window.start
        return window.start + span * share

    # Last month 9 of 10 done (90 %); this month so far 4 of 4 (100 %): both met.
    _tasks(app, tenant, [within(last_month, i / 10) for i in range(9)], "completed")
    _tasks(app, tenant, [within(last_month, 0.95)], "expired")
    _tasks(app, tenant, [within(this_month, i / 5) for i in range(4)], "completed")
    assert so_far > timedelta(0)

    assert run_evaluation(app, tenant) == 2
    [criterion] = client.get(f"{API}/criteria", headers=admin.headers).json
    assert criterion["latest"]["status"] == "met" and criterion["latest"]["trend"] == "better"
    assert criterion["latest"]["value"] == 1.0
    assert criterion["latest"]["period_start"] == this_month.start.isoformat()

    # Six more this month expire: 4 of 10 done, missed and worse than last month's 90 %.
    _tasks(app, tenant, [within(this_month, 0.5 + i / 20) for i in range(6)], "expired")
    assert run_evaluation(app, tenant) == 2
    assert run_evaluation(app, tenant) == 2  # again: the same rows
    [criterion] = client.get(f"{API}/criteria", headers=admin.headers).json
    assert criterion["latest"]["status"] == "missed" and criterion["latest"]["trend"] == "worse"
    assert criterion["latest"]["value"] == 0.4

    history = client.get(f"{API}/criteria/{criterion['id']}/history", headers=admin.headers)
    assert [(e["status"], e["value"]) for e in history.json] == [("missed", 0.4), ("met", 0.9)]
    with app.app_context(), tenant_scope(tenant.id):
        count = db.session.scalar(select(func.count()).select_from(CriterionEvaluation))
    assert count == 2  # one row per criterion and period, however often it runs

    # The board's exports hold the figures.
    exported = client.get(f"{API}/criteria/export.csv", headers=admin.headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    assert row["key"] == "completion" and row["value"] == "0.4" and row["status"] == "missed"
    assert row["trend"] == "worse" and row["target"] == "0.8"
    pdf = client.get(f"{API}/criteria/export.pdf", headers=admin.headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Success criteria: Metricsville" in text
    assert "Tasks completed" in text and "at least 80 %" in text
    assert "40 %" in text and "Missed" in text and "Worse" in text
    assert "Tasks created" in text and "20" in text  # Table 2's totals: 10 + 10 tasks


def test_status_is_at_risk_within_the_margin() -> None:
    at_least = SuccessCriterion(comparison="at_least", target=0.8, at_risk_margin=0.1)
    assert [status_of(at_least, v) for v in (0.8, 0.72, 0.71, None)] == [
        "met",
        "at_risk",
        "missed",
        "no_data",
    ]
    at_most = SuccessCriterion(comparison="at_most", target=60, at_risk_margin=0.25)
    assert [status_of(at_most, v) for v in (60, 75, 75.1)] == ["met", "at_risk", "missed"]


def test_admins_keep_criteria_through_the_api(
    app: Flask, client: FlaskClient, tenant: Tenant, admin: Person, world: World
) -> None:
    body = {
        "key": "quick",
        "name": "Accepted within the hour",
        "metric": "time_to_accept_median",
        "comparison": "at_most",
        "target": 60,
        "role": "shopper",
        "area": PARENT,
    }
    headers = {**admin.headers, "Idempotency-Key": "criterion-1"}
    created = client.post(f"{API}/criteria", json=body, headers=headers)
    assert created.status_code == 201, created.json
    again = client.post(f"{API}/criteria", json=body, headers=headers)
    assert again.status_code == 201 and again.json["id"] == created.json["id"]
    assert created.json["role"] == "shopper" and created.json["area"] == PARENT
    assert created.json["unit"] == "minutes" and created.json["at_risk_margin"] == 0.1
    duplicate = client.post(f"{API}/criteria", json=body, headers=admin.headers)
    assert duplicate.status_code == 409

    url = f"{API}/criteria/{created.json['id']}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    changed = client.patch(
        url, json={"target": 45, "role": None}, headers={**admin.headers, "If-Match": etag}
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["target"] == 45 and changed.json["role"] is None
    stale = client.patch(url, json={"target": 30}, headers={**admin.headers, "If-Match": etag})
    assert stale.status_code == 412
    missing = client.patch(url, json={"target": 30}, headers=admin.headers)
    assert missing.status_code == 428

    # The tenant file's export now holds it; applying the file without it removes it.
    exported = client.get(f"/api/v1/tenants/{SLUG}/configuration", headers=admin.headers)
    assert [c["key"] for c in exported.json["success_criteria"]] == ["completion", "quick"]
    with app.app_context():
        configuration.apply(db.session(), document())
        db.session.commit()
    assert client.get(url, headers=admin.headers).status_code == 404

    coordinator = world.person(tenant, Role.COORDINATOR)
    assert client.post(f"{API}/criteria", json=body, headers=coordinator.headers).status_code == 403
    completion = client.get(f"{API}/criteria", headers=coordinator.headers).json[0]
    gone = client.delete(
        f"{API}/criteria/{completion['id']}",
        headers={
            **admin.headers,
            "If-Match": client.get(
                f"{API}/criteria/{completion['id']}", headers=admin.headers
            ).headers["ETag"],
        },
    )
    assert gone.status_code == 204
    assert client.get(f"{API}/criteria", headers=admin.headers).json == []


@pytest.mark.parametrize(
    ("path", "query", "body", "field"),
    [
        ("metrics", {"period": "fortnight"}, None, "period"),
        ("metrics", {"area": "not-a-cell"}, None, "area"),
        ("metrics", {"area": h3.latlng_to_cell(51.5, -0.12, 2)}, None, "area"),  # too coarse
        ("metrics", {"role": "juggler"}, None, "role"),
        ("table-2", {"at": "2026-13-01"}, None, "at"),
        ("criteria", None, {"key": "x", "name": "X", "metric": "joy", "target": 1}, "metric"),
        (
            "criteria",
            None,
            {"key": "x", "name": "X", "metric": "completion_rate", "target": 85},
            "target",
        ),
        (
            "criteria",
            None,
            {"key": "x", "name": "X", "metric": "tasks_created", "target": 1, "period": "day"},
            "period",
        ),
        # Past any real figure, and past what the board's PDF can print.
        (
            "criteria",
            None,
            {"key": "x", "name": "X", "metric": "tasks_created", "target": 1e300},
            "target",
        ),
    ],
)
def test_bad_input_is_a_clear_422(
    client: FlaskClient,
    admin: Person,
    path: str,
    query: dict[str, str] | None,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    if body is None:
        answer = client.get(f"{API}/{path}", query_string=query, headers=admin.headers)
    else:
        answer = client.post(f"{API}/{path}", json=body, headers=admin.headers)
    assert answer.status_code == 422, answer.json
    assert answer.mimetype == "application/problem+json"
    errors = answer.json["errors"]
    assert field in errors or field in errors.get("query", errors.get("json", {}))


def test_volunteers_may_not_read_reports_and_other_tenants_see_nothing(
    app: Flask, client: FlaskClient, world: World, tenant: Tenant, admin: Person
) -> None:
    [criterion] = client.get(f"{API}/criteria", headers=admin.headers).json
    volunteer = world.person(tenant, Role.VOLUNTEER)
    for path in ("metrics", "table-2", "dashboard", "months", "criteria", "criteria/export.csv"):
        assert client.get(f"{API}/{path}", headers=volunteer.headers).status_code == 403, path
    assert (
        client.get(f"{API}/criteria/{criterion['id']}", headers=volunteer.headers).status_code
        == 404
    )

    other = world.tenant("elsewhere")
    with app.app_context():
        configuration.apply(db.session(), {**document(), "slug": "elsewhere"})
        db.session.commit()
    their_admin = world.person(other, Role.ADMIN)
    theirs = "/api/v1/tenants/elsewhere/reporting"
    for method in ("get", "delete"):
        answer = getattr(client, method)(
            f"{theirs}/criteria/{criterion['id']}",
            headers={**their_admin.headers, "If-Match": '"0123456789abcdef"'},
        )
        assert answer.status_code == 404, method
    history = client.get(
        f"{theirs}/criteria/{criterion['id']}/history", headers=their_admin.headers
    )
    assert history.status_code == 404
    # Our admin in their URL: not a member there.
    assert client.get(f"{theirs}/metrics", headers=admin.headers).status_code in (403, 404)
    # Their numbers hold none of ours.
    store(app, tenant, generate(3))
    counts = client.get(
        f"{theirs}/metrics", query_string={"period": "all"}, headers=their_admin.headers
    ).json["metrics"]
    assert counts["tasks_created"] == 0 and counts["approved_volunteers"] == 0


def test_the_dashboard_page_shows_charts_and_the_criteria(
    app: Flask, client: FlaskClient, world: World, tenant: Tenant, admin: Person
) -> None:
    _tasks(app, tenant, [utcnow() - timedelta(minutes=5)], "completed")
    run_evaluation(app, tenant)
    browser = signed_in(app, world.person(tenant, Role.COORDINATOR))
    page = browser.get(f"/t/{SLUG}/dashboard")
    assert page.status_code == 200
    html = page.text
    assert "Tasks completed" in html and "Met" in html  # the criteria table
    assert 'id="completion-trend"' in html and 'id="time-to-accept"' in html
    assert 'id="funnel"' in html and 'id="table-2"' in html
    assert 'id="need-vs-provision"' in html  # the place kept for the map
    assert "/reporting/criteria/export.pdf" not in html  # the web app's own downloads
    csv_file = browser.get(f"/t/{SLUG}/dashboard/criteria.csv")
    assert csv_file.status_code == 200 and "completion" in csv_file.text
    pdf = browser.get(f"/t/{SLUG}/dashboard/criteria.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    volunteer = signed_in(app, world.person(tenant, Role.VOLUNTEER))
    assert volunteer.get(f"/t/{SLUG}/dashboard").status_code == 403
    assert "dashboard" not in volunteer.get(f"/t/{SLUG}").text.lower()


def test_going_on_duty_is_recorded_once(app: Flask, tenant: Tenant) -> None:
    with app.app_context(), tenant_scope(tenant.id):
        member = Membership(account_id=_account().id, is_volunteer=True)
        db.session.add(member)
        assert member.first_on_duty_at is None
        member.on_duty = True
        first = member.first_on_duty_at
        assert first is not None
        member.on_duty = False
        member.on_duty = True
        assert member.first_on_duty_at == first
        db.session.rollback()


def test_two_jobs_or_two_admins_at_once_give_one_outcome(
    app: Flask, client: FlaskClient, tenant: Tenant, admin: Person, world: World
) -> None:
    _tasks(app, tenant, [utcnow() - timedelta(minutes=1)], "completed")
    assert all_at_once([lambda: run_evaluation(app, tenant)] * 2) == [2, 2]
    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.scalars(select(CriterionEvaluation)).all()
    assert len(rows) == 2  # this month and last, once each

    def keep() -> int:
        with app.app_context():
            counted: int = keep_volunteer_counts(str(tenant.id))
            return counted

    counted = all_at_once([keep] * 2)
    with app.app_context(), tenant_scope(tenant.id):
        moments = db.session.scalars(select(VolunteerCount.at)).all()
    assert sum(counted) == len(moments) == len(set(moments)) >= 13  # one "in all" row each

    other = world.person(tenant, Role.ADMIN)
    body = {"key": "busy", "name": "Busy", "metric": "tasks_created", "target": 10}
    answers = all_at_once(
        [
            lambda person=person: app.test_client().post(  # type: ignore[misc]
                f"{API}/criteria", json=body, headers=person.headers
            )
            for person in (admin, other)
        ]
    )
    assert sorted(a.status_code for a in answers) == [201, 409]


def test_an_evaluation_does_not_make_an_admins_etag_stale(
    app: Flask, client: FlaskClient, tenant: Tenant, admin: Person
) -> None:
    [criterion] = client.get(f"{API}/criteria", headers=admin.headers).json
    url = f"{API}/criteria/{criterion['id']}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    run_evaluation(app, tenant)
    assert client.get(url, headers=admin.headers).json["latest"] is not None
    changed = client.patch(url, json={"target": 0.9}, headers={**admin.headers, "If-Match": etag})
    assert changed.status_code == 200, changed.json
    assert changed.headers["ETag"] != etag
    assert changed.headers["ETag"] == client.get(url, headers=admin.headers).headers["ETag"]
