"""``nyby simulate-dispatch``: a month of NHS Volunteer Responders demand through the real
dispatcher, for our ranking and for "nearest first", on the same people, the same tasks
and the same answers.

Why: NHS Volunteer Responders offered a task to only 45 % of on-duty volunteers in a
given week, about two thirds of approved volunteers never had one, and low activity
was the first cause of dissatisfaction. Issue 5's target for our ranking is at least
80 % of on-duty volunteers offered a task each week, with a median time from posting to
acceptance no more than 10 % above nearest first's.

What runs is the application itself, on a scratch SQLite database in a temporary
folder (never the configured one; removed afterwards): a care professional posts each
task (``tasks.services.post_task``), the dispatcher's own jobs send the waves
(``dispatch.jobs.dispatch_wave``, and the minute sweep ``send_due_waves`` once a wave's
time is up), volunteers answer through ``dispatch.services.accept_offer`` and
``decline_offer`` (an answer after its offer expired still counts while the task is
open, as in the app), waves widen and escalate to the coordinator, the five-minute
``expire_overdue_tasks`` sweep closes what nobody took, and a taker starts and completes
the task (so continuity and the recent-load term see it). Every job the app enqueues
runs in order at the simulated time, including mail delivery, which writes to the
embedded outbox in the temporary folder: nothing is sent. Time is simulated
(``core.db.simulated_clock``): the replay jumps from one event to the next, so a month
takes a minute or two.

Both policies replay from the same seeded database (restored before each), so the
people and their places are the same; the tasks (when, where, what) are drawn once; and
each volunteer's answer to a given task is drawn from a generator seeded with (seed,
task, volunteer), so the same person asked the same task answers the same way, after the
same delay, under both policies. The same seed gives the same report. The policies
differ only in the tenant's weights:

- **our ranking**: the default weights (``DispatchWeightsSchema``);
- **nearest first**: distance alone (every other weight 0). ``matching`` reads at most
  ``CANDIDATE_LIMIT`` candidates per wave (100), those who have waited longest, before it
  ranks them, which would make the baseline partly fair; for the baseline the limit is
  raised to the size of the pool, so every eligible person is ranked and the nearest are
  asked first. Our ranking runs with the limit as shipped, which binds in towns.

Proportions, from the figures in issue 5 and DESIGN.md (NHS Volunteer Responders,
January 2021: 647,405 approved volunteers, 397,940 ever on duty, 1,766,210 tasks
created, 1,446,681 completed, about 145,000 completed a month; and NHS England, June
2020: 45 % of the volunteers on duty were offered a task in the past week):

- **Demand per volunteer**: 145,000 completed a month at the 81.9 % completion rate is
  about 177,000 tasks posted a month, for 397,940 volunteers on duty: 0.102 tasks per
  on-duty volunteer per week (``TASKS_PER_VOLUNTEER_WEEK``). Supply is far above
  demand. "Ever on duty" is more people than are on duty in any one week, so this
  understates demand per on-duty volunteer: if anything it makes the target harder.
- **Everyone simulated is on duty all period** (the share's denominator), qualified for
  community response (shopping, prescriptions: 85 % of tasks); a quarter also drive
  (patient transport: 15 % of tasks, a three-hour slot one to three days ahead). 40 %
  work, and gave weekday evenings and weekends as their availability; the others gave
  none (any time). Nobody set a travel radius, quiet hours or an alert limit of their
  own (the tenant's 10 a day applies).
- **Place**: a square district just large enough to hold the simulated volunteers at
  NHS density (397,940 on duty over England's 130,279 km2: 3.05 per km2; 1000
  volunteers make an 18 km square), with one large town and four small ones. Demand is
  clustered in towns: 90 % of clients live around a town centre (a Gaussian of the
  town's radius), 10 % anywhere. Volunteers are spread more widely: 75 % around towns at
  one and a half times the radius, 25 % anywhere (about a fifth of England lives in
  rural areas). Clients ask about twice a month each (one client per five volunteers),
  so continuity can play. Density matters to the dispatcher (how many people a wave's
  circle holds), so it scales with the pool rather than the map staying fixed.
- **When**: tasks are posted between 08:00 and 20:00, weekend days at half the weekday
  rate; community tasks are due within 24 to 48 hours.
- **Policy**: the tenant's defaults (``DispatchPolicySchema``): waves of 15, 10 minutes
  apart, 3 waves, 3 km growing by 2 km a wave, then escalation; ``--wave-size`` changes
  the wave size for both policies. Both policies run on the same tenant with the same
  policy: only the weights differ, so nearest first asks as many people per wave.
- **Remote tasks are left out** (NHS's "check in and chat" calls): distance plays no
  part in them, so "nearest first" has no order for them and would fall back to the
  dispatcher's tie-break (the same few people every time); and anyone may take them, so
  they would only raise our ranking's share. Leaving them out makes the target harder.

The response model is an assumption (NHS published no answer rates), set before the
first run and not tuned to the target:

- each volunteer answers a given offer with their own probability, drawn once,
  uniformly between 30 % and 90 % (the rest let it expire);
- an answer is yes with probability 70 % at the task's door, halving every 5 km
  (``ACCEPT_AT_DOOR``, ``ACCEPT_HALVES_KM``): **acceptance depends on distance**, so
  asking people further away is not free;
- the delay to answer does not depend on distance: log-normal, median 6 minutes,
  about 30 % of answers after the 10-minute wave timeout.

The report (``simulation_report``) gives, per policy: the share of on-duty volunteers
offered at least one task in each complete week and its mean; the median and p90
minutes from posting to acceptance; tasks unmet (escalated after the last wave, or
expired untaken); how offers ended and how far they reached; offers per volunteer over
the period; then the verdict against the target and, if it is missed, why, from three
ceilings no ranking can beat: the share of volunteers within the last wave's radius of a
task in their roles that week (nobody else can be offered one), within the first wave's
(whom a ranking chooses from while first waves succeed), and offers sent that week over
the pool (the share if every offer went to someone new).
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask
from sqlalchemy import Table, event, func, insert, select

from nyby.auth.models import Account
from nyby.clients.models import Client
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.configuration.schemas import DispatchPolicySchema, DispatchWeightsSchema
from nyby.core import migrations
from nyby.core.db import db, new_id, simulated_clock
from nyby.core.errors import Conflict
from nyby.dispatch import matching, pool, ranking
from nyby.dispatch.jobs import dispatch_wave, send_due_waves
from nyby.dispatch.models import Offer, OfferStatus, TaskDispatch
from nyby.dispatch.services import accept_offer, decline_offer
from nyby.dispatch.simulation_report import verdict
from nyby.dispatch.waves import policy_for
from nyby.geo import Place, distance_km
from nyby.members.models import Membership
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tasks import services as tasks
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

# -- the source figures (NHS Volunteer Responders, January 2021) -------------------------------

EVER_ON_DUTY = 397_940
TASKS_CREATED = 1_766_210
TASKS_COMPLETED = 1_446_681
COMPLETED_PER_MONTH = 145_000
NHS_OFFERED_WEEKLY = 0.45  # NHS England, June 2020: offered a task in the past week
DAYS_PER_MONTH = 365.25 / 12
TASKS_PER_VOLUNTEER_WEEK = (
    COMPLETED_PER_MONTH / (TASKS_COMPLETED / TASKS_CREATED) / EVER_ON_DUTY / DAYS_PER_MONTH * 7
)

# -- when and where ----------------------------------------------------------------------------

# A Monday in winter: the tenant's zone (Europe/London) is UTC all month.
START = datetime(2025, 1, 6, tzinfo=UTC)
SLUG = "simulated-district"

# -- place ----------------------------------------------------------------------------------------

ENGLAND_KM2 = 130_279
# On-duty volunteers per square km at NHS Volunteer Responders' scale: the district is
# drawn just large enough to hold the simulated pool at this density.
ON_DUTY_PER_KM2 = EVER_ON_DUTY / ENGLAND_KM2
CENTRE = Place(52.6369, -1.1398)  # somewhere in England; only distances matter
KM_PER_DEGREE = 111.195
# A district: one large town and four small ones. North and east of the centre and the
# town's radius (a Gaussian's sigma) as fractions of the district's side; share of the
# town-dwellers living there.
TOWNS = [
    ("large town", 0.0, 0.0, 0.48, 0.10),
    ("north-west town", 0.28, -0.30, 0.13, 0.05),
    ("north-east town", 0.32, 0.27, 0.13, 0.05),
    ("south-west town", -0.30, -0.25, 0.13, 0.05),
    ("south-east town", -0.27, 0.31, 0.13, 0.05),
]
CLIENTS_IN_TOWNS = 0.90
VOLUNTEERS_IN_TOWNS = 0.75
VOLUNTEER_SPREAD = 1.5  # volunteers live around towns this many times more widely
CLIENTS_PER_VOLUNTEER = 0.2

# -- people and tasks -----------------------------------------------------------------------------

COMMUNITY, TRANSPORT = "community-response", "patient-transport"
TASK_MIX = {COMMUNITY: 0.85, TRANSPORT: 0.15}
DRIVERS = 0.25
WORKING = 0.40
WORKING_AVAILABILITY = [
    {"day": day, "part": "evening"} for day in ("mon", "tue", "wed", "thu", "fri")
] + [
    {"day": day, "part": part}
    for day in ("sat", "sun")
    for part in ("morning", "afternoon", "evening")
]
POSTING_HOURS = (8, 20)
WEEKEND_RATE = 0.5

# -- the response model ---------------------------------------------------------------------------

ANSWER_RANGE = (0.3, 0.9)
ACCEPT_AT_DOOR = 0.7
ACCEPT_HALVES_KM = 5.0
ANSWER_MEDIAN_MINUTES = 6.0
ANSWER_SIGMA = 1.0

POLICIES = {
    "our ranking": DispatchWeightsSchema().load({}),
    "nearest first": {term: 1.0 if term == "distance" else 0.0 for term in ranking.TERMS},
}
# Offers per volunteer over the period: label, least, most.
DISTRIBUTION = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-9", 5, 9),
    ("10+", 10, 10**9),
)


@dataclass(frozen=True)
class Volunteer:
    index: int
    id: uuid.UUID
    place: Place
    drives: bool
    working: bool
    answers: float  # the chance they answer an offer at all


@dataclass(frozen=True)
class Need:
    """A task to post: when, for whom, what."""

    index: int
    posted_at: datetime
    client: int
    role: str
    title: str
    minutes: int
    earliest_start: datetime
    due_by: datetime


@dataclass(frozen=True)
class District:
    volunteers: list[Volunteer]
    clients: list[tuple[uuid.UUID, Place]]
    needs: list[Need]
    poster_id: uuid.UUID
    coordinator_id: uuid.UUID


# -- drawing the district -------------------------------------------------------------------------


def _new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _point(rng: random.Random, side: float, in_towns: float, spread: float) -> Place:
    """Around a town (a Gaussian of its radius times ``spread``) with probability
    ``in_towns``, else anywhere in the district; redrawn until inside it."""
    km_per_degree_lng = KM_PER_DEGREE * math.cos(math.radians(CENTRE.latitude))
    while True:
        if rng.random() < in_towns:
            _, north, east, _, sigma = rng.choices(TOWNS, [town[3] for town in TOWNS])[0]
            north += rng.gauss(0, sigma * spread)
            east += rng.gauss(0, sigma * spread)
        else:
            north, east = rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)
        if abs(north) <= 0.5 and abs(east) <= 0.5:
            return Place(
                round(CENTRE.latitude + north * side / KM_PER_DEGREE, 6),
                round(CENTRE.longitude + east * side / km_per_degree_lng, 6),
            )


def side_km(volunteers: int) -> float:
    """The side of a square district holding ``volunteers`` at NHS density."""
    return math.sqrt(volunteers / ON_DUTY_PER_KM2)


def draw_district(volunteers: int, days: int, seed: int) -> District:
    """The people and a month of tasks, the same for both policies."""
    rng = random.Random(seed)  # noqa: S311 (a simulation, not a secret)
    side = side_km(volunteers)
    people = [
        Volunteer(
            index=i,
            id=_new_id(rng),
            place=_point(rng, side, VOLUNTEERS_IN_TOWNS, VOLUNTEER_SPREAD),
            drives=rng.random() < DRIVERS,
            working=rng.random() < WORKING,
            answers=rng.uniform(*ANSWER_RANGE),
        )
        for i in range(volunteers)
    ]
    clients = [
        (_new_id(rng), _point(rng, side, CLIENTS_IN_TOWNS, 1.0))
        for _ in range(max(10, round(volunteers * CLIENTS_PER_VOLUNTEER)))
    ]
    day_rates = [
        WEEKEND_RATE if (START + timedelta(days=day)).weekday() >= 5 else 1.0 for day in range(days)
    ]
    count = round(TASKS_PER_VOLUNTEER_WEEK * volunteers * days / 7)
    times = sorted(
        START
        + timedelta(days=rng.choices(range(days), day_rates)[0])
        + timedelta(minutes=rng.randrange(POSTING_HOURS[0] * 60, POSTING_HOURS[1] * 60))
        for _ in range(count)
    )
    needs = []
    for index, posted in enumerate(times):
        role = rng.choices(list(TASK_MIX), list(TASK_MIX.values()))[0]
        if role == COMMUNITY:
            title, minutes = rng.choice([("Shopping", 60), ("Collect a prescription", 30)])
            start = posted + timedelta(hours=1)
            due = posted + timedelta(hours=rng.uniform(24, 48))
        else:
            title, minutes = "Lift to a hospital appointment", 120
            start = posted + timedelta(hours=rng.uniform(24, 72))
            due = start + timedelta(hours=3)
        needs.append(
            Need(index, posted, rng.randrange(len(clients)), role, title, minutes, start, due)
        )
    return District(people, clients, needs, _new_id(rng), _new_id(rng))


def answer_of(seed: int, need: Need, volunteer: Volunteer, away_km: float) -> tuple[bool, float]:
    """Whether ``volunteer`` takes ``need`` and after how many minutes they answer, or
    (False, inf) if they never do. Seeded by the pair alone, so both policies get the
    same answer from the same person to the same task."""
    rng = random.Random(f"{seed}:{need.index}:{volunteer.index}")  # noqa: S311
    answers, yes, delay = rng.random(), rng.random(), rng.lognormvariate(0, ANSWER_SIGMA)
    if answers >= volunteer.answers:
        return False, math.inf
    accepts = yes < ACCEPT_AT_DOOR * 0.5 ** (away_km / ACCEPT_HALVES_KM)
    return accepts, ANSWER_MEDIAN_MINUTES * delay


# -- the scratch application ----------------------------------------------------------------------


def _scratch_app(folder: Path, database: Path) -> Flask:
    """The app on a SQLite file in ``folder``, with every backend embedded there: no
    environment variable can point it at a real database, queue or mail server."""
    from nyby import create_app
    from nyby.config import Settings

    url = f"sqlite:///{database}"
    settings = Settings.from_env(
        data_dir=folder,
        database_url=url,
        migration_database_url=url,
        redis_url=None,
        storage_backend="local",
        storage_dir=folder / "files",
        s3_bucket=None,
        mail_backend="outbox",
        sms_backend="outbox",
        push_backend="outbox",
        outbox_dir=folder / "outbox",
        smtp_url=None,
    )
    app = create_app(settings)
    app.extensions["nyby.queue"] = _HeldJobs()  # no worker thread at wall-clock time

    @event.listens_for(app.extensions["nyby.db.engine"], "connect")
    def _scratch(dbapi_connection: Any, _record: Any) -> None:
        # A throwaway file: no need to wait for the disk at every commit.
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    return app


class _HeldJobs:
    """The app's queue during a replay: jobs wait here, then run in order at the
    simulated time they were enqueued (a worker that is never behind)."""

    def __init__(self) -> None:
        self.waiting: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()

    def enqueue_many(self, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        self.waiting.extend(calls)

    def join(self) -> None:
        """Nothing runs behind the replay's back."""


