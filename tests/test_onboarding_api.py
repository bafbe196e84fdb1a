"""Coordinators approve people into roles and record their checks; the rule follows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.core.db import utcnow
from tests.checking import confirm_email
from tests.conftest import Person, World

API = "/api/v1/tenants/borough/members"


def member(person: Person) -> str:
    assert person.membership is not None
    return f"{API}/{person.membership.id}"


def test_a_coordinator_qualifies_a_volunteer_step_by_step(
    client: FlaskClient, world: World, borough: Any
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    amy = world.person(borough, Role.VOLUNTEER)
    confirm_email(world.app, amy)
    standing = client.get(f"{member(amy)}/qualifications", headers=amy.headers).json
    assert standing["roles"] == [
        {
            "role": "shopper",
            "name": "Shopper",
            "status": None,
            "reason": "",
            "version": None,
            "may_take_tasks": False,
            "missing_checks": ["dbs-basic"],
        }
    ]
    # Approval waits for the check.
    early = client.post(
        f"{member(amy)}/role-decisions",
        json={"role": "shopper", "status": "approved"},
        headers=coordinator.headers,
    )
    assert early.status_code == 409 and early.json["errors"]["missing"] == [
        "Basic DBS not verified"
    ]
    verified = client.post(
        f"{member(amy)}/check-outcomes",
        json={"check_type": "dbs-basic", "status": "verified"},
        headers=coordinator.headers,
    )
    assert verified.json["roles"][0]["may_take_tasks"] is False
    [check] = verified.json["checks"]
    # The DBS check type is valid for 36 months.
    expected = (utcnow() + relativedelta(months=36)).date().isoformat()
    assert check["status"] == "verified" and check["expires_at"][:10] == expected
    approved = client.post(
        f"{member(amy)}/role-decisions",
        json={"role": "shopper", "status": "approved"},
        headers=coordinator.headers,
    )
    assert approved.status_code == 200
    assert approved.json["roles"][0] == {
        "role": "shopper",
        "name": "Shopper",
        "status": "approved",
        "reason": "",
        "version": 1,
        "may_take_tasks": True,
        "missing_checks": [],
    }
    rejected = client.post(
        f"{member(amy)}/check-outcomes",
        json={"check_type": "dbs-basic", "status": "rejected", "reason": "Not her certificate."},
        headers=coordinator.headers,
    )
    assert rejected.json["roles"][0]["may_take_tasks"] is False
    assert rejected.json["checks"][0]["reason"] == "Not her certificate."


def test_only_coordinators_decide_and_bad_input_is_named(
    client: FlaskClient, world: World, borough: Any
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    amy, ben = world.person(borough, Role.VOLUNTEER), world.person(borough, Role.VOLUNTEER)
    nurse = world.person(borough, Role.PROFESSIONAL)
    for person in (amy, nurse):
        refused = client.post(
            f"{member(amy)}/role-decisions",
            json={"role": "shopper", "status": "approved"},
            headers=person.headers,
        )
        assert refused.status_code == 403
    assert client.get(f"{member(ben)}/qualifications", headers=amy.headers).status_code == 404
    unknown = client.post(
        f"{member(amy)}/role-decisions",
        json={"role": "pilot", "status": "approved"},
        headers=coordinator.headers,
    )
    assert unknown.status_code == 422 and "role" in unknown.json["errors"]
    past = client.post(
        f"{member(amy)}/check-outcomes",
        json={
            "check_type": "dbs-basic",
            "status": "verified",
            "expires_at": (utcnow() - timedelta(days=1)).isoformat(),
        },
        headers=coordinator.headers,
    )
    assert past.status_code == 422 and "expires_at" in past.json["errors"]["json"]
    assert client.get(f"{member(amy)}/qualifications", headers=amy.headers).json["checks"] == []


def test_another_tenants_member_is_not_found(
    client: FlaskClient, world: World, borough: Any
) -> None:
    amy = world.person(borough, Role.VOLUNTEER)
    other = world.tenant("elsewhere")
    outsider = world.person(other, Role.COORDINATOR)
    assert amy.membership is not None
    url = f"/api/v1/tenants/elsewhere/members/{amy.membership.id}"
    assert client.get(f"{url}/qualifications", headers=outsider.headers).status_code == 404
    decided = client.post(
        f"{url}/role-decisions",
        json={"role": "shopper", "status": "approved"},
        headers=outsider.headers,
    )
    assert decided.status_code == 404
