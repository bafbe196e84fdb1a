"""Shared set-up for the checks and approval tests: a town whose roles need an ID
document, a DBS number and a safeguarding module, and volunteers who applied."""

from __future__ import annotations

import copy
import io
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.members.models import Membership
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World
from tests.samples import PNG

API = "/api/v1/tenants/town"

SAFEGUARDING = {
    "introduction": "Three questions on the handbook.",
    "pass_mark": 2,
    "questions": [
        {
            "question": "Someone is in danger. Who do you call?",
            "options": ["999", "Nobody"],
            "answer": 0,
        },
        {
            "question": "Can you promise to keep abuse secret?",
            "options": ["Yes", "No, it must be passed on"],
            "answer": 1,
        },
        {
            "question": "Which is a sign of self-neglect?",
            "options": ["A full fridge", "Out-of-date food", "A tidy hall"],
            "answer": 1,
        },
    ],
}


def town_document(slug: str = "town") -> dict[str, Any]:
    return {
        "slug": slug,
        "name": slug.title(),
        "kind": "local_authority",
        "locale": "en",
        "timezone": "Europe/London",
        "check_types": [
            {"key": "id-check", "name": "ID check", "kind": "identity", "evidence": "document"},
            {
                "key": "dbs-basic",
                "name": "Basic DBS",
                "kind": "dbs_basic",
                "evidence": "number",
                "validity_months": 36,
            },
            {
                "key": "safeguarding",
                "name": "Safeguarding training",
                "kind": "training",
                "evidence": "document",
                "validity_months": 24,
                "training": copy.deepcopy(SAFEGUARDING),
            },
            {"key": "reference", "name": "Reference", "kind": "reference", "evidence": "none"},
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
            {
                "key": "befriender",
                "name": "Befriender",
                "description": "Visits once a week.",
                "checks": ["id-check", "dbs-basic", "safeguarding"],
                "categories": ["shopping"],
            },
            {
                "key": "caller",
                "name": "Caller",
                "description": "Phones for a chat.",
                "checks": ["reference"],
                "categories": ["shopping"],
            },
        ],
    }


def make_town(app: Flask, world: World, slug: str = "town") -> Tenant:
    tenant = world.tenant(slug)
    with app.app_context():
        configuration.apply(db.session(), town_document(slug))
        db.session.commit()
    return tenant


def apply_for(app: Flask, tenant: Tenant, person: Person, *roles: str) -> None:
    """The volunteer applied for these roles (as sign-up leaves them)."""
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        for key in roles:
            role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == key)).one()
            db.session.add(RoleAssignment(membership_id=person.membership.id, role_id=role.id))
        db.session.commit()


def confirm_email(app: Flask, person: Person, at: datetime | None = None) -> None:
    with app.app_context():
        account = db.session.get(Account, person.account.id)
        assert account is not None
        account.email_verified_at = at or utcnow()
        db.session.commit()


def applicant(app: Flask, world: World, tenant: Tenant, *roles: str) -> Person:
    person = world.person(tenant, Role.VOLUNTEER)
    confirm_email(app, person)
    apply_for(app, tenant, person, *roles)
    return person


def check_type_id(app: Flask, tenant: Tenant, key: str) -> str:
    with app.app_context(), tenant_scope(tenant.id):
        return str(db.session.scalars(select(CheckType.id).where(CheckType.key == key)).one())


def record(app: Flask, tenant: Tenant, person: Person, key: str) -> CheckRecord | None:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        found = db.session.scalars(
            select(CheckRecord)
            .join(CheckType, CheckType.id == CheckRecord.check_type_id)
            .where(CheckRecord.membership_id == person.membership.id, CheckType.key == key)
        ).one_or_none()
        if found is not None:
            db.session.expunge(found)
        return found


def membership(app: Flask, tenant: Tenant, person: Person) -> Membership:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        found = db.session.scalars(
            select(Membership).where(Membership.id == person.membership.id)
        ).one()
        db.session.expunge(found)
        return found


def send_file(
    client: FlaskClient,
    person: Person,
    type_id: str,
    data: bytes = PNG,
    name: str = "passport.png",
    slug: str = "town",
    **fields: str,
) -> Any:
    return client.post(
        f"/api/v1/tenants/{slug}/me/checks/{type_id}/evidence",
        data={"file": (io.BytesIO(data), name, "application/octet-stream"), **fields},
        headers=person.headers,
        content_type="multipart/form-data",
    )


def member_url(person: Person, slug: str = "town") -> str:
    assert person.membership is not None
    return f"/api/v1/tenants/{slug}/members/{person.membership.id}"
