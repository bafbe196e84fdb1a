"""Push dispatch through the API with a real worker: volunteers go on duty, a
professional posts a push task, the wave job offers it, one declines, one accepts and
wins, the last is told it was taken; a task nobody takes escalates after the last wave;
alert limits and quiet hours hold, and fairness spreads offers across a pool.

Where ``REDIS_URL`` is set (CI's PostgreSQL leg) every job runs in a real ``nyby worker``
process; without it, on the in-process queue the embedded default runs (the same code)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.dispatch.jobs import send_due_waves
from nyby.dispatch.models import TaskDispatch
from nyby.tenancy.context import tenant_scope
from tests.conftest import Databases, Person, World, run_jobs
from tests.tasking import TASKS, post_task, volunteer
from tests.test_dispatch import OFFERS, north_of_home, set_policy
from tests.workers import HAS_REDIS, drained, workers

API = "/api/v1/tenants/borough"


def go_on_duty(client: FlaskClient, person: Person, km: float) -> None:
    """As the phone app does: a home area, then the on-duty switch."""
    place = north_of_home(km)
    home = client.put(
        f"{API}/home-area",
        json={"latitude": place.latitude, "longitude": place.longitude},
        headers=person.headers,
    )
    assert home.status_code == 200, home.json
    etag = client.get(f"{API}/me/duty", headers=person.headers).headers["ETag"]
    duty = client.put(
        f"{API}/me/duty", json={"on_duty": True}, headers={**person.headers, "If-Match": etag}
    )
    assert duty.status_code == 200, duty.json


@pytest.fixture
def settle(app: Flask, databases: Databases, tmp_path: Path) -> Iterator[Callable[[], None]]:
    """Let the queued jobs run to the end: by a real worker process, or in-process."""
    if not HAS_REDIS:
        yield lambda: run_jobs(app)
        return
    with workers(databases, tmp_path) as start:
        start()
        yield lambda: drained(app)


def sweep(app: Flask, tenant: Any) -> int:
    """The minute's sweep of due waves (the worker's scheduler runs it; here, now):
    how many waves it queued."""
    with app.app_context():
        return send_due_waves(str(tenant.id))


def inbox(client: FlaskClient, person: Person) -> list[dict[str, Any]]:
    return list(client.get(f"{API}/notifications", headers=person.headers).json)


def due_now(app: Flask, tenant: Any) -> None:
    """Let the waiting time of every wave pass (instead of waiting ten minutes)."""
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(
            update(TaskDispatch)
            .where(TaskDispatch.next_wave_at.is_not(None))
            .values(next_wave_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def test_push_task_offered_in_waves_first_accept_wins_others_withdrawn(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    settle: Callable[[], None],
) -> None:
    set_policy(app, borough, wave_size=3, radius_km=2, radius_growth_km=3, max_waves=2)
    amy, ben, cleo = (volunteer(app, world, borough) for _ in range(3))
    dan = volunteer(app, world, borough)
    for person, km in ((amy, 0.5), (ben, 1.0), (cleo, 1.5), (dan, 4.0)):
        go_on_duty(client, person, km)

    posted = post_task(client, nurse, title="Prescription pick-up")
    assert posted.status_code == 201
    task = posted.json
    settle()

    # The first wave: the three within 2 km, each told what, how long and how far.
    for person in (amy, ben, cleo):
        [offer] = client.get(OFFERS, headers=person.headers).json
        assert offer["task"]["title"] == "Prescription pick-up" and offer["wave"] == 1
        assert offer["task"]["address"] is None  # the area only, until taken
        [notice] = [n for n in inbox(client, person) if n["kind"] == "task_offered"]
        assert "Prescription pick-up" in notice["message"] and "60 minutes" in notice["message"]
        assert "km from your home area" in notice["message"]
        assert "Example Road" not in notice["message"]
    assert client.get(OFFERS, headers=dan.headers).json == []

    amy_offer = client.get(OFFERS, headers=amy.headers).json[0]
    declined = client.post(f"{OFFERS}/{amy_offer['id']}/decline", headers=amy.headers)
    assert declined.status_code == 200 and declined.json["status"] == "declined"

    ben_offer = client.get(OFFERS, headers=ben.headers).json[0]
    won = client.post(f"{OFFERS}/{ben_offer['id']}/accept", headers=ben.headers)
    assert won.status_code == 200 and won.json["status"] == "accepted"
    assert won.json["task"]["address"] == "12 Example Road"

    cleo_offer = client.get(OFFERS, headers=cleo.headers).json[0]
    assert cleo_offer["status"] == "withdrawn" and not cleo_offer["answerable"]
    late = client.post(f"{OFFERS}/{cleo_offer['id']}/accept", headers=cleo.headers)
    assert late.status_code == 409
    assert "taken by someone else" in late.json["detail"]
    assert "taken by someone else" in inbox(client, cleo)[0]["message"]

    seen = client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json
    assert seen["status"] == "assigned" and seen["assignee_id"] == str(ben.membership.id)  # type: ignore[union-attr]
    # Time passes: no further wave for a taken task.
    due_now(app, borough)
    sweep(app, borough)
    settle()
    assert client.get(OFFERS, headers=dan.headers).json == []


def test_a_task_nobody_takes_goes_wider_then_escalates(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    settle: Callable[[], None],
) -> None:
    set_policy(app, borough, wave_size=2, radius_km=2, radius_growth_km=3, max_waves=2)
    coordinator = world.person(borough, Role.COORDINATOR)
    amy, dan = volunteer(app, world, borough), volunteer(app, world, borough)
    go_on_duty(client, amy, 0.5)
    go_on_duty(client, dan, 4.0)
    task = post_task(client, nurse, title="Check-in call").json
    settle()
    assert [o["wave"] for o in client.get(OFFERS, headers=amy.headers).json] == [1]
    assert client.get(OFFERS, headers=dan.headers).json == []

    due_now(app, borough)  # nobody answered the first wave in time
    assert sweep(app, borough) == 1
    settle()
    assert client.get(OFFERS, headers=amy.headers).json[0]["status"] == "expired"
    assert [o["wave"] for o in client.get(OFFERS, headers=dan.headers).json] == [2]
    assert inbox(client, coordinator) == []

    due_now(app, borough)  # nor the last
    sweep(app, borough)
    settle()
    [notice] = inbox(client, coordinator)
    assert notice["kind"] == "task_escalated" and "Check-in call" in notice["message"]
    [escalated] = client.get(f"{API}/escalations", headers=coordinator.headers).json
    assert escalated["task"]["id"] == task["id"] and escalated["waves_sent"] == 2
    assert escalated["radius_km"] == 5

    # Late is better than never: Dan may still take it while it is open, and then it
    # is no longer escalated.
    offer = client.get(OFFERS, headers=dan.headers).json[0]
    assert offer["answerable"]
    assert client.post(f"{OFFERS}/{offer['id']}/accept", headers=dan.headers).status_code == 200
    assert client.get(f"{API}/escalations", headers=coordinator.headers).json == []


def set_alerts(client: FlaskClient, person: Person, **settings: Any) -> None:
    """As the alert settings page does: read, then replace, with the version read."""
    etag = client.get(f"{API}/me/alert-settings", headers=person.headers).headers["ETag"]
    saved = client.put(
        f"{API}/me/alert-settings", json=settings, headers={**person.headers, "If-Match": etag}
    )
    assert saved.status_code == 200, saved.json


def test_alert_limits_and_quiet_hours_hold_and_fairness_spreads_offers(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    settle: Callable[[], None],
) -> None:
    set_policy(app, borough, wave_size=2, radius_km=2, max_waves=1)
    pool = [volunteer(app, world, borough) for _ in range(8)]
    for person in pool:
        go_on_duty(client, person, 1.0)  # a pool of equals: the same distance
    once_a_day, asleep, *others = pool
    set_alerts(client, once_a_day, max_alerts_per_day=1)
    local = utcnow().astimezone(ZoneInfo("Europe/London"))
    set_alerts(
        client,
        asleep,
        quiet_hours_start=f"{local - timedelta(hours=1):%H:%M}",
        quiet_hours_end=f"{local + timedelta(hours=1):%H:%M}",
    )

    for n in range(10):
        assert post_task(client, nurse, title=f"Shop {n}").status_code == 201
        settle()

    offered = Counter({
        person.account.email: len(client.get(OFFERS, headers=person.headers).json)
        for person in pool
    })  # fmt: skip
    distribution = sorted(offered[person.account.email] for person in others)
    print("offers per volunteer (6 equals, 10 tasks, wave size 2):", distribution)
    print(
        "limit 1 a day:",
        offered[once_a_day.account.email],
        "quiet hours:",
        offered[asleep.account.email],
    )
    assert offered[once_a_day.account.email] == 1
    assert offered[asleep.account.email] == 0
    assert [n["kind"] for n in inbox(client, asleep)] == []
    assert sum(distribution) == 19  # every wave found its two people
    assert max(distribution) - min(distribution) <= 1  # 3 or 4 each: nobody left out
