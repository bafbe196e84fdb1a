"""Push dispatch at NHS Volunteer Responders scale: "task posted -> first wave of offers
committed", and what one worker gets through.

Run on SQLite (the embedded default), then on PostgreSQL with Redis (as for the tests);
each run seeds its own database:

    .venv/bin/python -m pytest tests/perf/test_dispatch.py -o addopts="" -p no:cacheprovider \\
        --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-group-by=group
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python -m pytest tests/perf/test_dispatch.py -o addopts="" \\
        -p no:cacheprovider --benchmark-only --benchmark-columns=median,iqr,rounds \\
        --benchmark-group-by=group

The worker test needs ``REDIS_URL`` (it is skipped without it, so the SQLite command
above measures latency only; add ``REDIS_URL`` to it for SQLite's throughput). Like
the tests' wipe, it deletes every queue key (``rq:*``) in the Redis database it is
given: use one that nothing else is using at the time (``/7`` rather than ``/0``).

**Task posted -> first wave committed.** Each round is what a request and then a job
wait for: in a fresh session as a request has it, find the tenant and the caller (a
professional), ``tasks.services.post_task`` a push task for a client (community
response near the case's place, or a remote check in and chat; starting within six
hours, due one to three days later) and commit; then the wave job as a worker runs it
(``dispatch.jobs.dispatch_wave``: the tenant scope, its own session,
``dispatch.waves.run_wave``, commit), which offers the task to the best 15 people (the
default wave, within 3 km) and writes each offer's notice and outbox rows. The figure
is the sum. The jobs the two commits enqueue are kept but not run (on Redis they are
enqueued for real, and cleared afterwards), so nothing runs beside the rounds. Every
round must offer the task to a full wave (in the countryside at least one, perhaps in a
wider wave), each of them on duty and qualified for the role, within the wave's radius
and their own travel radius, as the seed says. The baseline, in the
same run: read one membership by primary key in a fresh session and commit. The module
prints p50 and p99 of each, the two parts of the round, and the ratio to the baseline.

**One worker's throughput.** N push tasks are posted (their wave jobs enqueued on
Redis); one real RQ worker (``rq.Worker`` in burst mode in a process of its own, in the
app context as ``nyby worker`` runs it: a forked work-horse per job) works through the
wave jobs and the delivery jobs they enqueue (email, Web Push and SMS to the embedded
outbox folder), until the queue is empty; then N jobs that do nothing (``os.getpid``:
RQ's own cost of fetching, forking and recording a job). Rates are counted from the
jobs' own start and end times (the worker's start-up is left out): jobs, offers and
deliveries per second, against no-op jobs per second.

The tenant (one, seeded once for the module with bulk ``insert()``, fixed random seed):

- 650,000 volunteers (accounts and memberships) and 500 professionals. Homes are spread
  over England, weighted by population: 80 % live around 29 cities and towns, each a
  round Gaussian around its centre, in proportion to ``TOWNS`` (London 20 parts of 68,
  sigma 12 km; Birmingham and Manchester 6 each; Leeds-Bradford 4.5; Liverpool,
  Newcastle, Southampton-Portsmouth 2.5; Sheffield, Bristol, Nottingham 2; Leicester
  1.5; eighteen more at 0.4 to 1.2, sigma 4 to 6 km); 20 % live anywhere in England
  (uniform over a 47-point outline of its coast and borders). Points falling outside
  the outline are drawn again. Home area cells as the app computes them
  (``geo.Place.area_cell``). Travel radius 2, 3, 5, 8 or 15 km (a tenth set none).
- 400,000 of them on duty (1 % with an "until" already passed, 5 % until a time within
  the next 12 hours).
  40 % gave availability windows (3 to 10 weekday parts), 30 % quiet hours (22:00-07:00
  or 21:00-08:00), 20 % their own daily alert limit (3 or 5); 10 % speak a second
  language, 20 % prefer a role; channels for offers: push and email (the default,
  70 %), push only, SMS and push, or the inbox only; 35 % have a push device.
- Roles, all pushed: community response (95 % hold it; ID check and safeguarding
  training, valid 24 months), patient transport (15 %; ID, enhanced DBS, driving
  licence), check in and chat (25 %; remote; ID). Assignments approved (93 %), applied,
  suspended or rejected. Of each check a role needs: 2 % missing, 1 % pending, the
  rest verified, 3 % of those that expire already expired.
- 100,000 clients at homes drawn the same way (6 % need an interpreter).
- A month of history: 150,000 tasks (80 % completed, 12 % expired, 8 % cancelled),
  each offered to up to five on-duty people of its area cell (or the ring around it):
  750,000 offers (accepted, declined, expired, withdrawn), so fairness (offers and
  tasks this week), response history, continuity and today's alert limits read real
  rows.

Cases (each round a task at a point within 1 km of the place, for one of the 20
clients nearest to it): city centre (London, Charing Cross: some 2,200 people on duty
who may take it within 3 km), suburb (Sale, Greater Manchester: some 700), countryside
(a village drawn from six: Hallaton, Hawes, Bampton, Much Wenlock, Swaffham,
Stow-on-the-Wold: a dozen or so, and a wider wave where the first finds nobody), and
remote (a check in and chat call for a client anywhere: no place, so everyone on duty
who holds the role, some 90,000, is a candidate). PostgreSQL is vacuumed and analysed
after seeding (autovacuum would have done it within a minute); SQLite is left as the
application leaves it (no ANALYZE).
"""

from __future__ import annotations

import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import h3
import pytest
from flask import Flask
from rq.job import Job
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine

from nyby.auth.models import Account
from nyby.clients.models import Client
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, TaskCategory, VolunteerRole
from nyby.configuration.schemas import DispatchPolicySchema
from nyby.core.db import db, utcnow
from nyby.dispatch import pool
from nyby.dispatch.jobs import dispatch_wave
from nyby.dispatch.models import Offer
from nyby.geo import EARTH_RADIUS_KM, Place
from nyby.members.models import Membership
from nyby.notifications.models import OutgoingMail, PushSubscription
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tasks.models import Task
from nyby.tasks.services import post_task
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor
from tests.conftest import Databases, World, hold_jobs
from tests.perf.seeding import seeded_once, vacuum