def _seed_database(app: Flask, district: District, wave_size: int | None) -> uuid.UUID:
    """Schema, tenant, roles and people, in bulk; the tasks are posted during the replay."""
    with app.app_context(), simulated_clock(lambda: START):
        settings = app.extensions["nyby.settings"]
        migrations.upgrade(settings.migration_database_url)
        policy = {} if wave_size is None else {"wave_size": wave_size}
        tenant, _ = configuration.apply(db.session(), _configuration(policy))
        db.session.flush()
        with tenant_scope(tenant.id):
            roles = {r.key: r.id for r in db.session.scalars(select(VolunteerRole))}
            checks = {c.key: c.id for c in db.session.scalars(select(CheckType))}
            _insert_people(tenant.id, district, roles, checks)
            db.session.add_all(
                Client(
                    id=client_id, name=f"Client {i}", address=f"{i} Example Road", **place.columns()
                )
                for i, (client_id, place) in enumerate(district.clients)
            )
            db.session.commit()
        tenant_id = tenant.id
        db.session.remove()
        db.engine.dispose()
        return tenant_id


def _configuration(policy: dict[str, Any]) -> dict[str, Any]:
    def role(key: str, name: str, checks: list[str]) -> dict[str, Any]:
        return {"key": key, "name": name, "description": name, "checks": checks}

    return {
        "slug": SLUG,
        "name": "Simulated district",
        "kind": "charity",
        "locale": "en",
        "timezone": "Europe/London",
        "dispatch_policy": policy,
        "check_types": [
            {"key": "id-check", "name": "Identity check", "kind": "identity"},
            {"key": "licence", "name": "Driving licence", "kind": "other", "validity_months": 12},
        ],
        "roles": [
            role(COMMUNITY, "Community response", ["id-check"]),
            role(TRANSPORT, "Patient transport", ["id-check", "licence"]),
        ],
    }


