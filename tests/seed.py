"""One of every tenant-owned object, for the isolation probe.

A new tenant-scoped model must be added here: test_isolation_probe fails until it is,
so the probe covers every model without anyone remembering to list its endpoints.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.clients.models import Client, ClientProfessional
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.idempotency import IdempotencyRecord
from nyby.geo import Place
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tasks.models import Task, TaskDecline, TaskEvent
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import World


def configuration_document(tenant: Tenant) -> dict[str, Any]:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "kind": "charity",
        "locale": "en",
        "timezone": "Europe/London",
        "check_types": [
            {
                "key": "dbs-basic",
                "name": "Basic DBS",
                "kind": "dbs_basic",
                "evidence": "number",
                "validity_months": 36,
            },
        ],
        "categories": [{"key": "shopping", "name": "Shopping"}],
        "roles": [
            {
                "key": "shopper",
                "name": "Shopper",
                "description": "Buys and delivers food.",
                "checks": ["dbs-basic"],
                "categories": ["shopping"],
            },
        ],
    }


def seed_tenant(world: World, tenant: Tenant) -> None:
    for role in Role:
        world.person(tenant, role)
    someone = world.person(tenant, Role.VOLUNTEER)
    nurse = world.person(tenant, Role.PROFESSIONAL)
    with world.app.app_context():
        configuration.apply(db.session(), configuration_document(tenant))
        db.session.commit()
        with tenant_scope(tenant.id):
            db.session.add(
                IdempotencyRecord(account_id=someone.account.id, key="seed", request_hash="-")
            )
            place = Place(51.5014, -0.1419)
            client = Client(name="Edith Example", **place.columns())
            db.session.add(client)
            db.session.flush()
            assert nurse.membership is not None
            db.session.add(
                ClientProfessional(client_id=client.id, membership_id=nurse.membership.id)
            )
            assert someone.membership is not None
            role = db.session.scalars(select(VolunteerRole)).one()
            check = db.session.scalars(select(CheckType)).one()
            db.session.add_all(
                [
                    RoleAssignment(
                        membership_id=someone.membership.id, role_id=role.id, status="approved"
                    ),
                    CheckRecord(
                        membership_id=someone.membership.id,
                        check_type_id=check.id,
                        status="verified",
                        verified_at=utcnow(),
                    ),
                ]
            )
            task = Task(
                client_id=client.id,
                role_id=role.id,
                posted_by=nurse.membership.id,
                title="Weekly shop",
                estimated_minutes=60,
                earliest_start=utcnow(),
                due_by=utcnow() + timedelta(days=2),
                **place.columns(),
            )
            db.session.add(task)
            db.session.flush()
            db.session.add_all(
                [
                    TaskEvent(task_id=task.id, actor_id=nurse.membership.id, to_status="open"),
                    TaskDecline(task_id=task.id, membership_id=someone.membership.id),
                ]
            )
            db.session.commit()