VOLUNTEERS = 650_000
ON_DUTY = 400_000
PROFESSIONALS = 500
CLIENTS = 100_000
PAST_TASKS = 150_000
PAST_DAYS = 30
BATCH = 5_000
# The shipped default wave (15): what a tenant that sets none offers a task to at once.
WAVE_SIZE = DispatchPolicySchema().load({})["wave_size"]
# The history's tasks were each offered to up to five people.
PAST_OFFERS_PER_TASK = 5
RADIUS_KM = 3.0
RADIUS_GROWTH_KM = 2.0
# Rounds per figure: up to ROUNDS, fewer (never under MIN_ROUNDS) when a call is so slow
# that ROUNDS would take more than BUDGET_S; the table says how many were run.
ROUNDS = 200
MIN_ROUNDS = 30
BUDGET_S = 40.0
WARMUP = 3
TARGET_P99_MS = 50.0
WORKER_TASKS = 200
WORKER_TIMEOUT_S = 600
SLUG = "responders"
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
PUSH_ROLE = "community-response"

# name, latitude, longitude, weight (parts of the 80 % who live in towns), sigma in km
TOWNS = [
    ("London", 51.5074, -0.1278, 20.0, 12.0),
    ("Birmingham", 52.4862, -1.8904, 6.0, 9.0),
    ("Manchester", 53.4808, -2.2426, 6.0, 10.0),
    ("Leeds-Bradford", 53.7900, -1.6500, 4.5, 9.0),
    ("Liverpool", 53.4084, -2.9916, 2.5, 7.0),
    ("Newcastle", 54.9783, -1.6178, 2.5, 8.0),
    ("Southampton-Portsmouth", 50.8600, -1.2500, 2.5, 9.0),
    ("Sheffield", 53.3811, -1.4701, 2.0, 6.0),
    ("Bristol", 51.4545, -2.5879, 2.0, 6.0),
    ("Nottingham", 52.9548, -1.1581, 2.0, 6.0),
    ("Leicester", 52.6369, -1.1398, 1.5, 5.0),
    ("Coventry", 52.4068, -1.5197, 1.2, 5.0),
    ("Stoke-on-Trent", 53.0027, -2.1794, 1.2, 6.0),
    ("Brighton", 50.8225, -0.1372, 1.2, 5.0),
    ("Reading", 51.4543, -0.9781, 1.2, 6.0),
    ("Middlesbrough", 54.5742, -1.2350, 1.2, 6.0),
    ("Preston", 53.7632, -2.7031, 1.2, 6.0),
    ("Hull", 53.7676, -0.3274, 1.0, 5.0),
    ("Plymouth", 50.3755, -4.1427, 1.0, 5.0),
    ("Derby", 52.9225, -1.4746, 1.0, 5.0),
    ("Luton", 51.8787, -0.4200, 1.0, 5.0),
    ("Milton Keynes", 52.0406, -0.7594, 0.8, 5.0),
    ("Norwich", 52.6309, 1.2974, 0.8, 5.0),
    ("Cambridge", 52.2053, 0.1218, 0.7, 4.0),
    ("Oxford", 51.7520, -1.2577, 0.7, 4.0),
    ("York", 53.9600, -1.0873, 0.7, 4.0),
    ("Exeter", 50.7184, -3.5339, 0.6, 4.0),
    ("Ipswich", 52.0567, 1.1482, 0.6, 4.0),
    ("Carlisle", 54.8925, -2.9329, 0.4, 4.0),
]
TOWN_SHARE = 0.8
# England's coast and borders, clockwise from Berwick-upon-Tweed (latitude, longitude).
ENGLAND = [
    (55.81, -2.03), (55.00, -1.40), (54.57, -1.00), (54.48, -0.60), (54.12, -0.08),
    (53.58, 0.12), (53.15, 0.35), (52.95, 0.45), (52.95, 1.30), (52.48, 1.76),
    (51.95, 1.35), (51.78, 1.15), (51.45, 0.75), (51.38, 1.44), (51.12, 1.33),
    (50.91, 0.97), (50.74, 0.25), (50.72, -0.79), (50.71, -1.90), (50.52, -2.45),
    (50.68, -3.10), (50.22, -3.64), (50.33, -4.20), (49.96, -5.20), (50.07, -5.71),
    (50.55, -4.95), (51.02, -4.53), (51.21, -3.47), (51.35, -2.98), (51.62, -2.68),
    (51.85, -2.75), (52.07, -3.12), (52.34, -3.05), (52.66, -3.06), (53.00, -2.75),
    (53.20, -2.95), (53.38, -3.20), (53.65, -3.02), (53.82, -3.06), (54.05, -2.87),
    (54.10, -3.25), (54.50, -3.62), (54.95, -3.30), (55.00, -3.05), (55.15, -2.70),
    (55.35, -2.30), (55.63, -2.20),
]  # fmt: skip
# Where each case's tasks are: near one of its places, drawn each round. Six villages
# share the countryside's: one village's few dozen people would reach their daily
# alert limits within the run, and the waves would measure escalations.
PLACES = {
    "city centre": [Place(51.5080, -0.1247)],  # London, Charing Cross
    "suburb": [Place(53.4246, -2.3227)],  # Sale, Greater Manchester
    "countryside": [
        Place(52.5586, -0.8286),  # Hallaton, Leicestershire
        Place(54.3044, -2.1967),  # Hawes, North Yorkshire
        Place(50.9890, -3.4860),  # Bampton, Devon
        Place(52.5966, -2.5570),  # Much Wenlock, Shropshire
        Place(52.6486, 0.6869),  # Swaffham, Norfolk
        Place(51.9306, -1.7241),  # Stow-on-the-Wold, Gloucestershire
    ],
}
REMOTE_ROLE = "check-in-and-chat"
# What is measured: a task near each place, and a remote one (a phone call: no place).
CASES = [*PLACES, "remote"]
# role key: (share of volunteers holding it, checks, remote, category)
ROLES = {
    PUSH_ROLE: (0.95, ["id-check", "safeguarding"], False, "shopping"),
    "patient-transport": (
        0.15,
        ["id-check", "dbs-enhanced", "driving-licence"],
        False,
        "getting-about",
    ),
    REMOTE_ROLE: (0.25, ["id-check"], True, "company"),
}
# check key: (kind, validity in months)
CHECKS = {
    "id-check": ("identity", None),
    "safeguarding": ("training", 24),
    "dbs-enhanced": ("dbs_enhanced", 36),
    "driving-licence": ("driving_licence", 12),
}
POLICY = {
    "mode": "both",
    "wave_size": WAVE_SIZE,
    "wave_timeout_minutes": 10,
    "max_waves": 3,
    "radius_km": RADIUS_KM,
    "radius_growth_km": RADIUS_GROWTH_KM,
    "max_alerts_per_day": 10,
}
LANGUAGES = ["pl", "ur", "pa", "bn", "gu", "ro", "ar"]
INTERPRETED = ["Polish", "Urdu", "Punjabi", "Bengali", "Gujarati", "Romanian", "Arabic"]
PARTS = [
    (day, part)
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for part in ("morning", "afternoon", "evening")
]
CHANNELS = [
    ({}, 0.70),  # the defaults: offers by push and email
    ({"offers": ["push"], "updates": []}, 0.20),
    ({"offers": ["push", "sms"], "updates": ["email"]}, 0.05),
    ({"offers": [], "updates": []}, 0.05),  # the in-app inbox only
]