def _insert_people(
    tenant_id: uuid.UUID,
    district: District,
    roles: dict[str, uuid.UUID],
    checks: dict[str, uuid.UUID],
) -> None:
    """Accounts, memberships, approved roles and verified checks, in bulk. Only the
    membership ids are drawn from the seed: the dispatcher breaks ties on them."""
    since = START - timedelta(days=60)
    stamp = {"created_at": since, "updated_at": since, "version_id": 1}
    accounts, memberships, assignments, records = [], [], [], []

    def person(member_id: uuid.UUID, name: str, **fields: Any) -> None:
        account_id = new_id()
        email = f"{name.lower().replace(' ', '-')}@simulation.invalid"
        accounts.append({"id": account_id, "email": email, "name": name, "is_active": True})
        memberships.append(_membership(member_id, account_id) | fields)

    person(district.poster_id, "Care Professional", is_professional=True, is_volunteer=False)
    person(district.coordinator_id, "Coordinator", is_coordinator=True, is_volunteer=False)
    for volunteer in district.volunteers:
        place = volunteer.place
        person(
            volunteer.id,
            f"Volunteer {volunteer.index}",
            on_duty=True,
            home_latitude=place.latitude,
            home_longitude=place.longitude,
            home_area_cell=place.area_cell,
            availability=WORKING_AVAILABILITY if volunteer.working else [],
        )
        for key in (COMMUNITY, TRANSPORT) if volunteer.drives else (COMMUNITY,):
            assignments.append(
                {
                    "id": new_id(),
                    "membership_id": volunteer.id,
                    "role_id": roles[key],
                    "status": "approved",
                    "approved_at": since,
                }
            )
        for key in ("id-check", "licence") if volunteer.drives else ("id-check",):
            expires = START + timedelta(days=365) if key == "licence" else None
            records.append(
                {
                    "id": new_id(),
                    "membership_id": volunteer.id,
                    "check_type_id": checks[key],
                    "status": "verified",
                    "verified_at": since,
                    "expires_at": expires,
                }
            )
    for model, rows, scoped in (
        (Account, accounts, False),
        (Membership, memberships, True),
        (RoleAssignment, assignments, True),
        (CheckRecord, records, True),
    ):
        tenant = {"tenant_id": tenant_id} if scoped else {}
        table = cast(Table, model.__table__)
        db.session.execute(insert(table), [row | stamp | tenant for row in rows])
    pool.rebuild(db.session.connection(), tenant_id)  # written around the ORM


