"""Shared set-up for the care-task tests: a borough with a shopper role, a nurse,
qualified volunteers and a task body. Registered as a plugin in conftest.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World
from tests.seed import configuration_document

TASKS = "/api/v1/tenants/borough/tasks"


@pytest.fixture
def borough(app: Flask, world: World) -> Any:
    tenant = world.tenant("borough")
    with app.app_context():
        configuration.apply(db.session(), configuration_document(tenant))
        db.session.commit()
    return tenant


@pytest.fixture
def nurse(world: World, borough: Any) -> Person:
    return world.person(borough, Role.PROFESSIONAL)


def qualify(app: Flask, tenant: Any, person: Person, *, expired: bool = False) -> None:
    """Approve the shopper role and verify its DBS check (expired, if asked)."""
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == "shopper")).one()
        check = db.session.scalars(select(CheckType)).one()
        db.session.add_all(
            [
                RoleAssignment(
                    membership_id=person.membership.id, role_id=role.id, status="approved"
                ),
                CheckRecord(
                    membership_id=person.membership.id,
                    check_type_id=check.id,
                    status="verified",
                    verified_at=utcnow() - timedelta(days=400),
                    expires_at=utcnow() + timedelta(days=-1 if expired else 300),
                ),
            ]
        )
        db.session.commit()


def volunteer(app: Flask, world: World, tenant: Any, **kwargs: Any) -> Person:
    person = world.person(tenant, Role.VOLUNTEER)
    qualify(app, tenant, person, **kwargs)
    return person


def task_body(client: FlaskClient, nurse: Person, **changes: Any) -> dict[str, Any]:
    edith = client.post(
        "/api/v1/tenants/borough/clients",
        json={
            "name": "Edith Clark",
            "address": "12 Example Road",
            "latitude": 51.5014,
            "longitude": -0.1419,
        },
        headers=nurse.headers,
    ).json
    start = utcnow() + timedelta(hours=1)
    return {
        "role": "shopper",
        "client_id": edith["id"],
        "title": "Weekly shop",
        "description": "Bread, milk, tea; she pays by card on delivery.",
        "estimated_minutes": 60,
        "earliest_start": start.isoformat(),
        "due_by": (start + timedelta(days=1)).isoformat(),
        **changes,
    }


def post_task(client: FlaskClient, nurse: Person, **changes: Any) -> Any:
    return client.post(TASKS, json=task_body(client, nurse, **changes), headers=nurse.headers)