def configuration_document() -> dict[str, Any]:
    return {
        "slug": SLUG,
        "name": "Volunteer Responders",
        "kind": "health",
        "locale": "en",
        "timezone": "Europe/London",
        "dispatch_policy": POLICY,
        "check_types": [
            {"key": key, "name": key, "kind": kind, "validity_months": months}
            for key, (kind, months) in CHECKS.items()
        ],
        "categories": [
            {"key": key, "name": key} for key in ("shopping", "getting-about", "company")
        ],
        "roles": [
            {
                "key": key,
                "name": key,
                "description": key,
                "dispatch_mode": "push",
                "checks": checks,
                "categories": [category],
                "remote": remote,
            }
            for key, (_, checks, remote, category) in ROLES.items()
        ],
    }


@dataclass
class Person:
    """What the seed knows of a volunteer: enough to judge an offer apart."""

    latitude: float
    longitude: float
    travel_radius_km: float | None
    may_take: frozenset[str]  # roles they may be offered now: on duty, approved, checks valid


@dataclass
class England:
    tenant_id: uuid.UUID
    poster: uuid.UUID  # a professional's account
    members: list[uuid.UUID]  # volunteers' membership ids
    people: dict[uuid.UUID, Person]
    clients: dict[Place, list[uuid.UUID]]  # place -> the clients nearest to it
    anywhere: list[uuid.UUID]  # clients drawn at random, for the worker's tasks
    seconds_to_seed: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)


class Sampler:
    """Homes in England, as the module docstring describes them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        total = sum(weight for *_, weight, _ in TOWNS)
        self.towns = [(lat, lng, TOWN_SHARE * w / total, sigma) for _, lat, lng, w, sigma in TOWNS]
        self.south = min(lat for lat, _ in ENGLAND)
        self.north = max(lat for lat, _ in ENGLAND)
        self.west = min(lng for _, lng in ENGLAND)
        self.east = max(lng for _, lng in ENGLAND)

    def point(self) -> Place:
        pick = self.rng.random()
        for latitude, longitude, share, sigma in self.towns:
            if pick < share:
                per_degree_lng = KM_PER_DEGREE * math.cos(math.radians(latitude))
                while True:
                    lat = latitude + self.rng.gauss(0, sigma) / KM_PER_DEGREE
                    lng = longitude + self.rng.gauss(0, sigma) / per_degree_lng
                    if in_england(lat, lng):
                        return Place(lat, lng)
            pick -= share
        while True:
            lat = self.rng.uniform(self.south, self.north)
            lng = self.rng.uniform(self.west, self.east)
            if in_england(lat, lng):
                return Place(lat, lng)


def in_england(latitude: float, longitude: float) -> bool:
    """Inside the outline (ray casting)."""
    inside = False
    j = len(ENGLAND) - 1
    for i, (lat_i, lng_i) in enumerate(ENGLAND):
        lat_j, lng_j = ENGLAND[j]
        if (lat_i > latitude) != (lat_j > latitude):
            crossing = lng_i + (latitude - lat_i) * (lng_j - lng_i) / (lat_j - lat_i)
            if longitude < crossing:
                inside = not inside
        j = i
    return inside


def squared_km(origin: Place, latitude: float, longitude: float) -> float:
    """The distance matching's SQL computes (equirectangular, in km²), computed the same way."""
    dx = (longitude - origin.longitude) * (KM_PER_DEGREE * math.cos(math.radians(origin.latitude)))
    dy = (latitude - origin.latitude) * KM_PER_DEGREE
    return dx * dx + dy * dy


# --- Seeding ---------------------------------------------------------------------------


def _insert(model: Any, rows: list[dict[str, Any]]) -> int:
    """Core executemany, a batch at a time: every row gives the same keys, NULLs included."""
    statement = insert(model.__table__)
    for start in range(0, len(rows), BATCH):
        db.session.execute(statement, rows[start : start + BATCH])
    return len(rows)


