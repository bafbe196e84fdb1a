"""Push dispatch: the score, who is eligible, waves that widen and escalate, fairness
across a pool, alert limits and quiet hours, and the first accept winning."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.clients.models import Client
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.dispatch import matching, ranking, waves
from nyby.dispatch.jobs import send_due_waves
from nyby.dispatch.matching import Match, match, task_client
from nyby.dispatch.models import Offer, TaskDispatch
from nyby.geo import Place
from nyby.members.models import Membership
from nyby.notifications.models import Notification
from nyby.tasks.models import Task, TaskDecline
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import DownQueue, Person, World, all_at_once, hold_jobs, mails_to, run_jobs
from tests.tasking import TASKS, post_task, task_body, volunteer

OFFERS = "/api/v1/tenants/borough/offers"
# Edith's home, where tasks_body's tasks happen.
HOME = Place(51.5014, -0.1419)
KM_PER_DEGREE_LATITUDE = 111.2


def north_of_home(km: float) -> Place:
    return Place(HOME.latitude + km / KM_PER_DEGREE_LATITUDE, HOME.longitude)


def set_policy(app: Flask, tenant: Tenant, **policy: Any) -> None:
    with app.app_context():
        row = db.session.get(Tenant, tenant.id)
        assert row is not None
        row.dispatch_policy = policy
        db.session.commit()


def on_duty(app: Flask, tenant: Tenant, person: Person, km: float = 0.5, **fields: Any) -> Person:
    """Put someone on duty at ``km`` north of the task's place."""
    assert person.membership is not None
    place = north_of_home(km)
    values = {
        "on_duty": True,
        "home_latitude": place.latitude,
        "home_longitude": place.longitude,
        "home_area_cell": place.area_cell,
        **fields,
    }
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(
            update(Membership).where(Membership.id == person.membership.id).values(**values)
        )
        db.session.commit()
    return person


def matched(borough: Tenant, task: dict[str, Any], now: datetime, limit: int) -> list[Match]:
    """``match`` for a posted task, within 3 km of it, by the tenant's own policy (called
    in the tenant's scope)."""
    tenant = db.session.get_one(Tenant, borough.id)
    loaded = db.session.scalars(select(Task).where(Task.id == uuid.UUID(task["id"]))).one()
    client = task_client(loaded)
    return match(loaded, client, 3.0, waves.policy_for(tenant), tenant.timezone, now, limit)


def helper(app: Flask, world: World, tenant: Tenant, km: float = 0.5, **fields: Any) -> Person:
    """A qualified volunteer on duty ``km`` from the task."""
    return on_duty(app, tenant, volunteer(app, world, tenant), km, **fields)


def offers_of(app: Flask, tenant: Tenant, task_id: Any) -> dict[uuid.UUID, Offer]:
    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.scalars(select(Offer).where(Offer.task_id == uuid.UUID(str(task_id))))
        return {offer.membership_id: offer for offer in rows}


def dispatch_of(app: Flask, tenant: Tenant, task_id: Any) -> TaskDispatch | None:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(
            select(TaskDispatch).where(TaskDispatch.task_id == uuid.UUID(str(task_id)))
        )


def wave(app: Flask, tenant: Tenant, task_id: Any, now: datetime) -> int:
    """Run the task's wave as its job would, at ``now``."""
    with app.app_context(), tenant_scope(tenant.id), db.unit_of_work():
        return waves.run_wave(uuid.UUID(str(task_id)), now)


def kinds_for(app: Flask, tenant: Tenant, person: Person) -> list[str]:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        return list(
            db.session.scalars(
                select(Notification.kind)
                .where(Notification.recipient_id == person.membership.id)
                .order_by(Notification.created_at)
            )
        )


def mid(person: Person) -> uuid.UUID:
    assert person.membership is not None
    return person.membership.id


# -- the score -----------------------------------------------------------------------------

WEIGHTS = {"distance": 1.0, "continuity": 1.0, "fairness": 1.5, "language": 0.5, "response": 0.5}


def candidate(**changes: Any) -> ranking.Candidate:
    values: dict[str, Any] = dict(
        distance_km=1.0,
        radius_km=4.0,
        helped_client=False,
        recent_load=0,
        speaks_client_language=False,
        offers_answered=0,
        offers_closed=0,
        prefers_role=False,
    )
    values.update(changes)
    return ranking.Candidate(**values)


