"""Reporting at NHS Volunteer Responders scale: the need-versus-provision map for a
month, against a plain COUNT(*) of the tenant's tasks in the same run.

Run on SQLite (the embedded default), then on PostgreSQL; each run seeds its own
database (12 to 16 minutes on the two shared cores of the development machine):

    .venv/bin/python -m pytest tests/perf/test_reporting.py -o addopts="" -p no:cacheprovider \\
        --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-group-by=group
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m pytest tests/perf/test_reporting.py -o addopts="" \\
        -p no:cacheprovider --benchmark-only --benchmark-columns=median,iqr,rounds \\
        --benchmark-group-by=group

The tenant (one, seeded once for the module with bulk ``insert()``, fixed random seed):
the dispatch benchmark's 650,000 volunteers over England, 400,000 of them on duty, with
their roles and checks, and its 100,000 clients (``tests/perf/test_dispatch.py`` says how
they are spread and qualified), then 1.8 million tasks posted over the last 12 months at
the clients' homes (community response 80 %, patient transport 10 %, check in and chat
10 %, a remote role; 82 % completed, 10 % expired, 2 % closed unmet, 6 % cancelled;
those of the last three days still open, some past due). PostgreSQL is vacuumed and
analysed after seeding; then the refresh job writes the provision snapshot once, as
the worker would every five minutes, and the keep job counts the volunteers at the last
13 month ends and today's midnight, as the worker would when each ended (their times
are reported, not measured).

What is measured (``CALLS``; each round in a fresh session, as a request has it:
find the tenant and the caller, call, commit): the map as the API serves it (the
service and its GeoJSON) for the last month at the default resolution (6) and at the
area resolution (7) for one role, the table, and Table 2 for two months; the baseline is
``SELECT count(*) FROM tasks`` for the tenant in the same kind of round. The target
is under 2 s (p50) for the month's map and Table 2. The module prints p50 / p99 of each and the
ratio to the baseline when it ends. Each call is checked against the seed: the month's
tasks posted and unmet, and the people on duty and qualified, add up to what was seeded.

Also measured: the NHS evaluation's Table 2 (``reporting.services.table_2``) for the
calendar month the map's period starts in (ended: its volunteers are read as kept when
it ended) and for this month (still running: its volunteers are counted now), each total
row checked against the seed (the month's tasks created and completed, the approved
volunteers). To measure one more report, add one entry to ``CALLS`` (its name and a
function of the caller).
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from nyby.auth.models import Account
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, TaskCategory, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.dispatch import pool
from nyby.members.models import Membership
from nyby.provision.jobs import refresh_provision
from nyby.provision.services import (
    as_geojson,
    as_table,
    count_people,
    default_period,
    need_provision,
    travelling_roles,
)
from nyby.reporting.jobs import keep_volunteer_counts
from nyby.reporting.metrics import Window, period_window
from nyby.reporting.services import table_2
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor
from tests.conftest import World
from tests.perf.seeding import seeded_once
from tests.perf.test_dispatch import (
    PROFESSIONALS,
    PUSH_ROLE,
    ROLES,
    SLUG,
    Seeder,
    _clients,
    _volunteers,
    configuration_document,
)

TASKS = 1_800_000
DAYS = 365
BATCH = 5_000
ROUNDS = 30
WARMUP = 2
TARGET_S = 2.0
# (share of tasks, statuses and their weights) by role
TASK_ROLES = {PUSH_ROLE: 80, "patient-transport": 10, "check-in-and-chat": 10}
STATUSES = {"completed": 82, "expired": 10, "unmet": 2, "cancelled": 6}

# What is measured, by name: one entry per report (the caller in, the report out).
CALLS: dict[str, Callable[[Actor], object]] = {
    "need-provision map, last month, resolution 6": lambda actor: as_geojson(need_provision(actor)),
    "need-provision map, last month, resolution 7, one role": lambda actor: as_geojson(
        need_provision(actor, resolution=7, role=PUSH_ROLE)
    ),
    "need-provision table, last month": lambda actor: as_table(
        need_provision(actor), need_only=True
    ),
    # The NHS evaluation's table for the calendar month the map's period starts in (ended:
    # its volunteers as kept when it ended), and for this month (counted now).
    "Table 2, last month": lambda actor: table_2(
        actor, {"period": "month", "at": default_period(actor.tenant, utcnow())[0]}
    ),
    "Table 2, this month": lambda actor: table_2(actor, {"period": "month"}),
}


@dataclass
class Nation:
    tenant_id: uuid.UUID
    coordinator: uuid.UUID  # an account
    # The last month's tasks of travelling roles (posted, unmet) and the people on duty
    # and qualified for one, as the seed wrote them.
    month_posted: int = 0
    month_unmet: int = 0
    # Table 2's months (every role), last and this: tasks created and completed in each.
    table_month: Window | None = None
    this_month: Window | None = None
    table_tasks: dict[str, list[int]] = field(default_factory=dict)
    qualified_on_duty: int = 0
    qualified_for_push_role: int = 0
    approved: int = 0
    refresh_s: float = 0.0
    keep_s: float = 0.0
    live_count_s: float = 0.0
    seconds_to_seed: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


def _seed(app: Flask, world: World) -> Nation:
    rng = random.Random(20261124)
    now = utcnow()
    tenant = world.tenant(SLUG)
    seeder = Seeder(tenant.id, rng, now)
    with app.app_context(), tenant_scope(tenant.id):
        configuration.apply(db.session(), configuration_document())
        db.session.flush()
        roles = {r.key: r for r in db.session.scalars(select(VolunteerRole))}
        checks = {c.key: c.id for c in db.session.scalars(select(CheckType))}
        categories = {c.key: c.id for c in db.session.scalars(select(TaskCategory))}
        staff = [seeder.account("nurse", i) for i in range(PROFESSIONALS)]
        staff.append(seeder.account("coordinator", 0))
        seeder.write(Account, staff)
        posters = [seeder.membership(a, is_professional=True) for a in staff[:-1]]
        posters.append(seeder.membership(staff[-1], is_coordinator=True))
        seeder.write(Membership, posters)
        _, people, _ = _volunteers(seeder, {k: r.id for k, r in roles.items()}, checks)
        travelling = {key for key, (_, _, remote, _) in ROLES.items() if not remote}
        clients = _clients(seeder)
        nation = Nation(tenant.id, staff[-1]["id"])
        nation.qualified_on_duty = sum(1 for p in people.values() if p.may_take & travelling)
        nation.qualified_for_push_role = sum(1 for p in people.values() if PUSH_ROLE in p.may_take)
        del people
        # Everyone approved in a role joined a month ago or more: Table 2's total.
        nation.approved = db.session.scalar(
            select(func.count()).where(Membership.first_approved_at.is_not(None))
        )
        _tasks(seeder, nation, roles, categories, [p["id"] for p in posters], clients)
        pool.rebuild(db.session.connection(), tenant.id)  # written around the ORM
        db.session.commit()
    nation.rows = seeder.rows
    return nation


def _tasks(
    seeder: Seeder,
    nation: Nation,
    roles: dict[str, VolunteerRole],
    categories: dict[str, uuid.UUID],
    posters: list[uuid.UUID],
    clients: list[Any],
) -> None:
    """A year of tasks at clients' homes, a batch at a time."""
    rng, now = seeder.rng, seeder.now
    start, _ = default_period(db.session.get_one(Tenant, nation.tenant_id), now)
    zone = ZoneInfo("Europe/London")
    month = datetime.combine(start, datetime.min.time(), tzinfo=zone)
    nation.table_month = period_window("month", month + timedelta(hours=12), zone)
    nation.this_month = period_window("month", now, zone)
    months = {"last": nation.table_month, "this": nation.this_month}
    nation.table_tasks = {name: [0, 0] for name in months}
    keys, weights = list(TASK_ROLES), list(TASK_ROLES.values())
    statuses, odds = list(STATUSES), list(STATUSES.values())
    for first in range(0, TASKS, BATCH):
        rows = []
        for _ in range(first, min(first + BATCH, TASKS)):
            client_id, place = rng.choice(clients)
            key = rng.choices(keys, weights)[0]
            posted = now - timedelta(minutes=rng.randint(1, DAYS * 24 * 60))
            due = posted + timedelta(hours=rng.randint(4, 72))
            status = rng.choices(statuses, odds)[0]
            if now - posted < timedelta(days=3) and rng.random() < 0.5:
                # Still open: a third past due, the rest due a day or more from now (so
                # none falls due while the benchmark runs and changes the right answer).
                status = "open"
                due = now + timedelta(hours=rng.choice([-6, 30, 50]))
            unmet = status in ("expired", "unmet") or (status == "open" and due < now)
            if posted >= month and not roles[key].remote:
                nation.month_posted += 1
                nation.month_unmet += unmet
            done = status == "completed"
            for name, window in months.items():
                if window.start <= posted < window.end:
                    nation.table_tasks[name][0] += 1
                    nation.table_tasks[name][1] += done
            rows.append(
                seeder.stamp(
                    client_id=client_id,
                    role_id=roles[key].id,
                    category_id=categories[ROLES[key][3]],
                    series_id=None,
                    posted_by=rng.choice(posters),
                    title="Shopping and a chat",
                    description="",
                    estimated_minutes=60,
                    urgency="routine",
                    what_to_bring="",
                    payment_note="",
                    address="1 Example Road",
                    **place.columns(),
                    earliest_start=posted,
                    due_by=due,
                    status=status,
                    reserved_until=None,
                    assignee_id=None,
                    assigned_at=posted + timedelta(minutes=20) if done else None,
                    started_at=None,
                    completed_at=due if done else None,
                    minutes_spent=60 if done else None,
                    outcome_note="",
                    closing_reason="",
                    created_at=posted,
                    updated_at=posted,
                )
            )
        seeder.write(Task, rows)