class Seeder:
    """Writes the tenant a batch at a time, so the seed never holds every row at once."""

    def __init__(self, tenant_id: uuid.UUID, rng: random.Random, now: datetime) -> None:
        self.tenant_id = tenant_id
        self.rng = rng
        self.now = now
        self.sampler = Sampler(rng)
        self.rows: dict[str, int] = {}

    def write(self, model: Any, rows: list[dict[str, Any]]) -> None:
        name = model.__tablename__
        self.rows[name] = self.rows.get(name, 0) + _insert(model, rows)

    def stamp(self, **row: Any) -> dict[str, Any]:
        """A tenant-owned row with the columns every such row has."""
        return {
            "tenant_id": self.tenant_id,
            "id": uuid.uuid4(),
            "version_id": 1,
            "created_at": self.now,
            "updated_at": self.now,
            **row,
        }

    def account(self, kind: str, i: int, phone: bool = False) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "email": f"{kind}{i}@responders.example",
            "name": f"{kind.title()} {i:06}",
            "phone": f"+4477{i:08}" if phone else None,
            "is_active": True,
            "version_id": 1,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def membership(self, account: dict[str, Any], **flags: Any) -> dict[str, Any]:
        row = self.stamp(
            account_id=account["id"],
            is_active=True,
            is_admin=False,
            is_coordinator=False,
            is_professional=False,
            is_staff=False,
            is_volunteer=False,
            home_latitude=None,
            home_longitude=None,
            home_area_cell=None,
            travel_radius_km=None,
            availability=[],
            languages=[],
            preferred_roles=[],
            notification_channels={},
            on_duty=False,
            on_duty_until=None,
            first_on_duty_at=None,
            max_alerts_per_day=None,
            quiet_hours_start=None,
            quiet_hours_end=None,
            first_approved_at=None,
        )
        # Joined some time in the last two years: who was never offered a task has
        # waited since then (a wave moves the people it asks to the back, _history too).
        joined = self.now - timedelta(days=self.rng.uniform(30, 730))
        return row | {"created_at": joined, "updated_at": joined, "waiting_since": joined} | flags


def _seed(app: Flask, world: World) -> England:
    rng = random.Random(20261125)
    now = utcnow()
    tenant = world.tenant(SLUG)
    seeder = Seeder(tenant.id, rng, now)
    with app.app_context(), tenant_scope(tenant.id):
        configuration.apply(db.session(), configuration_document())
        db.session.flush()
        roles = {r.key: r.id for r in db.session.scalars(select(VolunteerRole))}
        checks = {c.key: c.id for c in db.session.scalars(select(CheckType))}
        by_key = {c.key: c.id for c in db.session.scalars(select(TaskCategory))}
        categories = {key: by_key[category] for key, (*_, category) in ROLES.items()}

        professionals = [seeder.account("nurse", i) for i in range(PROFESSIONALS)]
        seeder.write(Account, professionals)
        posters = [seeder.membership(a, is_professional=True) for a in professionals]
        seeder.write(Membership, posters)

        members, people, on_duty_by_cell = _volunteers(seeder, roles, checks)
        clients = _clients(seeder)
        _history(seeder, roles, categories, [p["id"] for p in posters], clients, on_duty_by_cell)
        # As dispatch.waves keeps it: since the last offer, for everyone offered one.
        db.session.execute(
            text(
                "UPDATE memberships SET waiting_since = ("
                " SELECT max(offers.offered_at) FROM offers"
                " WHERE offers.tenant_id = memberships.tenant_id"
                " AND offers.membership_id = memberships.id)"
                " WHERE EXISTS (SELECT 1 FROM offers"
                " WHERE offers.tenant_id = memberships.tenant_id"
                " AND offers.membership_id = memberships.id)"
            )
        )
        db.session.commit()
        # As autovacuum would have by now: planned without statistics, deriving the
        # pool joins 650,000 people to their checks row by row, for hours.
        owner = create_engine(app.extensions["nyby.settings"].migration_database_url)
        vacuum(owner)
        owner.dispose()
        pool.rebuild(db.session.connection(), tenant.id)  # written around the ORM
        db.session.commit()
    nearest = {
        place: [
            c[0]
            for c in sorted(clients, key=lambda c: squared_km(place, c[1].latitude, c[1].longitude))
        ][:20]
        for places in PLACES.values()
        for place in places
    }
    return England(
        tenant_id=tenant.id,
        poster=professionals[0]["id"],
        members=members,
        people=people,
        clients=nearest,
        anywhere=[c[0] for c in rng.sample(clients, 2 * WORKER_TASKS)],
        rows=seeder.rows,
    )


