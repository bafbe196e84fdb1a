"""Care tasks through the HTTP API: post, take (atomically), do, and the rules around them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.tasks.models import TaskEvent
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once
from tests.tasking import TASKS, post_task, task_body, volunteer


def test_post_take_start_and_complete_a_task(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    posted = post_task(client, nurse)
    assert posted.status_code == 201, posted.json
    task = posted.json
    assert task["status"] == "open" and task["address"] == "12 Example Road"
    assert task["role"] == "shopper"
    amy = volunteer(app, world, borough)
    before = client.get(f"{TASKS}/{task['id']}", headers=amy.headers).json
    # Only the area until she takes it.
    assert before["address"] is None and before["latitude"] is None and before["area_cell"]
    taken = client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    assert taken.status_code == 200 and taken.json["status"] == "assigned"
    assert taken.json["address"] == "12 Example Road"
    assert client.post(f"{TASKS}/{task['id']}/start", headers=amy.headers).json["status"] == (
        "in_progress"
    )
    done = client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"minutes_spent": 75, "outcome_note": "All delivered; she was well."},
        headers=amy.headers,
    )
    assert done.status_code == 200 and done.json["status"] == "completed"
    assert done.json["minutes_spent"] == 75
    seen_by_poster = client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json
    assert seen_by_poster["status"] == "completed"
    mine = client.get(TASKS, headers=amy.headers).json
    assert [(t["id"], t["role"]) for t in mine] == [(task["id"], "shopper")]
    with app.app_context(), tenant_scope(borough.id):
        trail = db.session.scalars(select(TaskEvent.to_status).order_by(TaskEvent.at)).all()
    assert trail == ["open", "assigned", "in_progress", "completed"]


def test_an_unqualified_volunteer_is_told_which_check_is_missing(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    sam = volunteer(app, world, borough, expired=True)
    refused = client.post(f"{TASKS}/{task['id']}/accept", headers=sam.headers)
    assert refused.status_code == 403 and "dbs-basic" in refused.json["detail"]
    nobody = world.person(borough, Role.VOLUNTEER)
    refused = client.post(f"{TASKS}/{task['id']}/accept", headers=nobody.headers)
    assert refused.status_code == 403 and "not been approved" in refused.json["detail"]
    assert client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json["status"] == "open"


def test_fifty_volunteers_accept_at_once_and_exactly_one_wins(
    app: Flask, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(app.test_client(), nurse).json
    people = [volunteer(app, world, borough) for _ in range(50)]

    def accept(person: Person) -> Any:
        return lambda: (
            app.test_client()
            .post(f"{TASKS}/{task['id']}/accept", headers=person.headers)
            .status_code
        )

    results = all_at_once([accept(p) for p in people])
    assert sorted(results) == [200] + [409] * 49
    with app.app_context(), tenant_scope(borough.id):
        assigned = db.session.scalars(
            select(TaskEvent).where(TaskEvent.to_status == "assigned")
        ).all()
    assert len(assigned) == 1


def test_invalid_transitions_are_409_and_only_the_holder_acts(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    amy, ben = volunteer(app, world, borough), volunteer(app, world, borough)
    url = f"{TASKS}/{task['id']}"
    assert client.post(f"{url}/accept", headers=amy.headers).status_code == 200
    # Complete before start: 409. Someone else acting on Amy's task: they cannot see it.
    early = client.post(f"{url}/complete", json={"minutes_spent": 5}, headers=amy.headers)
    assert early.status_code == 409
    assert client.post(f"{url}/start", headers=ben.headers).status_code == 404
    released = client.post(f"{url}/release", json={"note": "Car broke down"}, headers=amy.headers)
    assert released.status_code == 200 and released.json["status"] == "open"
    cancelled = client.post(
        f"{url}/cancel", json={"reason": "Family will do it"}, headers=nurse.headers
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert client.post(f"{url}/accept", headers=ben.headers).status_code == 409
    again = client.post(f"{url}/cancel", json={"reason": "again"}, headers=nurse.headers)
    assert again.status_code == 409


def test_a_declined_task_is_never_shown_again(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    amy = volunteer(app, world, borough)
    assert client.post(f"{TASKS}/{task['id']}/decline", headers=amy.headers).status_code == 204
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).status_code == 404


def test_bad_task_input_is_refused_and_writes_nothing(
    client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    other = world.tenant("kommune")
    outsider = world.person(other, Role.PROFESSIONAL)
    foreign_client = client.post(
        "/api/v1/tenants/kommune/clients",
        json={"name": "Astrid", "latitude": 59.9, "longitude": 10.7},
        headers=outsider.headers,
    ).json
    start = utcnow()
    for changes, status, field in (
        ({"role": "astronaut"}, 422, "role"),
        ({"client_id": foreign_client["id"]}, 422, "client_id"),
        ({"due_by": (start - timedelta(days=1)).isoformat()}, 422, "due_by"),
        ({"latitude": 100, "longitude": 0}, 422, "latitude"),
        ({"estimated_minutes": 0}, 422, "estimated_minutes"),
        ({"status": "completed"}, 422, "status"),
    ):
        response = post_task(client, nurse, earliest_start=start.isoformat(), **changes)
        assert response.status_code == status, (changes, response.json)
        assert field in str(response.json.get("errors")), (field, response.json)
    volunteer_person = world.person(borough, Role.VOLUNTEER)
    body = task_body(client, nurse)
    assert client.post(TASKS, json=body, headers=volunteer_person.headers).status_code == 403
    assert client.get(TASKS, headers=nurse.headers).json == []


def test_browsing_open_tasks_near_me(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    near = post_task(client, nurse).json  # at Edith's home, 51.5014,-0.1419
    far = post_task(client, nurse, title="20 km north", latitude=51.68, longitude=-0.13).json
    soon = post_task(
        client,
        nurse,
        title="Soon, a little further",
        latitude=51.5155,
        longitude=-0.1419,
        due_by=(utcnow() + timedelta(hours=3)).isoformat(),
    ).json
    amy = volunteer(app, world, borough)
    here = "latitude=51.5074&longitude=-0.1278"  # about 1.1 km from Edith
    found = client.get(f"{TASKS}/open?{here}", headers=amy.headers)
    assert found.status_code == 200
    assert [t["id"] for t in found.json] == [near["id"], soon["id"]]
    assert found.json[0]["address"] is None and 0.9 < found.json[0]["distance_km"] < 1.3
    by_due = client.get(f"{TASKS}/open?{here}&sort=due", headers=amy.headers).json
    assert [t["id"] for t in by_due] == [soon["id"], near["id"]]
    wide = client.get(f"{TASKS}/open?{here}&radius_km=50", headers=amy.headers).json
    assert far["id"] in {t["id"] for t in wide}
    # Declined and taken tasks are gone from the list.
    client.post(f"{TASKS}/{soon['id']}/decline", headers=amy.headers)
    ben = volunteer(app, world, borough)
    client.post(f"{TASKS}/{near['id']}/accept", headers=ben.headers)
    assert client.get(f"{TASKS}/open?{here}", headers=amy.headers).json == []
    # Nobody sees tasks they are not qualified for.
    sam = volunteer(app, world, borough, expired=True)
    assert client.get(f"{TASKS}/open?{here}&radius_km=50", headers=sam.headers).json == []
    assert client.get(f"{TASKS}/open?{here}", headers=nurse.headers).status_code == 403
    for bad in ("latitude=100&longitude=0", "longitude=0", f"{here}&radius_km=0", f"{here}&sort=x"):
        assert client.get(f"{TASKS}/open?{bad}", headers=amy.headers).status_code == 422, bad


def test_ending_support_cancels_the_clients_open_tasks(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    url = f"/api/v1/tenants/borough/clients/{task['client_id']}"
    etag = client.get(url, headers=nurse.headers).headers["ETag"]
    ended = client.patch(
        url,
        json={"status": "ended", "status_reason": "Moved to a care home"},
        headers={**nurse.headers, "If-Match": etag},
    )
    assert ended.status_code == 200
    after = client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json
    assert after["status"] == "cancelled" and "care home" in after["closing_reason"]
    # And no new ones.
    again = client.post(
        TASKS,
        json={**task_body(client, nurse), "client_id": task["client_id"]},
        headers=nurse.headers,
    )
    assert again.status_code == 409


def test_overdue_open_tasks_expire(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person
) -> None:
    from nyby.tasks.models import Task
    from nyby.tasks.services import expire_overdue_tasks

    overdue = post_task(client, nurse).json
    current = post_task(client, nurse).json
    with app.app_context(), tenant_scope(borough.id):
        task = db.session.get(Task, (borough.id, uuid.UUID(overdue["id"])))
        assert task is not None
        task.earliest_start = utcnow() - timedelta(days=2)
        task.due_by = utcnow() - timedelta(days=1)
        db.session.commit()
    with app.app_context():
        assert expire_overdue_tasks(str(borough.id)) == 1
    assert client.get(f"{TASKS}/{overdue['id']}", headers=nurse.headers).json["status"] == "expired"
    assert client.get(f"{TASKS}/{current['id']}", headers=nurse.headers).json["status"] == "open"


def test_a_task_nobody_could_do_is_closed_as_unmet(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    amy = volunteer(app, world, borough)
    refused = client.post(f"{TASKS}/{task['id']}/unmet", json={"reason": "x"}, headers=amy.headers)
    assert refused.status_code == 403
    closed = client.post(
        f"{TASKS}/{task['id']}/unmet",
        json={"reason": "No driver free all week"},
        headers=nurse.headers,
    )
    assert closed.status_code == 200 and closed.json["status"] == "unmet"
    assert closed.json["closing_reason"] == "No driver free all week"
    again = client.post(f"{TASKS}/{task['id']}/unmet", json={"reason": "x"}, headers=nurse.headers)
    assert again.status_code == 409
    assert client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers).status_code == 409


def test_the_care_team_lists_one_clients_tasks_and_never_another_tenants(
    client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    mine = post_task(client, nurse, title="Edith's shopping").json
    post_task(client, nurse, title="Someone else's shopping")
    listed = client.get(TASKS, query_string={"client_id": mine["client_id"]}, headers=nurse.headers)
    assert [t["title"] for t in listed.json] == ["Edith's shopping"]
    bad = client.get(TASKS, query_string={"client_id": "not-an-id"}, headers=nurse.headers)
    assert bad.status_code == 422 and "client_id" in str(bad.json["errors"])
    other = world.tenant("kommune")
    outsider = world.person(other, Role.PROFESSIONAL)
    foreign = client.get(
        "/api/v1/tenants/kommune/tasks",
        query_string={"client_id": mine["client_id"]},
        headers=outsider.headers,
    )
    assert foreign.status_code == 200 and foreign.json == []