def test_each_term_of_the_score_is_between_0_and_1_and_weighted() -> None:
    terms = ranking.terms(candidate())
    assert terms == {
        "distance": 0.75,
        "continuity": 0.0,
        "fairness": 1.0,
        "language": 0.0,
        "response": 0.5,  # a newcomer starts in the middle
    }
    assert ranking.score(candidate(), WEIGHTS) == pytest.approx(0.75 + 1.5 + 0.25)
    # Beyond the radius distance counts nothing (never negative).
    assert ranking.terms(candidate(distance_km=9))["distance"] == 0
    # Remote roles: distance plays no part at all.
    assert ranking.terms(candidate(distance_km=None))["distance"] == 0
    assert ranking.terms(candidate(recent_load=3))["fairness"] == 0.25
    assert ranking.terms(candidate(offers_answered=8, offers_closed=8))["response"] == 0.9
    assert ranking.terms(candidate(offers_answered=0, offers_closed=8))["response"] == 0.1
    # A tenant that cares only about distance gets nearest first.
    only_distance = {"distance": 1.0}
    assert ranking.score(candidate(distance_km=0.5), only_distance) > ranking.score(
        candidate(distance_km=1.0, helped_client=True), only_distance
    )


def test_the_score_prefers_the_low_activity_helper_over_the_busy_neighbour() -> None:
    busy_neighbour = candidate(distance_km=0.2, recent_load=3)
    idle_further = candidate(distance_km=2.0, recent_load=0)
    assert ranking.score(idle_further, WEIGHTS) > ranking.score(busy_neighbour, WEIGHTS)
    # Continuity and language lift a helper; the preferred-role bonus decides near-ties.
    assert ranking.score(candidate(helped_client=True), WEIGHTS) > ranking.score(
        candidate(), WEIGHTS
    )
    assert ranking.score(candidate(speaks_client_language=True), WEIGHTS) > ranking.score(
        candidate(), WEIGHTS
    )
    assert ranking.score(candidate(prefers_role=True), WEIGHTS) == pytest.approx(
        ranking.score(candidate(), WEIGHTS) + ranking.PREFERRED_ROLE_BONUS
    )


# -- who is eligible -------------------------------------------------------------------------


def test_each_eligibility_filter(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, mode="pull")  # nothing dispatched by itself: we ask match()
    task = post_task(client, nurse).json
    other = post_task(client, nurse, title="Another shop").json
    tz = ZoneInfo("Europe/London")
    now = utcnow()
    local = now.astimezone(tz)
    quiet_from = (local - timedelta(hours=1)).time().replace(microsecond=0)
    quiet_to = (local + timedelta(hours=1)).time().replace(microsecond=0)
    tomorrow = (local + timedelta(days=2)).strftime("%a").lower()[:3]
    people = {
        "ready": helper(app, world, borough),
        "off duty": helper(app, world, borough, on_duty=False),
        "duty ended": helper(app, world, borough, on_duty_until=now - timedelta(minutes=5)),
        "too far": helper(app, world, borough, km=4.0),
        "beyond own radius": helper(app, world, borough, km=2.0, travel_radius_km=1.0),
        "not approved": on_duty(app, borough, world.person(borough, Role.VOLUNTEER)),
        "check expired": on_duty(app, borough, volunteer(app, world, borough, expired=True)),
        "quiet now": helper(
            app, world, borough, quiet_hours_start=quiet_from, quiet_hours_end=quiet_to
        ),
        "busy when needed": helper(
            app, world, borough, availability=[{"day": tomorrow, "part": "morning"}]
        ),
        "alert limit reached": helper(app, world, borough, max_alerts_per_day=1),
        "declined": helper(app, world, borough),
        "already offered": helper(app, world, borough),
        "left": helper(app, world, borough, is_active=False),
        "coordinator only": on_duty(app, borough, world.person(borough, Role.COORDINATOR)),
    }
    with app.app_context(), tenant_scope(borough.id):
        db.session.add_all(
            [
                TaskDecline(task_id=uuid.UUID(task["id"]), membership_id=mid(people["declined"])),
                Offer(
                    task_id=uuid.UUID(task["id"]),
                    membership_id=mid(people["already offered"]),
                    wave=1,
                    score=1,
                    offered_at=now,
                    expires_at=now + timedelta(minutes=10),
                ),
                Offer(
                    task_id=uuid.UUID(other["id"]),
                    membership_id=mid(people["alert limit reached"]),
                    wave=1,
                    score=1,
                    offered_at=now - timedelta(minutes=1),
                    expires_at=now + timedelta(minutes=10),
                ),
            ]
        )
        db.session.commit()
        found = matched(borough, task, now, 50)
    names = {mid(person): name for name, person in people.items()}
    assert [names[m.membership_id] for m in found] == ["ready"]
    assert found[0].distance_km == pytest.approx(0.5, abs=0.01)