def _volunteers(
    seeder: Seeder, roles: dict[str, uuid.UUID], checks: dict[str, uuid.UUID]
) -> tuple[list[uuid.UUID], dict[uuid.UUID, Person], dict[str, list[uuid.UUID]]]:
    """The volunteers, their roles, checks and devices; who is on duty where."""
    rng, now = seeder.rng, seeder.now
    on_duty = set(rng.sample(range(VOLUNTEERS), ON_DUTY))
    members: list[uuid.UUID] = []
    people: dict[uuid.UUID, Person] = {}
    by_cell: dict[str, list[uuid.UUID]] = {}
    shared: dict[frozenset[str], frozenset[str]] = {}
    for start in range(0, VOLUNTEERS, BATCH):
        accounts, memberships, assignments, records, devices = [], [], [], [], []
        for i in range(start, min(start + BATCH, VOLUNTEERS)):
            channels = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
            account = seeder.account("volunteer", i, phone="sms" in channels.get("offers", []))
            accounts.append(account)
            home = seeder.sampler.point()
            radius = rng.choice([None, 2.0, 3.0, 3.0, 5.0, 5.0, 5.0, 8.0, 8.0, 15.0])
            on = i in on_duty
            until = None
            if on and (pick := rng.random()) < 0.06:
                hours = rng.randint(1, 12)
                until = (
                    now - timedelta(hours=hours) if pick < 0.01 else now + timedelta(hours=hours)
                )
            held = [key for key, (share, *_) in ROLES.items() if rng.random() < share] or [
                PUSH_ROLE
            ]
            statuses = {
                key: rng.choices(["approved", "applied", "suspended", "rejected"], [93, 4, 2, 1])[0]
                for key in held
            }
            member_id = uuid.uuid4()
            valid = _checks(seeder, records, member_id, held, checks)
            member = seeder.membership(
                account,
                id=member_id,
                is_volunteer=True,
                home_latitude=home.latitude,
                home_longitude=home.longitude,
                home_area_cell=home.area_cell,
                travel_radius_km=radius,
                on_duty=on,
                on_duty_until=until,
                # Those on duty first went on duty 1 to 300 days ago (no draw: the seed's
                # random sequence stays as it was).
                first_on_duty_at=now - timedelta(days=1 + i % 300) if on else None,
                availability=_availability(rng),
                languages=["en", rng.choice(LANGUAGES)] if rng.random() < 0.1 else ["en"],
                preferred_roles=[rng.choice(held)] if rng.random() < 0.2 else [],
                notification_channels=channels,
                max_alerts_per_day=rng.choice([3, 5]) if rng.random() < 0.2 else None,
                first_approved_at=(
                    now - timedelta(days=rng.randint(30, 300))
                    if "approved" in statuses.values()
                    else None
                ),
                **_quiet_hours(rng),
            )
            memberships.append(member)
            for key, status in statuses.items():
                assignments.append(
                    seeder.stamp(
                        membership_id=member["id"],
                        role_id=roles[key],
                        status=status,
                        approved_at=now - timedelta(days=200) if status != "applied" else None,
                    )
                )
            for _ in range(rng.choices([0, 1, 2], [65, 30, 5])[0]):
                device = uuid.uuid4().hex
                devices.append(
                    {
                        "tenant_id": seeder.tenant_id,
                        "id": uuid.uuid4(),
                        "membership_id": member["id"],
                        "endpoint": f"https://push.example/{device}",
                        "p256dh": "B" + device * 2,
                        "auth": device[:22],
                        "created_at": now,
                    }
                )
            members.append(member["id"])
            duty_now = on and (until is None or until > now)
            may_take = frozenset(
                key
                for key, status in statuses.items()
                if duty_now and status == "approved" and set(ROLES[key][1]) <= valid
            )
            may_take = shared.setdefault(may_take, may_take)  # a few sets, shared by all
            people[member["id"]] = Person(home.latitude, home.longitude, radius, may_take)
            if duty_now:
                by_cell.setdefault(home.area_cell, []).append(member["id"])
        seeder.write(Account, accounts)
        seeder.write(Membership, memberships)
        seeder.write(RoleAssignment, assignments)
        seeder.write(CheckRecord, records)
        seeder.write(PushSubscription, devices)
    return members, people, by_cell


def _checks(
    seeder: Seeder,
    records: list[dict[str, Any]],
    member_id: uuid.UUID,
    held: list[str],
    checks: dict[str, uuid.UUID],
) -> set[str]:
    """Check records for the roles held; returns the checks that are valid now."""
    rng, now = seeder.rng, seeder.now
    needed = sorted({check for key in held for check in ROLES[key][1]})
    valid = set()
    for key in needed:
        pick = rng.random()
        if pick < 0.02:
            continue  # never sent
        _, months = CHECKS[key]
        expires = None if months is None else now + timedelta(days=rng.randint(1, 30 * months))
        if expires is not None and rng.random() < 0.03:
            expires = now - timedelta(days=rng.randint(1, 90))
        status = "pending" if pick < 0.03 else "verified"
        records.append(
            seeder.stamp(
                membership_id=member_id,
                check_type_id=checks[key],
                status=status,
                verified_at=now - timedelta(days=200) if status == "verified" else None,
                expires_at=expires,
            )
        )
        if status == "verified" and (expires is None or expires > now):
            valid.add(key)
    return valid


def _availability(rng: random.Random) -> list[dict[str, str]]:
    if rng.random() >= 0.4:
        return []
    return [{"day": d, "part": p} for d, p in sorted(rng.sample(PARTS, rng.randint(3, 10)))]


def _quiet_hours(rng: random.Random) -> dict[str, clock | None]:
    pick = rng.random()
    if pick < 0.25:
        return {"quiet_hours_start": clock(22), "quiet_hours_end": clock(7)}
    if pick < 0.30:
        return {"quiet_hours_start": clock(21), "quiet_hours_end": clock(8)}
    return {"quiet_hours_start": None, "quiet_hours_end": None}


def _clients(seeder: Seeder) -> list[tuple[uuid.UUID, Place]]:
    rng = seeder.rng
    clients = []
    rows = []
    for i in range(CLIENTS):
        place = seeder.sampler.point()
        row = seeder.stamp(
            name=f"Client {i:06}",
            address=f"{i} Example Road",
            interpreter_language=rng.choice(INTERPRETED) if rng.random() < 0.06 else None,
            **place.columns(),
        )
        rows.append(row)
        clients.append((row["id"], place))
    seeder.write(Client, rows)
    return clients


