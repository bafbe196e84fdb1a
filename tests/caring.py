"""Shared steps for the tests of concerns, expenses and feedback: a task done by a
volunteer, start to finish, through the API."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from nyby.core.db import db
from nyby.members.models import Membership
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World
from tests.tasking import TASKS, post_task, volunteer

API = "/api/v1/tenants/borough"


def taken_task(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, **changes: Any
) -> tuple[dict[str, Any], Person]:
    """A task posted by the nurse and taken by a qualified volunteer."""
    amy = volunteer(app, world, borough)
    task = post_task(client, nurse, **changes).json
    taken = client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    assert taken.status_code == 200, taken.json
    return taken.json, amy


def completed_task(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> tuple[dict[str, Any], Person]:
    task, amy = taken_task(app, client, world, borough, nurse)
    assert client.post(f"{TASKS}/{task['id']}/start", headers=amy.headers).status_code == 200
    done = client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"minutes_spent": 45, "outcome_note": "All delivered."},
        headers=amy.headers,
    )
    assert done.status_code == 200, done.json
    return done.json, amy


def make_lead(app: Flask, tenant: Any, person: Person) -> None:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        member = db.session.get(Membership, (tenant.id, person.membership.id))
        assert member is not None
        member.is_safeguarding_lead = True
        db.session.commit()
