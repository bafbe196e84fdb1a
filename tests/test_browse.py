"""Browsing open tasks near me: filters, home area, remote roles, street groups, the inbox."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.geo import Place
from nyby.onboarding.models import RoleAssignment
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, all_at_once
from tests.seed import configuration_document
from tests.tasking import TASKS, post_task, task_body, volunteer

OPEN = f"{TASKS}/open"
WESTMINSTER = {"latitude": 51.5014, "longitude": -0.1419}


@pytest.fixture
def roles(app: Flask, borough: Any) -> None:
    """Add a company category and a remote phone-befriending role with no checks."""
    document = configuration_document(borough)
    document["categories"].append({"key": "company", "name": "Company"})
    document["roles"][0]["categories"] = ["shopping"]
    document["roles"].append(
        {
            "key": "phone-friend",
            "name": "Phone befriender",
            "description": "Rings a lonely neighbour for a chat.",
            "remote": True,
            "checks": [],
            "categories": ["company"],
        }
    )
    with app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()


def approve(app: Flask, tenant: Any, person: Person, role_key: str) -> None:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == role_key)).one()
        db.session.add(
            RoleAssignment(membership_id=person.membership.id, role_id=role.id, status="approved")
        )
        db.session.commit()


def at(client: FlaskClient, nurse: Person, latitude: float, longitude: float, **more: Any) -> Any:
    body = task_body(client, nurse, latitude=latitude, longitude=longitude, **more)
    body.pop("client_id")
    posted = client.post(TASKS, json=body, headers=nurse.headers)
    assert posted.status_code == 201, posted.json
    return posted.json


def titles(response: Any) -> list[str]:
    assert response.status_code == 200, response.json
    return [task["title"] for task in response.json]


def test_filters_by_category_role_and_when_i_am_free(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, roles: None
) -> None:
    soon = utcnow() + timedelta(hours=1)
    later = utcnow() + timedelta(days=3)
    at(client, nurse, 51.502, -0.142, title="Shop today", category="shopping")
    at(
        client,
        nurse,
        51.503,
        -0.143,
        title="Shop on Thursday",
        category="shopping",
        earliest_start=later.isoformat(),
        due_by=(later + timedelta(hours=4)).isoformat(),
    )
    at(
        client,
        nurse,
        60.39,
        5.32,
        title="Call from Bergen",
        role="phone-friend",
        category="company",
    )
    amy = volunteer(app, world, borough)
    approve(app, borough, amy, "phone-friend")
    q = {**WESTMINSTER, "radius_km": 2}
    everything = client.get(OPEN, query_string=q, headers=amy.headers)
    # Remote calls have no travel: included wherever they are, with no distance, last.
    assert titles(everything) == ["Shop today", "Shop on Thursday", "Call from Bergen"]
    assert everything.json[2]["distance_km"] is None
    assert everything.json[0]["distance_km"] < everything.json[1]["distance_km"] < 1
    by_category = client.get(OPEN, query_string={**q, "category": "company"}, headers=amy.headers)
    assert titles(by_category) == ["Call from Bergen"]
    by_role = client.get(OPEN, query_string={**q, "role": "shopper"}, headers=amy.headers)
    assert titles(by_role) == ["Shop today", "Shop on Thursday"]
    free_today = {
        **q,
        "role": "shopper",
        "window_start": utcnow().isoformat(),
        "window_end": (utcnow() + timedelta(hours=12)).isoformat(),
    }
    assert titles(client.get(OPEN, query_string=free_today, headers=amy.headers)) == ["Shop today"]
    by_due = client.get(OPEN, query_string={**q, "sort": "due"}, headers=amy.headers)
    assert titles(by_due)[-1] == "Shop on Thursday"
    backwards = {**q, "window_start": later.isoformat(), "window_end": soon.isoformat()}
    refused = client.get(OPEN, query_string=backwards, headers=amy.headers)
    assert refused.status_code == 422 and "window_end" in refused.json["errors"]["query"]


def test_a_category_the_role_does_not_take_is_refused(
    client: FlaskClient, nurse: Person, roles: None
) -> None:
    wrong = post_task(client, nurse, category="company")
    assert wrong.status_code == 422 and "category" in wrong.json["errors"]
    unknown = post_task(client, nurse, category="gardening")
    assert unknown.status_code == 422 and "category" in unknown.json["errors"]


def test_browsing_from_my_home_area_within_my_travel_radius(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    at(client, nurse, 51.5014, -0.1419, title="Westminster")
    at(client, nurse, 51.5549, -0.1084, title="Holloway")  # about 6.4 km away
    amy = volunteer(app, world, borough)
    no_home = client.get(OPEN, headers=amy.headers)
    assert no_home.status_code == 422 and "home area" in no_home.json["detail"]
    home = "/api/v1/tenants/borough/home-area"
    set_home = client.put(home, json={**WESTMINSTER, "travel_radius_km": 3}, headers=amy.headers)
    assert set_home.status_code == 200 and set_home.json["area_cell"]
    assert titles(client.get(OPEN, headers=amy.headers)) == ["Westminster"]
    client.put(home, json={**WESTMINSTER, "travel_radius_km": 8}, headers=amy.headers)
    assert titles(client.get(OPEN, headers=amy.headers)) == ["Westminster", "Holloway"]
    half = client.put(home, json={"latitude": 51.5, "longitude": None}, headers=amy.headers)
    assert half.status_code == 422
    assert client.get(home, headers=amy.headers).json["travel_radius_km"] == 8


def street_of_three(client: FlaskClient, nurse: Person) -> list[str]:
    """Three tasks in one street cell (a few metres apart) and one streets away."""
    ids = [
        at(client, nurse, 51.5014 + i * 0.0001, -0.1419, title=f"No. {i}")["id"] for i in range(3)
    ]
    at(client, nurse, 51.52, -0.10, title="Elsewhere")
    return ids


def test_a_street_champion_takes_a_street_group_together(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    ids = street_of_three(client, nurse)
    champion = volunteer(app, world, borough)
    groups = client.get(f"{OPEN}/street-groups", query_string=WESTMINSTER, headers=champion.headers)
    assert groups.status_code == 200
    [group] = groups.json
    assert group["task_count"] == 3 and group["total_minutes"] == 180
    assert sorted(t["id"] for t in group["tasks"]) == sorted(ids)
    assert all(t["address"] is None for t in group["tasks"])  # still only the area
    taken = client.post(
        f"{TASKS}/street-groups/accept", json={"task_ids": ids}, headers=champion.headers
    )
    assert taken.status_code == 200, taken.json
    assert {t["status"] for t in taken.json} == {"assigned"}
    assert all(t["latitude"] is not None for t in taken.json)  # the exact place, now
    left = client.get(OPEN, query_string=WESTMINSTER, headers=champion.headers)
    assert titles(left) == ["Elsewhere"]


def test_a_street_group_is_taken_whole_or_not_at_all(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    ids = street_of_three(client, nurse)
    amy, ben = volunteer(app, world, borough), volunteer(app, world, borough)
    assert client.post(f"{TASKS}/{ids[1]}/accept", headers=ben.headers).status_code == 200
    refused = client.post(
        f"{TASKS}/street-groups/accept", json={"task_ids": ids}, headers=amy.headers
    )
    assert refused.status_code == 409 and "nothing was taken" in refused.json["detail"]
    with app.app_context(), tenant_scope(borough.id):
        holders = {
            str(t.id): t.assignee_id
            for t in db.session.scalars(select(Task).where(Task.id.in_(map(uuid.UUID, ids))))
        }
    assert holders[ids[0]] is None and holders[ids[2]] is None  # rolled back
    mixed = [ids[0], at(client, nurse, 51.52, -0.10, title="Far")["id"]]
    refused = client.post(
        f"{TASKS}/street-groups/accept", json={"task_ids": mixed}, headers=amy.headers
    )
    assert refused.status_code == 422


def test_two_champions_take_the_same_street_at_once_and_one_gets_it_all(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    ids = street_of_three(client, nurse)
    champions = [volunteer(app, world, borough) for _ in range(4)]

    def take(person: Person) -> Any:
        def call() -> int:
            with app.test_client() as own:
                return own.post(
                    f"{TASKS}/street-groups/accept", json={"task_ids": ids}, headers=person.headers
                ).status_code

        return call

    codes = all_at_once([take(person) for person in champions])
    assert sorted(codes) == [200, 409, 409, 409]
    with app.app_context(), tenant_scope(borough.id):
        holders = set(
            db.session.scalars(
                select(Task.assignee_id).where(Task.id.in_([uuid.UUID(i) for i in ids]))
            )
        )
    assert len(holders) == 1 and None not in holders


def test_the_holder_sees_the_clients_needs_and_the_poster_hears_of_each_change(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    body = task_body(client, nurse)
    client.patch(
        f"/api/v1/tenants/borough/clients/{body['client_id']}",
        json={"hearing_impairment": True, "key_safe": True},
        headers={**nurse.headers, "If-Match": "*"},
    )
    task = client.post(TASKS, json=body, headers=nurse.headers).json
    amy = volunteer(app, world, borough)
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).json["client"] is None
    assert client.get(f"{TASKS}/{task['id']}/events", headers=amy.headers).status_code == 404
    held = client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers).json
    assert held["client"]["name"] == "Edith Clark" and held["client"]["address"]
    assert "email" not in held["client"]
    client.post(
        f"{TASKS}/{task['id']}/release", json={"note": "My car broke down"}, headers=amy.headers
    )
    inbox = client.get("/api/v1/tenants/borough/notifications", headers=nurse.headers)
    assert [n["kind"] for n in inbox.json] == ["task_released", "task_taken"]
    assert "My car broke down" in inbox.json[0]["message"]
    assert amy.account.name in inbox.json[1]["message"]
    unread = client.get(
        "/api/v1/tenants/borough/notifications",
        query_string={"unread": "true"},
        headers=nurse.headers,
    )
    assert unread.headers["X-Pagination"] and len(unread.json) == 2
    marked = client.post(
        "/api/v1/tenants/borough/notifications/read", json={}, headers=nurse.headers
    )
    assert marked.json == {"marked": 2}
    assert (
        client.get(
            "/api/v1/tenants/borough/notifications",
            query_string={"unread": "true"},
            headers=nurse.headers,
        ).json
        == []
    )
    history = client.get(f"{TASKS}/{task['id']}/events", headers=nurse.headers).json
    assert [e["to_status"] for e in history] == ["open", "assigned", "open"]
    assert history[-1]["note"] == "My car broke down"
    # Amy's inbox is her own.
    assert client.get("/api/v1/tenants/borough/notifications", headers=amy.headers).json == []


def test_notifications_are_written_in_the_readers_language(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    amy = volunteer(app, world, borough)
    client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    inbox = "/api/v1/tenants/borough/notifications"
    assert "took your task" in client.get(inbox, headers=nurse.headers).json[0]["message"]
    with app.app_context():
        db.session.execute(
            update(Account).where(Account.id == nurse.account.id).values(locale="nb")
        )
        db.session.commit()
    norwegian = client.get(inbox, headers=nurse.headers).json
    assert "tok oppdraget ditt «Weekly shop»" in norwegian[0]["message"]


def test_another_tenants_volunteer_sees_no_open_task_and_no_group(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    street_of_three(client, nurse)
    other = world.tenant("elsewhere")
    with app.app_context():
        configuration.apply(db.session(), configuration_document(other))
        db.session.commit()
    stranger = world.person(other, Role.VOLUNTEER)
    url = "/api/v1/tenants/elsewhere/tasks/open"
    assert client.get(url, query_string=WESTMINSTER, headers=stranger.headers).json == []
    groups = client.get(f"{url}/street-groups", query_string=WESTMINSTER, headers=stranger.headers)
    assert groups.json == []
    with app.app_context(), tenant_scope(borough.id):
        place = Place(**WESTMINSTER)
        assert db.session.scalars(select(Task).where(Task.street_cell == place.street_cell)).all()


def test_inbox_and_home_area_belong_to_one_membership_and_bad_input_is_refused(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    amy = volunteer(app, world, borough)
    client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    other = world.tenant("elsewhere")
    world.join(nurse, other, Role.PROFESSIONAL)
    client.put(
        "/api/v1/tenants/borough/home-area",
        json={**WESTMINSTER, "travel_radius_km": 4},
        headers=nurse.headers,
    )
    elsewhere = "/api/v1/tenants/elsewhere"
    # The nurse's borough inbox and home area do not follow her into another tenant.
    assert client.get(f"{elsewhere}/notifications", headers=nurse.headers).json == []
    assert client.get(f"{elsewhere}/home-area", headers=nurse.headers).json["latitude"] is None
    stranger = world.person(other, Role.VOLUNTEER)
    assert (
        client.get("/api/v1/tenants/borough/notifications", headers=stranger.headers).status_code
        == 404
    )
    bad = client.post(
        "/api/v1/tenants/borough/notifications/read", json={"ids": ["nope"]}, headers=nurse.headers
    )
    assert bad.status_code == 422
    assert (
        len(
            client.get(
                "/api/v1/tenants/borough/notifications?unread=true", headers=nurse.headers
            ).json
        )
        == 1
    )
    no_reason = client.post(f"{TASKS}/{task['id']}/unmet", json={}, headers=nurse.headers)
    assert no_reason.status_code == 422
    far = client.get(OPEN, query_string={**WESTMINSTER, "radius_km": 500}, headers=amy.headers)
    assert far.status_code == 422


def test_my_tasks_list_shows_the_client_of_each_task_i_hold(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    held = []
    for name in ("Edith Clark", "Arthur Dent"):
        body = task_body(client, nurse, title=f"Shopping for {name}")
        client.patch(
            f"/api/v1/tenants/borough/clients/{body['client_id']}",
            json={"name": name},
            headers={**nurse.headers, "If-Match": "*"},
        )
        held.append(client.post(TASKS, json=body, headers=nurse.headers).json)
    untaken = post_task(client, nurse, title="Nobody's yet").json
    amy = volunteer(app, world, borough)
    for task in held:
        client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    mine = client.get(TASKS, headers=amy.headers).json
    assert {(t["title"], t["client"]["name"]) for t in mine} == {
        ("Shopping for Edith Clark", "Edith Clark"),
        ("Shopping for Arthur Dent", "Arthur Dent"),
    }
    everything = client.get(TASKS, headers=nurse.headers).json
    assert untaken["id"] in {t["id"] for t in everything}
    assert all(t["client"] is None for t in everything)  # the care team reads clients apart