def _refresh(app: Flask, nation: Nation) -> None:
    """The snapshot, and the volunteers kept at month ends, as the worker writes them;
    and the live count the snapshot saves, once."""
    started = time.perf_counter()
    with app.app_context():
        refresh_provision(str(nation.tenant_id))
    nation.refresh_s = time.perf_counter() - started
    started = time.perf_counter()
    with app.app_context():
        keep_volunteer_counts(str(nation.tenant_id))
    nation.keep_s = time.perf_counter() - started
    with app.app_context(), tenant_scope(nation.tenant_id):
        started = time.perf_counter()
        count_people(travelling_roles(), utcnow())
        nation.live_count_s = time.perf_counter() - started
        db.session.rollback()


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """The tenant is seeded once for the module and wiped when it ends (see ``nation``)."""
    yield


@pytest.fixture(scope="module")
def nation(app: Flask, owner_engine: Engine, request: pytest.FixtureRequest) -> Iterator[Nation]:
    with seeded_once(
        app, owner_engine, _seed, lambda seeded: _report(request, owner_engine, seeded)
    ) as seeded:
        _refresh(app, seeded)
        yield seeded


def _actor(nation: Nation) -> Actor:
    """As ``resolve_tenant`` finds them for a request: the tenant by slug, the membership."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == SLUG))
    membership = db.session.scalar(
        select(Membership).where(Membership.account_id == nation.coordinator)
    )
    assert tenant is not None and membership is not None
    return Actor(account=membership.account, tenant=tenant, membership=membership)


def _round(app: Flask, nation: Nation, call: Callable[[Actor], object]) -> object:
    with app.app_context(), tenant_scope(nation.tenant_id):
        result = call(_actor(nation))
        db.session.commit()
    return result


def _record(benchmark: Any, nation: Nation, key: str) -> None:
    seconds = sorted(benchmark.stats.stats.data)
    p99 = statistics.quantiles(seconds, n=100, method="inclusive")[98]
    figures = {"p50_ms": statistics.median(seconds) * 1000, "p99_ms": p99 * 1000}
    figures["rounds"] = len(seconds)
    benchmark.extra_info.update(figures)
    nation.results[key] = figures


def test_baseline_count_of_tasks(benchmark: Any, app: Flask, nation: Nation) -> None:
    benchmark.group = "reporting"

    def count(actor: Actor) -> int:
        return int(db.session.scalar(select(func.count()).select_from(Task)) or 0)

    total = benchmark.pedantic(
        _round, args=(app, nation, count), rounds=ROUNDS, warmup_rounds=WARMUP
    )
    assert total == TASKS
    _record(benchmark, nation, "baseline")


@pytest.mark.parametrize("name", list(CALLS))
def test_report(benchmark: Any, app: Flask, nation: Nation, name: str) -> None:
    benchmark.group = "reporting"
    result = benchmark.pedantic(
        _round, args=(app, nation, CALLS[name]), rounds=ROUNDS, warmup_rounds=WARMUP
    )
    _record(benchmark, nation, name)
    if name.startswith("need-provision"):
        _check(nation, result, one_role="one role" in name)
    else:
        assert isinstance(result, dict)
        total = result["rows"][-1]
        month = nation.table_tasks[name.split()[-2]]  # "last" or "this"
        assert [total["tasks_created"], total["tasks_completed"]] == month
        assert total["approved_volunteers"] == nation.approved
        assert 0 < total["volunteers_on_duty"] < total["approved_volunteers"]


def _check(nation: Nation, result: Any, one_role: bool) -> None:
    """The figures add up to the seed's: every task of the month, every person."""
    summary = result["properties"] if "features" in result else result
    totals = summary["totals"]
    if not one_role:
        assert (totals["posted"], totals["unmet"]) == (nation.month_posted, nation.month_unmet)
        assert totals["people"] == nation.qualified_on_duty
    else:
        assert totals["people"] == nation.qualified_for_push_role
        assert 0.7 * nation.month_posted < totals["posted"] < 0.95 * nation.month_posted