def _history(
    seeder: Seeder,
    roles: dict[str, uuid.UUID],
    categories: dict[str, uuid.UUID],
    posters: list[uuid.UUID],
    clients: list[tuple[uuid.UUID, Place]],
    by_cell: dict[str, list[uuid.UUID]],
) -> None:
    """A month of pushed tasks and their offers, to people on duty near each task."""
    rng, now = seeder.rng, seeder.now
    role_keys = list(ROLES)
    for start in range(0, PAST_TASKS, BATCH):
        tasks, offers = [], []
        for _ in range(start, min(start + BATCH, PAST_TASKS)):
            client_id, place = rng.choice(clients)
            role = rng.choices(role_keys, [80, 10, 10])[0]
            posted = now - timedelta(minutes=rng.randint(10, PAST_DAYS * 24 * 60))
            nearby = list(by_cell.get(place.area_cell, []))
            if len(nearby) < PAST_OFFERS_PER_TASK:
                for cell in h3.grid_disk(place.area_cell, 1):
                    if cell != place.area_cell:
                        nearby += by_cell.get(str(cell), [])
            offered = rng.sample(nearby, min(PAST_OFFERS_PER_TASK, len(nearby)))
            status = rng.choices(["completed", "expired", "cancelled"], [80, 12, 8])[0]
            taker = offered[0] if status == "completed" and offered else None
            if status == "completed" and taker is None:
                status = "expired"
            due = posted + timedelta(hours=rng.randint(4, 72))
            task = seeder.stamp(
                client_id=client_id,
                role_id=roles[role],
                category_id=categories[role],
                series_id=None,
                posted_by=rng.choice(posters),
                title="Shopping and a chat",
                description="Bread, milk, tea; she pays by card on delivery.",
                estimated_minutes=rng.choice([30, 45, 60, 90]),
                urgency=rng.choices(["routine", "soon", "urgent"], [70, 20, 10])[0],
                what_to_bring="",
                payment_note="",
                address="1 Example Road",
                **place.columns(),
                earliest_start=posted,
                due_by=due,
                status=status,
                reserved_until=None,
                assignee_id=taker,
                assigned_at=posted + timedelta(minutes=rng.randint(2, 30)) if taker else None,
                started_at=None,
                completed_at=due if taker else None,
                minutes_spent=60 if taker else None,
                outcome_note="",
                closing_reason="",
                created_at=posted,
                updated_at=posted,
            )
            tasks.append(task)
            for person in offered:
                if person == taker:
                    answer = "accepted"
                elif status == "completed" or status == "cancelled":
                    answer = rng.choices(["withdrawn", "declined", "expired"], [45, 25, 30])[0]
                else:
                    answer = rng.choices(["expired", "declined"], [60, 40])[0]
                offered_at = posted + timedelta(seconds=rng.randint(0, 60))
                answered = answer in ("accepted", "declined")
                offers.append(
                    {
                        "tenant_id": seeder.tenant_id,
                        "id": uuid.uuid4(),
                        "task_id": task["id"],
                        "membership_id": person,
                        "wave": 1,
                        "score": round(rng.uniform(1, 4), 6),
                        "status": answer,
                        "offered_at": offered_at,
                        "expires_at": offered_at + timedelta(minutes=10),
                        "responded_at": (
                            offered_at + timedelta(minutes=rng.randint(1, 9)) if answered else None
                        ),
                    }
                )
        seeder.write(Task, tasks)
        seeder.write(Offer, offers)


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """The tenant is seeded once for the module and wiped when it ends (see ``england``)."""
    yield


@pytest.fixture(scope="module")
def england(app: Flask, owner_engine: Engine, request: pytest.FixtureRequest) -> Iterator[England]:
    with seeded_once(
        app, owner_engine, _seed, lambda seeded: _report(request, owner_engine, seeded)
    ) as seeded:
        yield seeded


def _empty_redis(app: Flask) -> None:
    client = app.extensions["nyby.redis"]
    for key in client.scan_iter("rq:*"):
        client.delete(key)


@pytest.fixture
def jobs_held(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The rounds time the request and the wave job alone, not earlier rounds' deliveries
    running beside them in a thread: the in-process queue's jobs are held (on Redis they
    are enqueued for real, and cleared afterwards)."""
    if app.extensions["nyby.redis"] is not None:
        yield
        _empty_redis(app)
    else:
        hold_jobs(app, monkeypatch)
        yield


# --- What is measured ------------------------------------------------------------------


def _actor(england: England) -> Actor:
    """As ``resolve_tenant`` finds them for a request: the tenant by slug, the membership."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == SLUG))
    membership = db.session.scalar(
        select(Membership).where(Membership.account_id == england.poster, Membership.is_active)
    )
    assert tenant is not None and membership is not None
    return Actor(account=membership.account, tenant=tenant, membership=membership)


def _task_data(
    client_id: uuid.UUID, rng: random.Random, near: Place | None, role: str = PUSH_ROLE
) -> dict[str, Any]:
    """A task for a client, at ``near`` give or take 1 km (else at the client's home),
    starting within six hours and due one to three days after."""
    start = utcnow() + timedelta(minutes=rng.randint(30, 6 * 60))
    data: dict[str, Any] = {
        "role": role,
        "category": ROLES[role][3],
        "client_id": client_id,
        "title": "Shopping and a chat",
        "description": "Bread, milk, tea and a newspaper; she pays by card on delivery.",
        "estimated_minutes": rng.choice([30, 45, 60, 90]),
        "earliest_start": start,
        "due_by": start + timedelta(hours=rng.randint(24, 72)),
        "urgency": "soon",
    }
    if near is not None:
        bearing, km = rng.uniform(0, 2 * math.pi), math.sqrt(rng.random())
        latitude = near.latitude + km * math.cos(bearing) / KM_PER_DEGREE
        per_degree_lng = KM_PER_DEGREE * math.cos(math.radians(near.latitude))
        data |= {
            "latitude": latitude,
            "longitude": near.longitude + km * math.sin(bearing) / per_degree_lng,
            "address": "1 Example Road",
        }
    return data


@dataclass
class Round:
    task_id: uuid.UUID
    place: Place | None
    post_s: float
    wave_s: float
    offered: int


def _post(app: Flask, england: England, data: dict[str, Any]) -> uuid.UUID:
    """The request: resolve the caller, post the task, commit (its wave job is enqueued)."""
    with app.app_context(), tenant_scope(england.tenant_id):
        task = post_task(_actor(england), data)
        task_id = task.id
        db.session.commit()
    return task_id