def _membership(member_id: uuid.UUID, account_id: uuid.UUID) -> dict[str, Any]:
    """Every column a bulk insert needs (each row must give the same keys)."""
    return {
        "id": member_id,
        "account_id": account_id,
        "is_active": True,
        "is_admin": False,
        "is_coordinator": False,
        "is_professional": False,
        "is_staff": False,
        "is_volunteer": True,
        "on_duty": False,
        "home_latitude": None,
        "home_longitude": None,
        "home_area_cell": None,
        "availability": [],
        "skills": [],
        "languages": [],
        "preferred_roles": [],
        "notification_channels": {},
    }


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file (its write-ahead log included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


# -- one replay -----------------------------------------------------------------------------------


class Replay:
    """One policy's month: an event queue in simulated time over the real services."""

    def __init__(
        self,
        app: Flask,
        tenant_id: uuid.UUID,
        district: District,
        seed: int,
        weights: dict[str, float],
    ) -> None:
        self.app, self.tenant_id, self.district, self.seed = app, tenant_id, district, seed
        self.weights = weights
        self.wave_size = 0  # the tenant's, once the replay runs
        self.now = START
        self.jobs = _HeldJobs()
        self.events: list[tuple[datetime, int, str, Any]] = []
        self.sequence = 0
        self.last_sweep = START - timedelta(minutes=1)
        self.task_need: dict[uuid.UUID, Need] = {}
        self.people = {person.id: person for person in district.volunteers}
        self.expiry_sweeps: set[datetime] = set()
        self.would_take = 0  # offers whose person drew "yes", in time or not

    def run(self) -> None:
        self.app.extensions["nyby.queue"] = self.jobs
        with self.app.app_context(), simulated_clock(lambda: self.now):
            with self._unit():
                tenant = db.session.get(Tenant, self.tenant_id)
                assert tenant is not None
                tenant.dispatch_policy = {**tenant.dispatch_policy, "weights": self.weights}
                # As the dispatcher reads it: both policies must ask as many per wave.
                self.wave_size = policy_for(tenant)["wave_size"]
            for need in self.district.needs:
                self._at(need.posted_at, "post", need)
            while True:
                due = self._next_wave_due()
                upcoming = self.events[0][0] if self.events else None
                if due is not None and (upcoming is None or due <= upcoming):
                    self.now, self.last_sweep = due, due
                    send_due_waves(str(self.tenant_id))
                elif upcoming is not None:
                    at, _, kind, payload = heapq.heappop(self.events)
                    self.now = at
                    getattr(self, f"_{kind}")(payload)
                else:
                    break
                self._run_jobs()

    def _at(self, at: datetime, kind: str, payload: Any) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (at, self.sequence, kind, payload))

    @contextmanager
    def _unit(self) -> Iterator[None]:
        """One transaction, as a request has it (commit at the end, or roll back)."""
        try:
            with tenant_scope(self.tenant_id), db.unit_of_work():
                yield
        finally:
            db.session.remove()

    def _actor(self, membership_id: uuid.UUID) -> Actor:
        member = db.session.get(Membership, (self.tenant_id, membership_id))
        tenant = db.session.get(Tenant, self.tenant_id)
        assert member is not None and tenant is not None
        return Actor(account=member.account, tenant=tenant, membership=member)

    def _next_wave_due(self) -> datetime | None:
        """The next minute the dispatcher's sweep would find a wave due."""
        with self._unit():
            due = db.session.scalar(select(func.min(TaskDispatch.next_wave_at)))
        if due is None:
            return None
        minute = due.replace(second=0, microsecond=0)
        if minute < due:
            minute += timedelta(minutes=1)
        return max(minute, self.last_sweep + timedelta(minutes=1), self.now)

    def _run_jobs(self) -> None:
        while self.jobs.waiting:
            job, args = self.jobs.waiting.popleft()
            job(*args)
            if job is dispatch_wave:
                self._offered(uuid.UUID(args[1]))

    def _offered(self, task_id: uuid.UUID) -> None:
        """A wave went out: each person asked answers (or not) as the model draws."""
        need = self.task_need[task_id]
        place = self.district.clients[need.client][1]
        with self._unit():
            offers = db.session.execute(
                select(Offer.id, Offer.membership_id).where(
                    Offer.task_id == task_id,
                    Offer.status == OfferStatus.OFFERED.value,
                    Offer.offered_at == self.now,
                )
            ).all()
        for offer_id, membership_id in offers:
            person = self.people[membership_id]
            accepts, delay = answer_of(self.seed, need, person, distance_km(place, person.place))
            self.would_take += accepts
            if delay != math.inf:
                answer = (offer_id, person.id, accepts)
                self._at(self.now + timedelta(minutes=delay), "answer", answer)

    # The events.

    def _post(self, need: Need) -> None:
        with self._unit():
            task = tasks.post_task(
                self._actor(self.district.poster_id),
                {
                    "role": need.role,
                    "client_id": self.district.clients[need.client][0],
                    "title": need.title,
                    "description": "Simulated",
                    "estimated_minutes": need.minutes,
                    "earliest_start": need.earliest_start,
                    "due_by": need.due_by,
                },
            )
            self.task_need[task.id] = need
        # The five-minute sweep that expires what nobody took.
        sweep = START + timedelta(
            minutes=5 * math.ceil((need.due_by - START) / timedelta(minutes=5))
        )
        if sweep not in self.expiry_sweeps:
            self.expiry_sweeps.add(sweep)
            self._at(sweep, "expire", None)

    def _answer(self, payload: tuple[uuid.UUID, uuid.UUID, bool]) -> None:
        offer_id, membership_id, accepts = payload
        try:
            with self._unit():
                offer = db.session.get(Offer, (self.tenant_id, offer_id))
                assert offer is not None
                task_id = offer.task_id
                if accepts:
                    accept_offer(self._actor(membership_id), offer)
                else:
                    decline_offer(self._actor(membership_id), offer)
        except Conflict:
            return  # taken by someone else first, or closed: the answer changes nothing
        if accepts:  # they do it once it may start
            need = self.task_need[task_id]
            done = max(self.now, need.earliest_start) + timedelta(minutes=need.minutes)
            self._at(done, "complete", (task_id, membership_id))

    def _complete(self, payload: tuple[uuid.UUID, uuid.UUID]) -> None:
        task_id, membership_id = payload
        with self._unit():
            actor = self._actor(membership_id)
            task = db.session.scalars(select(Task).where(Task.id == task_id)).one()
            tasks.start(actor, task)
            tasks.complete(actor, task, self.task_need[task_id].minutes, "Done")

    def _expire(self, _: None) -> None:
        tasks.expire_overdue_tasks(str(self.tenant_id))

    # What happened.

    def results(self, days: int) -> dict[str, Any]:
        with self.app.app_context(), self._unit():
            offers = db.session.execute(
                select(
                    Offer.membership_id, Offer.offered_at, Offer.task_id, Offer.status, Offer.wave
                )
            ).all()
            taken = db.session.execute(
                select(Task.id, Task.created_at, Task.assigned_at, Task.status)
            ).all()
            escalated: dict[uuid.UUID, uuid.UUID | None] = {
                task_id: assignee
                for task_id, assignee in db.session.execute(
                    select(TaskDispatch.task_id, Task.assignee_id)
                    .join(Task, Task.id == TaskDispatch.task_id)
                    .where(TaskDispatch.escalated_at.is_not(None))
                )
            }
        with self.app.app_context():
            db.engine.dispose()  # the file is replaced for the next policy
        pool = {person.id for person in self.district.volunteers}
        offered: list[int] = []
        sent: list[float] = []
        for week in range(days // 7):
            begin, end = START + timedelta(days=7 * week), START + timedelta(days=7 * week + 7)
            this_week = [m for m, at, *_ in offers if begin <= at < end and m in pool]
            offered.append(len(set(this_week)))
            sent.append(min(1.0, len(this_week) / len(pool)))
        waits = sorted(
            (assigned - created).total_seconds() / 60
            for _, created, assigned, _ in taken
            if assigned
        )
        per_person = Counter(m for m, *_ in offers if m in pool)
        away = [
            distance_km(self.district.clients[self.task_need[task].client][1], self.people[m].place)
            for m, _, task, *_ in offers
        ]
        outcomes = Counter(status for *_, status, _ in offers)
        first_wave = sum(1 for *_, status, wave in offers if status == "accepted" and wave == 1)
        counts = [per_person[m] for m in pool]
        expired = {task_id for task_id, *_, status in taken if status == "expired"}
        late = sum(1 for assignee in escalated.values() if assignee is not None)
        return {
            "weights": self.weights,
            "wave_size": self.wave_size,
            "largest_wave": max(
                Counter((task, wave) for _, _, task, _, wave in offers).values(), default=0
            ),
            "weekly_offered": offered,
            "weekly_offered_share": [round(n / len(pool), 4) for n in offered],
            "mean_weekly_offered_share": round(statistics.fmean(offered) / len(pool), 4),
            "minutes_to_accept": {
                "median": round(statistics.median(waits), 2) if waits else None,
                "p90": round(_quantile(waits, 0.9), 2) if waits else None,
            },
            "tasks": len(taken),
            "taken": len(waits),
            "unmet": len(expired | set(escalated)),
            "escalated": len(escalated),
            "escalated_then_taken_late": late,
            "expired_untaken": len(expired),
            "offers": len(offers),
            "offers_sent_over_pool_weekly": [round(share, 4) for share in sent],
            "offers_per_volunteer": {
                label: sum(1 for n in counts if low <= n <= high)
                for label, low, high in DISTRIBUTION
            },
            "max_offers_per_volunteer": max(counts, default=0),
            "km_to_task_of_offers": {
                "mean": round(statistics.fmean(away), 2) if away else None,
                "median": round(statistics.median(away), 2) if away else None,
            },
            "offer_outcomes": {
                status.value: round(outcomes[status.value] / max(1, len(offers)), 4)
                for status in OfferStatus
            },
            "taken_in_first_wave": first_wave,
            "offers_the_person_would_take": round(self.would_take / max(1, len(offers)), 4),
        }


def _quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile of sorted values."""
    return values[max(0, math.ceil(q * len(values)) - 1)]


@contextmanager
def _every_candidate_ranked(pool: int) -> Iterator[None]:
    """Nearest first must rank everyone eligible, not the longest waiting
    ``CANDIDATE_LIMIT`` of them (see the module docstring)."""
    shipped = matching.CANDIDATE_LIMIT
    matching.CANDIDATE_LIMIT = max(shipped, pool)
    try:
        yield
    finally:
        matching.CANDIDATE_LIMIT = shipped


@contextmanager
def _quiet() -> Iterator[None]:
    """The scratch apps' start-up lines and migrations are not the report."""
    loggers = [logging.getLogger(name) for name in ("nyby", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# -- the whole run --------------------------------------------------------------------------------


def within_reach(district: District, days: int, radius_km: float) -> list[float]:
    """Per week, the share of volunteers within ``radius_km`` of a task posted that week
    in a role they hold. At the last wave's radius: nobody else could be offered one by
    any ranking. At the first wave's: whom a ranking can choose from while first waves
    succeed."""
    shares = []
    for week in range(days // 7):
        begin, end = START + timedelta(days=7 * week), START + timedelta(days=7 * week + 7)
        places = {
            (need.role, district.clients[need.client][1])
            for need in district.needs
            if begin <= need.posted_at < end
        }
        reached = sum(
            1
            for person in district.volunteers
            if any(
                (role == COMMUNITY or person.drives)
                and distance_km(place, person.place) <= radius_km
                for role, place in places
            )
        )
        shares.append(round(reached / len(district.volunteers), 4))
    return shares


def simulate(
    volunteers: int,
    days: int,
    seed: int,
    wave_size: int | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Replay ``days`` of demand for ``volunteers`` on-duty people under both policies;
    the report as plain data (``describe`` renders it)."""
    began = time.monotonic()
    district = draw_district(volunteers, days, seed)
    policy = DispatchPolicySchema().load({} if wave_size is None else {"wave_size": wave_size})
    last_radius = policy["radius_km"] + (policy["max_waves"] - 1) * policy["radius_growth_km"]
    report: dict[str, Any] = {
        "volunteers_on_duty": volunteers,
        "days": days,
        "weeks": days // 7,
        "seed": seed,
        "start": START.date().isoformat(),
        "tasks_posted": len(district.needs),
        "tasks_per_volunteer_week": round(TASKS_PER_VOLUNTEER_WEEK, 4),
        "policy": {
            key: policy[key]
            for key in (
                "wave_size",
                "wave_timeout_minutes",
                "max_waves",
                "radius_km",
                "radius_growth_km",
                "max_alerts_per_day",
            )
        },
        "district_side_km": round(side_km(volunteers), 1),
        "model": {
            "answer_chance_range": list(ANSWER_RANGE),
            "accept_at_door": ACCEPT_AT_DOOR,
            "accept_halves_km": ACCEPT_HALVES_KM,
            "answer_median_minutes": ANSWER_MEDIAN_MINUTES,
            "clients_in_towns": CLIENTS_IN_TOWNS,
            "volunteers_in_towns": VOLUNTEERS_IN_TOWNS,
            "task_mix": TASK_MIX,
        },
        "nhs_offered_weekly": NHS_OFFERED_WEEKLY,
        "within_first_wave_weekly": within_reach(district, days, policy["radius_km"]),
        "within_reach_weekly": within_reach(district, days, last_radius),
        "policies": {},
    }
    with _quiet(), tempfile.TemporaryDirectory(prefix="nyby-simulation-") as folder:
        root = Path(folder)
        live, seeded = root / "nyby.sqlite3", root / "seeded.sqlite3"
        app = _scratch_app(root, live)
        tenant_id = _seed_database(app, district, wave_size)
        _copy_database(live, seeded)
        progress(
            f"seeded {volunteers} volunteers and {len(district.clients)} clients; "
            f"replaying {len(district.needs)} tasks per policy"
        )
        for name, weights in POLICIES.items():
            _copy_database(seeded, live)  # every policy starts from the same people
            replay = Replay(app, tenant_id, district, seed, weights)
            clock = time.monotonic()
            if name == "nearest first":
                with _every_candidate_ranked(volunteers):
                    replay.run()
            else:
                replay.run()
            report["policies"][name] = replay.results(days)
            progress(f"{name}: replayed in {time.monotonic() - clock:.0f} s")
    report["verdict"] = verdict(report)
    report["seconds"] = round(time.monotonic() - began, 1)
    return report