def test_remote_roles_ignore_distance_and_rank_by_language_and_continuity(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, mode="pull")
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(update(VolunteerRole).values(remote=True))
        db.session.commit()
    task = post_task(client, nurse).json
    far = helper(app, world, borough, km=300)
    polish = helper(app, world, borough, km=300, languages=["pl"])
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(update(Client).values(interpreter_language="Polish"))
        db.session.commit()
        found = matched(borough, task, utcnow(), 5)
    assert [m.membership_id for m in found] == [mid(polish), mid(far)]
    assert all(m.distance_km is None for m in found)


def test_the_pool_is_who_waited_longest_plus_the_clients_past_helpers(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_policy(app, borough, mode="pull")
    monkeypatch.setattr(matching, "CANDIDATE_LIMIT", 2)
    earlier = post_task(client, nurse, title="Last week's shopping").json
    task = post_task(client, nurse, client_id=earlier["client_id"]).json
    now = utcnow()
    waited = {
        "asked an hour ago": helper(app, world, borough, waiting_since=now - timedelta(hours=1)),
        "waiting a week": helper(app, world, borough, waiting_since=now - timedelta(days=7)),
        "waiting a month": helper(app, world, borough, waiting_since=now - timedelta(days=30)),
        "helped her, asked today": helper(app, world, borough, waiting_since=now),
    }
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            update(Task)
            .where(Task.id == uuid.UUID(earlier["id"]))
            .values(status="completed", assignee_id=mid(waited["helped her, asked today"]))
        )
        db.session.commit()
        found = matched(borough, task, now, 5)
    names = {mid(person): name for name, person in waited.items()}
    assert sorted(names[m.membership_id] for m in found) == [
        "helped her, asked today",
        "waiting a month",
        "waiting a week",
    ]
    # Continuity counts in the score: she goes first though she was asked today.
    assert names[found[0].membership_id] == "helped her, asked today"