def _post_and_first_wave(
    app: Flask, england: England, data: dict[str, Any], log: list[Round]
) -> None:
    started = time.perf_counter()
    task_id = _post(app, england, data)
    posted = time.perf_counter()
    with app.app_context():
        offered = dispatch_wave(str(england.tenant_id), str(task_id))  # as a worker runs it
    log.append(
        Round(
            task_id,
            Place(data["latitude"], data["longitude"]) if "latitude" in data else None,
            posted - started,
            time.perf_counter() - posted,
            offered,
        )
    )


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p99 = statistics.quantiles(ordered, n=100, method="inclusive")[98]
    return statistics.median(ordered) * 1000, p99 * 1000


def _record(benchmark: Any, england: England, key: str, **extra: Any) -> dict[str, Any]:
    p50, p99 = _percentiles(list(benchmark.stats.stats.data))
    figures = {"p50_ms": p50, "p99_ms": p99, "rounds": len(benchmark.stats.stats.data), **extra}
    benchmark.extra_info.update(figures)
    england.results[key] = figures
    return figures


def _rounds(seconds_per_call: float) -> int:
    return max(MIN_ROUNDS, min(ROUNDS, int(BUDGET_S / seconds_per_call)))


def test_baseline_primary_key_read(benchmark: Any, app: Flask, england: England) -> None:
    benchmark.group = "task posted -> first wave of offers committed"
    rng = random.Random("baseline")

    def read(member_id: uuid.UUID) -> None:
        with app.app_context(), tenant_scope(england.tenant_id):
            member = db.session.get(Membership, (england.tenant_id, member_id))
            db.session.commit()
        assert member is not None

    benchmark.pedantic(
        read,
        setup=lambda: ((rng.choice(england.members),), {}),
        rounds=ROUNDS,
        warmup_rounds=WARMUP,
    )
    _record(benchmark, england, "baseline")


@pytest.mark.parametrize("case", CASES)
def test_task_posted_to_first_wave(
    benchmark: Any, app: Flask, england: England, jobs_held: None, case: str
) -> None:
    benchmark.group = "task posted -> first wave of offers committed"
    rng = random.Random(case)
    role = REMOTE_ROLE if case == "remote" else PUSH_ROLE
    log: list[Round] = []

    def task() -> tuple[tuple[Any, ...], dict[str, Any]]:
        if case == "remote":
            data = _task_data(rng.choice(england.anywhere), rng, None, role)
        else:
            place = rng.choice(PLACES[case])
            data = _task_data(rng.choice(england.clients[place]), rng, place, role)
        return (app, england, data, log), {}

    started = time.perf_counter()
    _post_and_first_wave(*task()[0])
    rounds = _rounds(time.perf_counter() - started)
    benchmark.pedantic(_post_and_first_wave, setup=task, rounds=rounds, warmup_rounds=WARMUP)
    measured = log[-rounds:]

    # A full wave every round (the countryside may have fewer people near: at least
    # one, perhaps in a wider wave), each of them someone the seed says may take it.
    wanted = range(1, WAVE_SIZE + 1) if case == "countryside" else [WAVE_SIZE]
    assert all(r.offered in wanted for r in log), [r.offered for r in log]
    _check_offers(app, england, log, role)
    post = _percentiles([r.post_s for r in measured])
    wave = _percentiles([r.wave_s for r in measured])
    _record(benchmark, england, case, post=post, wave=wave)


def _check_offers(app: Flask, england: England, log: list[Round], role: str) -> None:
    """Every offer went to someone on duty and qualified for the role, within the
    radius of the wave that found them and their own travel radius."""
    with app.app_context(), tenant_scope(england.tenant_id):
        offers = db.session.execute(
            select(Offer.task_id, Offer.membership_id, Offer.wave, Offer.status).where(
                Offer.task_id.in_([r.task_id for r in log])
            )
        ).all()
    offered: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
    for task_id, member, wave, status in offers:
        assert status == "offered"
        offered.setdefault(task_id, []).append((member, wave))
    for r in log:
        assert len(offered[r.task_id]) == r.offered
        for member, wave in offered[r.task_id]:
            person = england.people[member]
            assert role in person.may_take
            if r.place is None:
                continue  # remote: distance plays no part
            radius = RADIUS_KM + (wave - 1) * RADIUS_GROWTH_KM
            away = squared_km(r.place, person.latitude, person.longitude)
            assert away <= radius**2
            assert person.travel_radius_km is None or away <= person.travel_radius_km**2


# --- One worker ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# As ``nyby worker`` runs jobs (nyby.jobs.worker), in burst mode: stop once the queue is empty.
WORKER = """
import rq
from nyby import create_app

app = create_app()
with app.app_context():
    rq.Worker(["default"], connection=app.extensions["nyby.redis"]).work(burst=True)
"""
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs a real Redis for a real RQ worker: set REDIS_URL",
)


def _work(app: Flask, databases: Databases, data_dir: Path) -> list[Job]:
    """Run one worker until the queue is empty; the jobs it finished (then forgotten)."""
    env = {
        **os.environ,
        "DATABASE_URL": databases.app_url,
        "MIGRATION_DATABASE_URL": databases.owner_url,
        "NYBY_DATA_DIR": str(data_dir),
        "SECRET_KEY": "test-secret",
    }
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    queue = app.extensions["nyby.queue"].rq
    assert queue.count == 0 and queue.failed_job_registry.count == 0
    ids = queue.finished_job_registry.get_job_ids()
    jobs = [job for job in Job.fetch_many(ids, connection=queue.connection) if job]
    _empty_redis(app)
    return jobs


def _rate(jobs: list[Job], count: int | None = None) -> tuple[float, float]:
    """Per second over the jobs' own span (first start to last end), and the span."""
    first = min(job.started_at for job in jobs if job.started_at)
    last = max(job.ended_at for job in jobs if job.ended_at)
    span = (last - first).total_seconds()
    return (len(jobs) if count is None else count) / span, span


