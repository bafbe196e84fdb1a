"""The care-tasks issue's "done when", through the HTTP API only.

A professional creates a client and a weekly repeating shopping task; a qualified
volunteer finds it near them, takes the series, starts and completes a visit with
minutes; an unqualified volunteer is refused with the missing check named; a
volunteer of another tenant never sees any of it.

People are given accounts by the test harness (sign-up comes with onboarding);
everything they then do goes through HTTP with their own bearer tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.core.db import utcnow
from tests.checking import confirm_email
from tests.conftest import PASSWORD, World
from tests.seed import configuration_document


def login(client: FlaskClient, email: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert token.status_code == 200, token.json
    return {"Authorization": f"Bearer {token.json['access_token']}"}


def configure(client: FlaskClient, slug: str, admin: dict[str, str], tenant: Any) -> None:
    url = f"/api/v1/tenants/{slug}/configuration"
    current = client.get(url, headers=admin)
    document = configuration_document(tenant)
    put = client.put(url, json=document, headers={**admin, "If-Match": current.headers["ETag"]})
    assert put.status_code == 200, put.json


def test_weekly_shopping_from_posting_to_done(client: FlaskClient, world: World) -> None:
    borough, elsewhere = world.tenant("borough"), world.tenant("elsewhere")
    people = {
        "admin": world.person(borough, Role.ADMIN),
        "coordinator": world.person(borough, Role.COORDINATOR),
        "nurse": world.person(borough, Role.PROFESSIONAL),
        "amy": world.person(borough, Role.VOLUNTEER),
        "sam": world.person(borough, Role.VOLUNTEER),
        "outsider": world.person(elsewhere, Role.VOLUNTEER),
        "outsider_admin": world.person(elsewhere, Role.ADMIN),
    }
    h = {name: login(client, person.account.email) for name, person in people.items()}
    api = "/api/v1/tenants/borough"
    configure(client, "borough", h["admin"], borough)
    configure(client, "elsewhere", h["outsider_admin"], elsewhere)

    # The professional creates a client and a weekly shopping task at her home.
    edith = client.post(
        f"{api}/clients",
        json={
            "name": "Edith Clark",
            "address": "12 Example Road, London",
            "latitude": 51.5014,
            "longitude": -0.1419,
            "hearing_impairment": True,
        },
        headers=h["nurse"],
    )
    assert edith.status_code == 201, edith.json
    start = utcnow() + timedelta(hours=2)
    series = client.post(
        f"{api}/series",
        json={
            "role": "shopper",
            "category": "shopping",
            "client_id": edith.json["id"],
            "title": "Weekly shop",
            "description": "Bread, milk, tea. She pays by card on delivery.",
            "estimated_minutes": 60,
            "earliest_start": start.isoformat(),
            "due_by": (start + timedelta(hours=6)).isoformat(),
            "rrule": "FREQ=WEEKLY",
        },
        headers=h["nurse"],
    )
    assert series.status_code == 201, series.json
    series_url = f"{api}/series/{series.json['id']}"

    # A coordinator verifies Amy's and Sam's DBS checks and approves both as shoppers
    # (their email addresses are confirmed, as sign-up does); Sam's check is then found
    # wanting and rejected, so he still holds the role but lacks the check.
    for name in ("amy", "sam"):
        confirm_email(world.app, people[name])
        member = f"{api}/members/{people[name].membership.id}"  # type: ignore[union-attr]
        checked = client.post(
            f"{member}/check-outcomes",
            json={"check_type": "dbs-basic", "status": "verified"},
            headers=h["coordinator"],
        )
        assert checked.status_code == 200, checked.json
        decided = client.post(
            f"{member}/role-decisions",
            json={"role": "shopper", "status": "approved"},
            headers=h["coordinator"],
        )
        assert decided.status_code == 200, decided.json
        assert decided.json["roles"][0]["may_take_tasks"] is True
    rejected = client.post(
        f"{api}/members/{people['sam'].membership.id}/check-outcomes",  # type: ignore[union-attr]
        json={"check_type": "dbs-basic", "status": "rejected", "reason": "Not his certificate."},
        headers=h["coordinator"],
    )
    assert rejected.json["roles"][0]["may_take_tasks"] is False

    # Amy finds it near her home, only roughly where, and takes the whole series.
    home = client.put(
        f"{api}/home-area",
        json={"latitude": 51.4975, "longitude": -0.1357, "travel_radius_km": 3},
        headers=h["amy"],
    )
    assert home.status_code == 200
    found = client.get(f"{api}/tasks/open", headers=h["amy"])
    assert found.status_code == 200, found.json
    [visit, *_] = found.json
    assert visit["series_id"] == series.json["id"] and visit["address"] is None
    assert 0 < visit["distance_km"] < 1
    taken = client.post(f"{series_url}/accept", headers=h["amy"])
    assert taken.status_code == 200, taken.json
    mine = client.get(f"{api}/tasks", query_string={"status": "assigned"}, headers=h["amy"]).json
    assert len(mine) == 2 and {t["series_id"] for t in mine} == {series.json["id"]}
    first = sorted(mine, key=lambda t: t["earliest_start"])[0]
    assert first["address"] == "12 Example Road, London"
    assert first["client"]["hearing_impairment"] is True

    # Sam is refused, with the missing check named.
    refused = client.post(f"{series_url}/accept", headers=h["sam"])
    assert refused.status_code == 403 and "dbs-basic" in refused.json["detail"]

    # Amy starts and completes this week's visit with the minutes it took.
    task_url = f"{api}/tasks/{first['id']}"
    assert client.post(f"{task_url}/start", headers=h["amy"]).json["status"] == "in_progress"
    done = client.post(
        f"{task_url}/complete",
        json={"minutes_spent": 55, "outcome_note": "All delivered."},
        headers=h["amy"],
    )
    assert done.status_code == 200 and done.json["minutes_spent"] == 55

    # The professional saw each change as it happened.
    seen = client.get(task_url, headers=h["nurse"]).json
    assert seen["status"] == "completed"
    kinds = [n["kind"] for n in client.get(f"{api}/notifications", headers=h["nurse"]).json]
    assert kinds == ["task_completed", "task_started", "series_taken"]

    # A volunteer of another tenant never sees any of it.
    other = "/api/v1/tenants/elsewhere"
    assert (
        client.get(
            f"{other}/tasks/open",
            query_string={"latitude": 51.5014, "longitude": -0.1419},
            headers=h["outsider"],
        ).json
        == []
    )
    for url in (f"{other}/series/{series.json['id']}", f"{other}/tasks/{first['id']}"):
        assert client.get(url, headers=h["outsider"]).status_code == 404
    assert (
        client.post(f"{other}/series/{series.json['id']}/accept", headers=h["outsider"]).status_code
        == 404
    )
    assert client.get(f"{api}/tasks/open", headers=h["outsider"]).status_code in (403, 404)