def test_the_pool_near_a_task_is_the_longest_waiting_who_qualify_however_many_do_not(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The candidates are the longest waiting of the role's pool near the task: those
    who do not qualify, or were asked already, wait longer but never take a place."""
    set_policy(app, borough, mode="pull")
    monkeypatch.setattr(matching, "CANDIDATE_LIMIT", 2)
    task = post_task(client, nurse).json
    now = utcnow()

    def waited(days: int) -> dict[str, Any]:
        return {"waiting_since": now - timedelta(days=days)}

    people = {
        "not approved, waiting longest": on_duty(
            app, borough, world.person(borough, Role.VOLUNTEER), **waited(40)
        ),
        "check expired": on_duty(
            app, borough, volunteer(app, world, borough, expired=True), **waited(35)
        ),
        "declined it": helper(app, world, borough, **waited(30)),
        "qualified, waiting longest": helper(app, world, borough, **waited(20)),
        "too far": helper(app, world, borough, km=4.0, **waited(15)),
        "qualified, next": helper(app, world, borough, **waited(10)),
        "qualified, asked today": helper(app, world, borough, waiting_since=now),
    }
    with app.app_context(), tenant_scope(borough.id):
        db.session.add(
            TaskDecline(task_id=uuid.UUID(task["id"]), membership_id=mid(people["declined it"]))
        )
        db.session.commit()
        found = matched(borough, task, now, 5)
    names = {mid(person): name for name, person in people.items()}
    assert sorted(names[m.membership_id] for m in found) == [
        "qualified, next",
        "qualified, waiting longest",
    ]


def test_a_wave_sends_the_people_it_asked_to_the_back_of_the_queue(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_policy(app, borough, wave_size=1)
    monkeypatch.setattr(matching, "CANDIDATE_LIMIT", 1)  # the queue alone decides
    long_ago = utcnow() - timedelta(days=30)
    first = helper(app, world, borough, waiting_since=long_ago)
    second = helper(app, world, borough, waiting_since=long_ago + timedelta(days=1))
    task = post_task(client, nurse).json
    run_jobs(app)
    assert set(offers_of(app, borough, task["id"])) == {mid(first)}
    with app.app_context(), tenant_scope(borough.id):
        asked = db.session.get(Membership, (borough.id, mid(first)))
        assert asked is not None and asked.waiting_since > long_ago + timedelta(days=29)
    post_task(client, nurse, title="Another errand")
    run_jobs(app)
    with app.app_context(), tenant_scope(borough.id):
        second_offers = db.session.scalars(
            select(Offer.membership_id).where(Offer.membership_id == mid(second))
        ).all()
    assert second_offers == [mid(second)]  # her turn now, though the first is as near


# -- waves -------------------------------------------------------------------------------------


def test_waves_widen_on_timeout_then_escalate_to_coordinators(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(
        app, borough, wave_size=1, radius_km=1, radius_growth_km=2, max_waves=3,
        wave_timeout_minutes=10,
    )  # fmt: skip
    near, middle, far = (helper(app, world, borough, km=km) for km in (0.5, 2.5, 4.5))
    coordinator = world.person(borough, Role.COORDINATOR)
    task = post_task(client, nurse).json
    run_jobs(app)
    offers = offers_of(app, borough, task["id"])
    assert set(offers) == {mid(near)} and offers[mid(near)].wave == 1
    assert "task_offered" in kinds_for(app, borough, near)
    first = dispatch_of(app, borough, task["id"])
    assert first is not None and first.radius_km == 1 and first.next_wave_at is not None
    # The same job again (a retry, the sweep): nothing new.
    assert wave(app, borough, task["id"], utcnow()) == 0
    later = first.next_wave_at + timedelta(seconds=1)
    assert wave(app, borough, task["id"], later) == 1
    offers = offers_of(app, borough, task["id"])
    assert offers[mid(near)].status == "expired"
    assert offers[mid(middle)].wave == 2 and offers[mid(middle)].status == "offered"
    assert wave(app, borough, task["id"], later + timedelta(minutes=10)) == 1
    offers = offers_of(app, borough, task["id"])
    assert offers[mid(far)].wave == 3 and offers[mid(middle)].status == "expired"
    assert kinds_for(app, borough, coordinator) == []
    # The last wave times out: escalated, once, to the coordinators.
    assert wave(app, borough, task["id"], later + timedelta(minutes=20)) == 0
    final = dispatch_of(app, borough, task["id"])
    assert final is not None and final.escalated_at is not None and final.next_wave_at is None
    assert final.waves_sent == 3 and final.radius_km == 5
    assert kinds_for(app, borough, coordinator) == ["task_escalated"]
    assert wave(app, borough, task["id"], later + timedelta(minutes=30)) == 0
    assert kinds_for(app, borough, coordinator) == ["task_escalated"]
    listed = client.get("/api/v1/tenants/borough/escalations", headers=coordinator.headers)
    assert listed.status_code == 200
    assert [e["task"]["id"] for e in listed.json] == [task["id"]]
    assert listed.json[0]["waves_sent"] == 3
    assert client.get("/api/v1/tenants/borough/escalations", headers=near.headers).status_code == (
        403
    )


def test_an_empty_wave_moves_straight_on_to_a_wider_one(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=2, radius_km=1, radius_growth_km=2, max_waves=3)
    middle = helper(app, world, borough, km=2.5)
    task = post_task(client, nurse).json
    run_jobs(app)
    offers = offers_of(app, borough, task["id"])
    assert set(offers) == {mid(middle)} and offers[mid(middle)].wave == 2


def test_nobody_on_duty_escalates_at_once(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    volunteer(app, world, borough)  # qualified, but off duty
    task = post_task(client, nurse).json
    run_jobs(app)
    state = dispatch_of(app, borough, task["id"])
    assert state is not None and state.escalated_at is not None and state.waves_sent == 3
    assert kinds_for(app, borough, coordinator) == ["task_escalated"]


def test_a_wave_lost_with_its_job_goes_out_with_the_sweep(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, monkeypatch: Any
) -> None:
    amy = helper(app, world, borough)

    # Redis is down when the task is posted: the enqueue after commit fails.
    real = app.extensions["nyby.queue"]
    hold_jobs(app, monkeypatch, DownQueue())
    posted = post_task(client, nurse)
    assert posted.status_code == 201
    run_jobs(app)
    assert offers_of(app, borough, posted.json["id"]) == {}
    hold_jobs(app, monkeypatch, real)
    with app.app_context():
        assert send_due_waves(str(borough.id)) == 1
    run_jobs(app)
    assert set(offers_of(app, borough, posted.json["id"])) == {mid(amy)}
    with app.app_context():
        assert send_due_waves(str(borough.id)) == 0  # nothing due twice


# -- fairness ----------------------------------------------------------------------------------


def test_fairness_spreads_offers_across_a_pool_of_equals(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=2)
    pool = [helper(app, world, borough, km=1.0) for _ in range(10)]
    for n in range(10):
        post_task(client, nurse, title=f"Shop {n}")
        run_jobs(app)
    with app.app_context(), tenant_scope(borough.id):
        per_person = Counter(
            dict(
                db.session.execute(
                    select(Offer.membership_id, func.count()).group_by(Offer.membership_id)
                ).all()
            )
        )
    distribution = sorted(per_person[mid(person)] for person in pool)
    print("offers per volunteer (10 equal volunteers, 10 tasks, wave size 2):", distribution)
    assert sum(distribution) == 20
    assert max(distribution) <= 2 and min(distribution) >= 1
    # Nearest-first would have asked the same two people ten times each.


# -- alert limits, quiet hours, pull roles --------------------------------------------------


def test_alert_limit_and_quiet_hours_are_respected(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=5, max_alerts_per_day=2)
    once = helper(app, world, borough, max_alerts_per_day=1)
    tenant_limit = helper(app, world, borough)
    local = utcnow().astimezone(ZoneInfo("Europe/London"))
    asleep = helper(
        app,
        world,
        borough,
        quiet_hours_start=(local - timedelta(hours=1)).time(),
        quiet_hours_end=(local + timedelta(hours=1)).time(),
    )
    received: Counter[uuid.UUID] = Counter()
    for n in range(3):
        task = post_task(client, nurse, title=f"Shop {n}").json
        run_jobs(app)
        received.update(offers_of(app, borough, task["id"]).keys())
    assert received[mid(once)] == 1
    assert received[mid(tenant_limit)] == 2
    assert received[mid(asleep)] == 0


def test_quiet_hours_crossing_midnight_are_read_in_the_tenant_zone(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    local = utcnow().astimezone(ZoneInfo("Europe/London"))

    def at(minutes: int) -> time:
        return (local + timedelta(minutes=minutes)).time().replace(second=0, microsecond=0)

    # From an hour ahead, through midnight, to half an hour ahead tomorrow: now is quiet.
    night = helper(app, world, borough, quiet_hours_start=at(60), quiet_hours_end=at(30))
    # Quiet later today only: now is not.
    awake = helper(app, world, borough, quiet_hours_start=at(60), quiet_hours_end=at(120))
    task = post_task(client, nurse).json
    run_jobs(app)
    offered = set(offers_of(app, borough, task["id"]))
    assert mid(night) not in offered and mid(awake) in offered


@pytest.mark.parametrize("where", ["role", "tenant"])
def test_pull_only_is_never_dispatched(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, where: str
) -> None:
    amy = helper(app, world, borough)
    if where == "role":
        with app.app_context(), tenant_scope(borough.id):
            db.session.execute(update(VolunteerRole).values(dispatch_mode="pull"))
            db.session.commit()
    else:
        set_policy(app, borough, mode="pull")
    task = post_task(client, nurse).json
    run_jobs(app)
    assert dispatch_of(app, borough, task["id"]) is None
    assert offers_of(app, borough, task["id"]) == {}
    assert kinds_for(app, borough, amy) == []
    # Still there to be pulled.
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).status_code == 200


# -- answering offers ---------------------------------------------------------------------------


def _offer_id(client: FlaskClient, person: Person) -> str:
    listed = client.get(OFFERS, headers=person.headers)
    assert listed.status_code == 200, listed.json
    return str(listed.json[0]["id"])


def test_twenty_accept_at_once_one_wins_the_rest_are_told_it_was_taken(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=20)
    people = [helper(app, world, borough) for _ in range(20)]
    task = post_task(client, nurse).json
    run_jobs(app)
    offer_ids = [_offer_id(client, person) for person in people]

    def accept(person: Person, offer_id: str) -> Any:
        return lambda: app.test_client().post(f"{OFFERS}/{offer_id}/accept", headers=person.headers)

    answers = all_at_once([accept(p, o) for p, o in zip(people, offer_ids, strict=True)])
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] + [409] * 19
    assert all(
        "taken by someone else" in answer.json["detail"]
        for answer in answers
        if answer.status_code == 409
    )
    statuses = Counter(offer.status for offer in offers_of(app, borough, task["id"]).values())
    assert statuses == {"accepted": 1, "withdrawn": 19}
    winner = next(p for p, a in zip(people, answers, strict=True) if a.status_code == 200)
    assert client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json["assignee_id"] == str(
        mid(winner)
    )
    losers = [p for p in people if p is not winner]
    assert all(kinds_for(app, borough, p)[-1] == "offer_taken" for p in losers)
    state = dispatch_of(app, borough, task["id"])
    assert state is not None and state.next_wave_at is None
    # The winner's offer reads as accepted, the losers' as withdrawn and not answerable.
    mine = client.get(OFFERS, headers=winner.headers).json[0]
    assert mine["status"] == "accepted" and mine["task"]["address"] == "12 Example Road"
    theirs = client.get(OFFERS, headers=losers[0].headers).json[0]
    assert theirs["status"] == "withdrawn" and theirs["answerable"] is False
    assert theirs["task"]["address"] is None


def test_declining_records_it_and_when_everyone_declined_the_next_wave_goes_now(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=1)
    amy, ben = helper(app, world, borough, km=0.5), helper(app, world, borough, km=0.6)
    task = post_task(client, nurse).json
    run_jobs(app)
    assert set(offers_of(app, borough, task["id"])) == {mid(amy)}
    declined = client.post(f"{OFFERS}/{_offer_id(client, amy)}/decline", headers=amy.headers)
    assert declined.status_code == 200 and declined.json["status"] == "declined"
    # Declining twice is the same answer.
    again = client.post(f"{OFFERS}/{declined.json['id']}/decline", headers=amy.headers)
    assert again.status_code == 200
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).status_code == 404
    run_jobs(app)  # nobody left to answer the first wave: the second did not wait
    offers = offers_of(app, borough, task["id"])
    assert offers[mid(ben)].wave == 2
    late = client.post(f"{OFFERS}/{declined.json['id']}/accept", headers=amy.headers)
    assert late.status_code == 409


def test_taking_the_task_another_way_or_cancelling_withdraws_the_offers(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=2)
    amy, ben = helper(app, world, borough), helper(app, world, borough)
    carl = volunteer(app, world, borough)  # off duty, browsing
    task = post_task(client, nurse).json
    run_jobs(app)
    assert set(offers_of(app, borough, task["id"])) == {mid(amy), mid(ben)}
    assert client.post(f"{TASKS}/{task['id']}/accept", headers=carl.headers).status_code == 200
    offers = offers_of(app, borough, task["id"])
    assert {o.status for o in offers.values()} == {"withdrawn"}
    assert kinds_for(app, borough, amy)[-1] == "offer_taken"
    taken = client.post(f"{OFFERS}/{_offer_id(client, amy)}/accept", headers=amy.headers)
    assert taken.status_code == 409 and "taken by someone else" in taken.json["detail"]

    second = post_task(client, nurse, title="Another shop").json
    run_jobs(app)
    assert len(offers_of(app, borough, second["id"])) == 2
    cancelled = client.post(
        f"{TASKS}/{second['id']}/cancel",
        json={"reason": "Family will do it"},
        headers=nurse.headers,
    )
    assert cancelled.status_code == 200
    assert {o.status for o in offers_of(app, borough, second["id"]).values()} == {"withdrawn"}
    assert kinds_for(app, borough, ben)[-1] == "offer_closed"


def test_a_task_given_back_is_offered_again_to_people_not_yet_asked(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=1)
    amy, ben = helper(app, world, borough, km=0.5), helper(app, world, borough, km=0.6)
    task = post_task(client, nurse).json
    run_jobs(app)
    accepted = client.post(f"{OFFERS}/{_offer_id(client, amy)}/accept", headers=amy.headers)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    released = client.post(
        f"{TASKS}/{task['id']}/release", json={"note": "Car broke down"}, headers=amy.headers
    )
    assert released.status_code == 200
    run_jobs(app)
    offers = offers_of(app, borough, task["id"])
    assert offers[mid(ben)].status == "offered" and offers[mid(amy)].status == "accepted"


def test_my_offers_list_open_ones_first_with_the_time_left(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    amy = helper(app, world, borough)
    first = post_task(client, nurse, title="First").json
    run_jobs(app)
    client.post(f"{OFFERS}/{_offer_id(client, amy)}/decline", headers=amy.headers)
    post_task(client, nurse, title="Second")
    run_jobs(app)
    listed = client.get(OFFERS, headers=amy.headers).json
    assert [o["task"]["title"] for o in listed] == ["Second", "First"]
    assert listed[0]["answerable"] and 0 < listed[0]["seconds_left"] <= 600
    assert listed[0]["task"]["address"] is None and listed[0]["task"]["area_cell"]
    assert listed[1]["status"] == "declined" and listed[1]["task_id"] == first["id"]
    # A care professional has no offers to list.
    assert client.get(OFFERS, headers=nurse.headers).status_code == 403


def offer_notices(client: FlaskClient, person: Person) -> list[dict[str, Any]]:
    mine = client.get("/api/v1/tenants/borough/notifications", headers=person.headers).json
    return [notice for notice in mine if notice["kind"] == "task_offered"]


def test_an_offer_says_what_how_long_roughly_where_and_what_to_know_never_who(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    amy = helper(app, world, borough, km=2)
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(update(Account).where(Account.id == amy.account.id).values(locale="nb"))
        db.session.commit()
    ben = helper(app, world, borough, km=1)
    body = task_body(client, nurse, title="Weekly shop", estimated_minutes=45)
    # The client's needs are known before the task goes out (its wave may run at once).
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            update(Client).values(pets=True, lone_working_risk=True, interpreter_language="Polish")
        )
        db.session.commit()
    assert client.post(TASKS, json=body, headers=nurse.headers).status_code == 201
    run_jobs(app)
    [offer] = client.get(OFFERS, headers=ben.headers).json
    assert offer["distance_km"] == 1.0
    assert offer["client_needs"] == ["pets", "lone_working_risk"]
    assert offer["client_language"] == "Polish"
    assert offer["task"]["address"] is None and offer["task"]["client_id"] is None
    [notice] = offer_notices(client, ben)
    assert notice["message"] == (
        "New task for you: “Weekly shop”, about 45 minutes, 1.0 km from your home area. "
        "Accept it in the next 10 minutes, or decline. Good to know: Has pets. "
        "Do not visit alone. Speaks Polish."
    )
    assert "Edith" not in notice["message"] and "Example Road" not in notice["message"]
    # Each reader in their own language, the mail too.
    [mine] = offer_notices(client, amy)
    assert "Har dyr." in mine["message"] and "2.0 km" in mine["message"]
    [mail] = [m for m in mails_to(app, amy.account.email) if "Har dyr." in m.get_content()]
    assert "Nytt oppdrag til deg" in mail["Subject"] and "Edith" not in mail.get_content()
    from tests.test_web_tasks import signed_in

    page = signed_in(app, ben).get("/t/borough/offers").text
    assert "About 1.0 km from your home area." in page
    assert "Has pets." in page and "Do not visit alone." in page and "Speaks Polish." in page
    assert "Edith" not in page


def test_someone_elses_offer_and_another_tenants_are_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    amy, ben = helper(app, world, borough), volunteer(app, world, borough)
    post_task(client, nurse)
    run_jobs(app)
    offer_id = _offer_id(client, amy)
    for verb in ("accept", "decline"):
        assert client.post(f"{OFFERS}/{offer_id}/{verb}", headers=ben.headers).status_code == 404
    other = world.tenant("elsewhere")
    stranger = world.person(other, Role.VOLUNTEER)
    for verb in ("accept", "decline"):
        url = f"/api/v1/tenants/elsewhere/offers/{offer_id}/{verb}"
        assert client.post(url, headers=stranger.headers).status_code == 404
    assert client.get("/api/v1/tenants/elsewhere/offers", headers=stranger.headers).json == []
    # Still open for Amy.
    assert client.post(f"{OFFERS}/{offer_id}/accept", headers=amy.headers).status_code == 200


def test_escalations_of_another_tenant_are_not_listed(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    post_task(client, nurse)
    run_jobs(app)  # nobody on duty: escalated
    other = world.tenant("elsewhere")
    coordinator = world.person(other, Role.COORDINATOR)
    listed = client.get("/api/v1/tenants/elsewhere/escalations", headers=coordinator.headers)
    assert listed.status_code == 200 and listed.json == []
    home = world.person(borough, Role.COORDINATOR)
    assert len(client.get("/api/v1/tenants/borough/escalations", headers=home.headers).json) == 1


# -- the pages ---------------------------------------------------------------------------------


def test_offers_inbox_page_accepts_and_declines(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    from tests.test_web_tasks import csrf, signed_in

    set_policy(app, borough, wave_size=2)
    amy, ben = helper(app, world, borough), helper(app, world, borough)
    post_task(client, nurse, title="Weekly shop")
    post_task(client, nurse, title="Prescription")
    run_jobs(app)
    browser = signed_in(app, amy)
    page = browser.get("/t/borough/offers")
    assert page.status_code == 200
    assert "Weekly shop" in page.text and "Prescription" in page.text
    assert "min left to answer" in page.text and 'aria-live="polite"' in page.text
    assert ">Offers</a>" in page.text  # in the menu
    assert "12 Example Road" not in page.text
    shop, prescription = (offers_of(app, borough, t) for t in _task_ids(app, borough))
    token = csrf(page.text)
    taken = browser.post(
        f"/t/borough/offers/{shop[mid(amy)].id}/accept", data={"csrf_token": token}
    )
    assert taken.status_code == 303 and taken.location.endswith(f"/tasks/{shop[mid(amy)].task_id}")
    declined = browser.post(
        f"/t/borough/offers/{prescription[mid(amy)].id}/decline",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert "will not be offered to you again" in declined.text
    assert "You took it" in declined.text and "You declined" in declined.text
    # Ben's page says his offer of the shop went to someone else; accepting it is refused.
    ben_page = signed_in(app, ben)
    text = ben_page.get("/t/borough/offers").text
    assert "Taken by someone else" in text
    refused = ben_page.post(
        f"/t/borough/offers/{shop[mid(ben)].id}/accept",
        data={"csrf_token": csrf(text)},
        follow_redirects=True,
    )
    assert "taken by someone else" in refused.text
    # Someone else's offer: the 404 page.
    other = ben_page.post(
        f"/t/borough/offers/{shop[mid(amy)].id}/decline", data={"csrf_token": csrf(text)}
    )
    assert other.status_code == 404
    # Without a CSRF token nothing happens.
    assert ben_page.post(f"/t/borough/offers/{prescription[mid(ben)].id}/accept").status_code == 400


def _task_ids(app: Flask, tenant: Tenant) -> list[uuid.UUID]:
    with app.app_context(), tenant_scope(tenant.id):
        return list(db.session.scalars(select(Task.id).order_by(Task.created_at)))


def test_escalations_page_for_coordinators(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    from tests.test_web_tasks import signed_in

    task = post_task(client, nurse, title="Nobody around").json
    run_jobs(app)
    coordinator = world.person(borough, Role.COORDINATOR)
    page = signed_in(app, coordinator).get("/t/borough/escalations")
    assert page.status_code == 200
    assert "Nobody around" in page.text and f"/t/borough/tasks/{task['id']}" in page.text
    assert "3 waves of offers" in page.text
    assert ">Escalations</a>" in page.text
    amy = volunteer(app, world, borough)
    assert signed_in(app, amy).get("/t/borough/escalations").status_code == 403