@needs_redis
def test_worker_no_op_jobs(
    benchmark: Any, app: Flask, england: England, databases: Databases, tmp_path: Path
) -> None:
    benchmark.group = "one worker"
    _empty_redis(app)
    queue = app.extensions["nyby.queue"].rq
    for _ in range(WORKER_TASKS):
        queue.enqueue("os.getpid")  # a job that does nothing: RQ's own cost
    jobs: list[Job] = []
    benchmark.pedantic(lambda: jobs.extend(_work(app, databases, tmp_path)), rounds=1)
    assert len(jobs) == WORKER_TASKS
    per_second, span = _rate(jobs)
    england.results["no-op jobs"] = {"jobs": len(jobs), "span_s": span, "jobs_per_s": per_second}


@needs_redis
def test_worker_wave_jobs(
    benchmark: Any, app: Flask, england: England, databases: Databases, tmp_path: Path
) -> None:
    benchmark.group = "one worker"
    _empty_redis(app)
    rng = random.Random("worker")
    since = utcnow()
    tasks = [
        _post(app, england, _task_data(client, rng, None))
        for client in england.anywhere[:WORKER_TASKS]
    ]
    queue = app.extensions["nyby.queue"].rq
    assert queue.count == WORKER_TASKS  # one wave job per task, waiting

    jobs: list[Job] = []
    benchmark.pedantic(lambda: jobs.extend(_work(app, databases, tmp_path)), rounds=1)

    with app.app_context(), tenant_scope(england.tenant_id):
        per_task = dict(
            db.session.execute(
                select(Offer.task_id, func.count())
                .where(Offer.task_id.in_(tasks))
                .group_by(Offer.task_id)
            ).all()
        )
        outbox = db.session.execute(
            select(OutgoingMail.channel, func.count(), func.count(OutgoingMail.sent_at))
            .where(OutgoingMail.created_at >= since)
            .group_by(OutgoingMail.channel)
        ).all()
    offers = sum(per_task.values())
    deliveries = sum(total for _, total, _ in outbox)
    # Every task offered (to fewer than a wave only where few people live), every outbox
    # row sent once and left in the outbox folder: a wave job per task and a delivery
    # job per outbox row, nothing else.
    assert sorted(per_task) == sorted(tasks) and set(per_task.values()) <= set(
        range(1, WAVE_SIZE + 1)
    )
    assert all(total == sent for _, total, sent in outbox) and deliveries > 0
    assert len(list((tmp_path / "outbox").iterdir())) == deliveries
    assert len(jobs) == WORKER_TASKS + deliveries
    per_second, span = _rate(jobs)
    took: dict[str, list[float]] = {}
    for job in jobs:
        if job.started_at and job.ended_at:
            seconds = (job.ended_at - job.started_at).total_seconds()
            took.setdefault(job.func_name.rsplit(".", 1)[-1], []).append(seconds)
    england.results["wave jobs"] = {
        "median_ms": {name: statistics.median(s) * 1000 for name, s in sorted(took.items())},
        "jobs": len(jobs),
        "span_s": span,
        "jobs_per_s": per_second,
        "offers": offers,
        "offers_per_s": offers / span,
        "deliveries": deliveries,
        "deliveries_per_s": deliveries / span,
        "channels": {channel: total for channel, total, _ in outbox},
    }


def _report(request: pytest.FixtureRequest, engine: Engine, england: England) -> None:
    """The table, printed when the module ends (pytest-benchmark shows medians only)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    results = england.results
    if reporter is None or capture is None or not results:
        return
    seeded = ", ".join(f"{table} {count:,}" for table, count in sorted(england.rows.items()))
    lines = [
        "",
        f"Push dispatch on {engine.dialect.name}: seeded in {england.seconds_to_seed:.0f} s "
        f"({seeded}).",
        f"Task posted -> first wave of {WAVE_SIZE} offers committed: p50 / p99 in ms "
        f"(rounds); target p99 < {TARGET_P99_MS:.0f} ms",
        f"{'':<16}{'posted -> wave':>20}{'post + commit':>16}{'wave job':>16}"
        f"{'ratio to baseline p50 / p99':>30}",
    ]
    base = results.get("baseline")
    for where in CASES:
        found = results.get(where)
        if found is None:
            continue
        ratio = (
            f"{found['p50_ms'] / base['p50_ms']:.0f} / {found['p99_ms'] / base['p99_ms']:.0f}"
            if base
            else "-"
        )
        lines.append(
            f"{where:<16}{_figures(found):>20}{_pair(found['post']):>16}"
            f"{_pair(found['wave']):>16}{ratio:>30}"
        )
    if base:
        lines.append(f"{'primary-key read (baseline)':<32}{_figures(base):>20}")
    noop, waves = results.get("no-op jobs"), results.get("wave jobs")
    if waves:
        lines.append(
            f"One worker: {WORKER_TASKS} wave jobs and {waves['deliveries']} delivery jobs "
            f"({waves['channels']}) in {waves['span_s']:.1f} s: {waves['jobs_per_s']:.1f} "
            f"jobs/s, {waves['offers_per_s']:.1f} offers/s, {waves['deliveries_per_s']:.1f} "
            "deliveries/s; median job "
            + ", ".join(f"{name} {ms:.0f} ms" for name, ms in waves["median_ms"].items())
        )
    if noop:
        ratio = (
            f" (wave run / no-op: {waves['jobs_per_s'] / noop['jobs_per_s']:.2f})" if waves else ""
        )
        lines.append(
            f"One worker: {noop['jobs']} no-op jobs in {noop['span_s']:.1f} s: "
            f"{noop['jobs_per_s']:.1f} jobs/s{ratio}"
        )
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


def _figures(figures: dict[str, Any]) -> str:
    return f"{figures['p50_ms']:.1f} / {figures['p99_ms']:.1f} ({figures['rounds']})"


def _pair(figures: tuple[float, float]) -> str:
    return f"{figures[0]:.1f} / {figures[1]:.1f}"
