"""Who may take a task in a role: holding the role, and every required check valid."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Forbidden
from nyby.dispatch.models import PoolEntry
from nyby.dispatch.pool import current
from nyby.members.models import Membership
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.onboarding.qualification import qualification
from nyby.tenancy.context import tenant_scope
from tests.conftest import World
from tests.seed import configuration_document


@pytest.fixture
def scope(app: Flask, world: World) -> Iterator[Any]:
    tenant = world.tenant("borough")
    document = configuration_document(tenant)
    document["check_types"].append(
        {"key": "id-check", "name": "ID check", "kind": "identity", "evidence": "document"}
    )
    document["roles"][0]["checks"] = ["dbs-basic", "id-check"]
    document["roles"].append(
        {
            "key": "hospital-discharge",
            "name": "Home from hospital",
            "description": "Staff only.",
            "staff_only": True,
            "checks": ["id-check"],
        }
    )
    with app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()
        with tenant_scope(tenant.id):
            yield world, tenant


def _member(world: World, tenant: Any, *roles: Role) -> Membership:
    person = world.person(tenant, *roles)
    assert person.membership is not None
    return db.session.merge(person.membership)


def _role(key: str) -> VolunteerRole:
    return db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == key)).one()


def _give(member: Membership, role: str | None = None, **checks: Any) -> None:
    if role:
        db.session.add(
            RoleAssignment(membership_id=member.id, role_id=_role(role).id, status="approved")
        )
    for key, expires_at in checks.items():
        check = db.session.scalars(
            select(CheckType).where(CheckType.key == key.replace("_", "-"))
        ).one()
        db.session.add(
            CheckRecord(
                membership_id=member.id,
                check_type_id=check.id,
                status="verified",
                verified_at=utcnow(),
                expires_at=expires_at,
            )
        )
    db.session.flush()


def test_an_approved_volunteer_with_valid_checks_is_qualified(scope: Any) -> None:
    world, tenant = scope
    amy = _member(world, tenant, Role.VOLUNTEER)
    _give(amy, "shopper", dbs_basic=utcnow() + timedelta(days=300), id_check=None)
    result = qualification(amy, _role("shopper"), utcnow())
    assert result.qualified
    result.require()


def test_an_expired_or_missing_check_is_named(scope: Any) -> None:
    world, tenant = scope
    sam = _member(world, tenant, Role.VOLUNTEER)
    _give(sam, "shopper", dbs_basic=utcnow() - timedelta(days=1))
    result = qualification(sam, _role("shopper"), utcnow())
    assert result.missing_checks == ("dbs-basic", "id-check") and not result.reasons
    with pytest.raises(Forbidden) as refused:
        result.require()
    assert "dbs-basic" in refused.value.detail and "id-check" in refused.value.detail
    # The same check still valid yesterday: "at" is the moment of taking.
    assert (
        "dbs-basic"
        not in qualification(sam, _role("shopper"), utcnow() - timedelta(days=2)).missing_checks
    )


def test_a_pending_check_does_not_count(scope: Any) -> None:
    world, tenant = scope
    kim = _member(world, tenant, Role.VOLUNTEER)
    _give(kim, "shopper", id_check=None)
    check = db.session.scalars(select(CheckType).where(CheckType.key == "dbs-basic")).one()
    db.session.add(CheckRecord(membership_id=kim.id, check_type_id=check.id, status="pending"))
    db.session.flush()
    assert qualification(kim, _role("shopper"), utcnow()).missing_checks == ("dbs-basic",)


def test_holding_the_role_is_required(scope: Any) -> None:
    world, tenant = scope
    lee = _member(world, tenant, Role.VOLUNTEER)
    _give(lee, None, dbs_basic=None, id_check=None)
    result = qualification(lee, _role("shopper"), utcnow())
    assert result.reasons == ("the role has not been approved for you",)


def test_staff_only_roles(scope: Any) -> None:
    world, tenant = scope
    staff = _member(world, tenant, Role.STAFF)
    volunteer = _member(world, tenant, Role.VOLUNTEER)
    for member in (staff, volunteer):
        _give(member, None, id_check=None)
    # Staff take staff-only roles without the volunteer onboarding; volunteers never.
    assert qualification(staff, _role("hospital-discharge"), utcnow()).qualified
    refused = qualification(volunteer, _role("hospital-discharge"), utcnow())
    assert "the role is for staff only" in refused.reasons


def test_only_active_volunteers_and_staff_take_tasks(scope: Any) -> None:
    world, tenant = scope
    nurse = _member(world, tenant, Role.PROFESSIONAL)
    assert (
        "only volunteers and staff take tasks"
        in qualification(nurse, _role("shopper"), utcnow()).reasons
    )
    gone = _member(world, tenant, Role.VOLUNTEER)
    _give(gone, "shopper", dbs_basic=None, id_check=None)
    gone.is_active = False
    assert "the membership is not active" in qualification(gone, _role("shopper"), utcnow()).reasons
    role = _role("shopper")
    role.is_active = False
    assert "the role is no longer offered" in qualification(gone, role, utcnow()).reasons
    db.session.rollback()


def test_the_dispatch_pool_follows_the_same_rule(scope: Any) -> None:
    """Dispatch offers a role's tasks to its pool (``nyby.dispatch.pool``) without asking
    the rule again: the pool holds, of the people on duty, exactly those it qualifies."""
    world, tenant = scope
    now = utcnow()
    ready = _member(world, tenant, Role.VOLUNTEER)
    _give(ready, "shopper", dbs_basic=now + timedelta(days=30), id_check=None)
    expired = _member(world, tenant, Role.VOLUNTEER)
    _give(expired, "shopper", dbs_basic=now - timedelta(days=1), id_check=None)
    missing = _member(world, tenant, Role.VOLUNTEER)
    _give(missing, "shopper", dbs_basic=None)
    no_role = _member(world, tenant, Role.VOLUNTEER)
    _give(no_role, None, dbs_basic=None, id_check=None)
    nurse = _member(world, tenant, Role.PROFESSIONAL)
    _give(nurse, "shopper", dbs_basic=None, id_check=None)
    staff = _member(world, tenant, Role.STAFF)
    _give(staff, None, id_check=None)
    people = [ready, expired, missing, no_role, nurse, staff]
    for person in people:
        person.on_duty = True
    db.session.flush()
    for key, expected in (("shopper", {ready.id}), ("hospital-discharge", {staff.id})):
        role = _role(key)
        assert {m.id for m in people if qualification(m, role, now).qualified} == expected
        in_pool = db.session.scalars(
            select(PoolEntry.membership_id).where(PoolEntry.role_id == role.id, *current(now))
        )
        assert set(in_pool) == expected