def _report(request: pytest.FixtureRequest, engine: Engine, nation: Nation) -> None:
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not nation.results:
        return
    seeded = ", ".join(f"{table} {count:,}" for table, count in sorted(nation.rows.items()))
    base = nation.results.get("baseline")
    lines = [
        "",
        f"Reporting on {engine.dialect.name}: seeded in {nation.seconds_to_seed:.0f} s ({seeded}).",
        f"The month: {nation.month_posted:,} tasks of travelling roles posted, "
        f"{nation.month_unmet:,} unmet; {nation.qualified_on_duty:,} people on duty and "
        f"qualified. Provision snapshot (the refresh job) {nation.refresh_s:.1f} s; the "
        f"same count live {nation.live_count_s:.1f} s. Volunteers kept at 14 month ends and "
        f"midnights (the keep job, once) {nation.keep_s:.1f} s.",
        f"p50 / p99 in ms (rounds), ratio to the baseline's p50; target p50 < {TARGET_S:.0f} s",
    ]
    for name, figures in nation.results.items():
        ratio = f"{figures['p50_ms'] / base['p50_ms']:.1f}" if base else "-"
        label = "SELECT count(*) FROM tasks (baseline)" if name == "baseline" else name
        lines.append(
            f"{label:<58}{figures['p50_ms']:>10.1f} / {figures['p99_ms']:.1f} "
            f"({figures['rounds']}){ratio:>10}"
        )
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)
