"""Paging through open tasks near me: every page continues where the last one ended,
travelling tasks (nearest first) before remote ones, and every page gives the same
total, however the tasks fall between the travelling and the remote roles."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from nyby.configuration import services as configuration
from nyby.core.db import db, utcnow
from tests.conftest import Person, World, run_jobs
from tests.seed import configuration_document
from tests.tasking import TASKS, volunteer
from tests.test_browse import approve, at

OPEN = f"{TASKS}/open"
HERE = {"latitude": 51.5014, "longitude": -0.1419, "radius_km": 3}


@pytest.fixture
def phone_role(app: Flask, borough: Any) -> None:
    """A remote role (phone befriending, no checks) beside the borough's shopper role."""
    document = configuration_document(borough)
    document["categories"].append({"key": "company", "name": "Company"})
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


def _post(client: FlaskClient, nurse: Person, title: str, km_north: float, hours: int) -> str:
    """A shopping task ``km_north`` of HERE, due in ``hours``."""
    latitude = HERE["latitude"] + km_north / 111.2
    at(client, nurse, latitude, HERE["longitude"], title=title, **_due_in(hours))
    return title


def _call(client: FlaskClient, nurse: Person, title: str, hours: int) -> str:
    """A phone call due in ``hours``, posted far away: a remote role has no travel."""
    at(
        client,
        nurse,
        60.39,
        5.32,
        title=title,
        role="phone-friend",
        category="company",
        **_due_in(hours),
    )
    return title


def _due_in(hours: int) -> dict[str, str]:
    due = utcnow() + timedelta(hours=hours)
    return {"earliest_start": (due - timedelta(minutes=30)).isoformat(), "due_by": due.isoformat()}


def _pages(client: FlaskClient, person: Person, size: int, **query: Any) -> list[Any]:
    """Every page of ``size`` until one comes back empty, with the total each one gave."""
    pages = []
    for number in range(1, 20):
        response = client.get(
            OPEN,
            query_string={**HERE, **query, "page": number, "page_size": size},
            headers=person.headers,
        )
        assert response.status_code == 200, response.json
        total = json.loads(response.headers["X-Pagination"])["total"]
        pages.append(([task["title"] for task in response.json], total))
        if not response.json:
            return pages
    raise AssertionError("the pages never ended")


def test_pages_run_on_from_the_nearest_tasks_to_the_remote_ones(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, phone_role: None
) -> None:
    near = [
        _post(client, nurse, "0.5 km, due in 40 h", 0.5, 40),
        _post(client, nurse, "1 km, due in 10 h", 1.0, 10),
        _post(client, nurse, "1.5 km, due in 30 h", 1.5, 30),
        _post(client, nurse, "2 km, due in 5 h", 2.0, 5),
        _post(client, nurse, "2.5 km, due in 20 h", 2.5, 20),
    ]
    _post(client, nurse, "4 km: too far", 4.0, 2)
    calls = [
        _call(client, nurse, "Call, due in 3 h", 3),
        _call(client, nurse, "Call, due in 15 h", 15),
        _call(client, nurse, "Call, due in 25 h", 25),
        _call(client, nurse, "Call, due in 50 h", 50),
    ]
    amy = volunteer(app, world, borough)
    approve(app, borough, amy, "phone-friend")

    # Nearest first; the calls (no distance) after every task within reach, soonest first.
    by_distance = _pages(client, amy, 3)
    assert by_distance == [
        (near[:3], 9),
        ([*near[3:], calls[0]], 9),
        (calls[1:], 9),
        ([], 9),  # past the last page: nothing, and still the total
    ]
    # By due time, the two kinds of task interleave.
    by_due = _pages(client, amy, 4, sort="due")
    due_order = [calls[0], near[3], near[1], calls[1], near[4], calls[2], near[2], near[0]]
    due_order.append(calls[3])
    assert [title for page, _ in by_due for title in page] == due_order
    assert [len(page) for page, _ in by_due] == [4, 4, 1, 0]
    assert {total for _, total in by_due} == {9}

    # Only calls (the shopper role asked for, or only calls taken): each kind pages alone.
    assert _pages(client, amy, 4, role="shopper") == [(near[:4], 5), (near[4:], 5), ([], 5)]
    assert _pages(client, amy, 3, role="phone-friend") == [(calls[:3], 4), (calls[3:], 4), ([], 4)]

    # A declined task leaves the pages and the total.
    client.post(f"{TASKS}/{_id(client, amy, near[0])}/decline", headers=amy.headers)
    client.post(f"{TASKS}/{_id(client, amy, calls[1])}/decline", headers=amy.headers)
    assert _pages(client, amy, 5) == [
        ([*near[1:], calls[0]], 7),
        ([calls[2], calls[3]], 7),
        ([], 7),
    ]
    run_jobs(app)  # what posting queued runs here, not inside the next test


def _id(client: FlaskClient, person: Person, title: str) -> str:
    found = client.get(OPEN, query_string={**HERE, "page_size": 100}, headers=person.headers)
    return next(task["id"] for task in found.json if task["title"] == title)
