"""Lists cost a fixed number of queries, however many rows a page holds (no N+1)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from tests.conftest import World, hold_jobs, run_jobs
from tests.seed import configuration_document


def _queries_for(client: FlaskClient, count_queries: Any, url: str, headers: dict[str, str]) -> int:
    with count_queries() as counted:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json
    return len(counted)


def test_member_list_queries_do_not_grow_with_the_page(
    client: FlaskClient, world: World, count_queries: Any
) -> None:
    tenant = world.tenant("borough")
    admin = world.person(tenant, Role.ADMIN)
    for _ in range(12):
        world.person(tenant, Role.VOLUNTEER)
    url = "/api/v1/tenants/borough/members?page_size="
    small = _queries_for(client, count_queries, url + "2", admin.headers)
    large = _queries_for(client, count_queries, url + "12", admin.headers)
    assert small == large <= 6, (small, large)


def test_role_list_loads_checks_and_categories_in_bulk(
    app: Any, client: FlaskClient, world: World, count_queries: Any
) -> None:
    from nyby.configuration import services
    from nyby.core.db import db

    tenant = world.tenant("borough")
    admin = world.person(tenant, Role.ADMIN)
    document = configuration_document(tenant)
    document["roles"] = [
        {**document["roles"][0], "key": f"role-{n}", "name": f"Role {n}"} for n in range(10)
    ]
    with app.app_context():
        services.apply(db.session(), document)
        db.session.commit()
    url = "/api/v1/tenants/borough/roles?page_size="
    small = _queries_for(client, count_queries, url + "2", admin.headers)
    large = _queries_for(client, count_queries, url + "10", admin.headers)
    assert small == large <= 8, (small, large)


def test_open_tasks_near_me_cost_the_same_for_a_page_of_two_or_twelve(
    app: Any, client: FlaskClient, world: World, count_queries: Any, borough: Any, nurse: Any
) -> None:
    from tests.tasking import TASKS, task_body, volunteer

    body = task_body(client, nurse)
    for n in range(12):
        client.post(TASKS, json={**body, "title": f"Task {n}"}, headers=nurse.headers)
    amy = volunteer(app, world, borough)
    # The posts' dispatch waves run on the queue: done first, so only the page is counted.
    run_jobs(app)
    url = f"{TASKS}/open?latitude=51.5014&longitude=-0.1419&page_size="
    small = _queries_for(client, count_queries, url + "2", amy.headers)
    large = _queries_for(client, count_queries, url + "12", amy.headers)
    assert small == large, (small, large)


def test_a_wave_costs_the_same_for_three_people_or_twelve(
    app: Any,
    client: FlaskClient,
    world: World,
    count_queries: Any,
    borough: Any,
    nurse: Any,
    monkeypatch: Any,
) -> None:
    """Offers, their notices, outbox rows and jobs are written for a wave at once: twelve
    people cost no more queries than three (and their jobs go to the queue in one call)."""
    from datetime import timedelta

    from nyby.core.db import utcnow
    from tests.tasking import post_task
    from tests.test_dispatch import helper, set_policy, wave

    for _ in range(24):
        helper(app, world, borough, km=1.0)
    costs, queued = {}, {}
    for size in (3, 12):
        set_policy(app, borough, wave_size=size)
        task = post_task(client, nurse, title=f"Shopping for {size}").json
        run_jobs(app)  # the first wave
        held = hold_jobs(app, monkeypatch)
        with count_queries() as counted:
            assert wave(app, borough, task["id"], utcnow() + timedelta(hours=1)) == size
        monkeypatch.undo()
        costs[size], queued[size] = len(counted), len(held.jobs)
    assert costs[3] == costs[12], costs
    # Each offer is mailed (the default channels: push, with no device here, and email).
    assert queued == {3: 3, 12: 12}, queued
