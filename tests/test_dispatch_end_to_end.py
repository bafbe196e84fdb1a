"""Push dispatch through the API with the job queue running: volunteers go on duty, a
professional posts a push task, the wave job offers it, one declines, one accepts and
wins, the last is told it was taken; a task nobody takes escalates after the last wave."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.dispatch.jobs import send_due_waves
from nyby.dispatch.models import TaskDispatch
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, run_jobs
from tests.tasking import TASKS, post_task, volunteer
from tests.test_dispatch import OFFERS, north_of_home, set_policy

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
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=3, radius_km=2, radius_growth_km=3, max_waves=2)
    amy, ben, cleo = (volunteer(app, world, borough) for _ in range(3))
    dan = volunteer(app, world, borough)
    for person, km in ((amy, 0.5), (ben, 1.0), (cleo, 1.5), (dan, 4.0)):
        go_on_duty(client, person, km)

    posted = post_task(client, nurse, title="Prescription pick-up")
    assert posted.status_code == 201
    task = posted.json
    run_jobs(app)

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
    with app.app_context():
        send_due_waves(str(borough.id))
    run_jobs(app)
    assert client.get(OFFERS, headers=dan.headers).json == []


def test_a_task_nobody_takes_goes_wider_then_escalates(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=2, radius_km=2, radius_growth_km=3, max_waves=2)
    coordinator = world.person(borough, Role.COORDINATOR)
    amy, dan = volunteer(app, world, borough), volunteer(app, world, borough)
    go_on_duty(client, amy, 0.5)
    go_on_duty(client, dan, 4.0)
    task = post_task(client, nurse, title="Check-in call").json
    run_jobs(app)
    assert [o["wave"] for o in client.get(OFFERS, headers=amy.headers).json] == [1]
    assert client.get(OFFERS, headers=dan.headers).json == []

    due_now(app, borough)  # nobody answered the first wave in time
    with app.app_context():
        assert send_due_waves(str(borough.id)) == 1
    run_jobs(app)
    assert client.get(OFFERS, headers=amy.headers).json[0]["status"] == "expired"
    assert [o["wave"] for o in client.get(OFFERS, headers=dan.headers).json] == [2]
    assert inbox(client, coordinator) == []

    due_now(app, borough)  # nor the last
    with app.app_context():
        send_due_waves(str(borough.id))
    run_jobs(app)
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
