"""The approval queue: applicants oldest first with what is missing, approval only when
nothing is, reasons for the rest, and the time from sign-up to first approval."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.members.models import Membership
from nyby.notifications.models import Notification
from nyby.onboarding.models import RoleAssignment
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.checking import (
    API,
    applicant,
    apply_for,
    check_type_id,
    make_town,
    member_url,
    membership,
    send_file,
)
from tests.conftest import Person, World


@pytest.fixture
def town(app: Flask, world: World) -> Tenant:
    return make_town(app, world)


@pytest.fixture
def coordinator(world: World, town: Tenant) -> Person:
    return world.person(town, Role.COORDINATOR)


def signed_up(app: Flask, tenant: Tenant, person: Person, days_ago: float) -> None:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        member = db.session.get(Membership, (tenant.id, person.membership.id))
        assert member is not None
        member.created_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()


def decide(client: FlaskClient, coordinator: Person, person: Person, **body: Any) -> Any:
    return client.post(
        f"{member_url(person)}/role-decisions", json=body, headers=coordinator.headers
    )


def verify(client: FlaskClient, coordinator: Person, person: Person, key: str) -> Any:
    return client.post(
        f"{member_url(person)}/check-outcomes",
        json={"check_type": key, "status": "verified"},
        headers=coordinator.headers,
    )


def test_the_queue_lists_applicants_oldest_first_with_what_is_missing(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = applicant(app, world, town, "shopper")
    ben = world.person(town, Role.VOLUNTEER)  # email not confirmed, and 16
    apply_for(app, town, ben, "befriender")
    with app.app_context():
        account = db.session.get(Account, ben.account.id)
        assert account is not None
        account.date_of_birth = date.today().replace(year=date.today().year - 16)
        db.session.commit()
    cal = applicant(app, world, town, "shopper")
    signed_up(app, town, amy, 3)
    signed_up(app, town, ben, 10)
    signed_up(app, town, cal, 1)
    client.post(
        f"{API}/me/checks/{check_type_id(app, town, 'dbs-basic')}/evidence",
        json={"number": "123456789012"},
        headers=amy.headers,
    )

    queue = client.get(f"{API}/approval-queue", headers=coordinator.headers)
    assert queue.status_code == 200
    assert [a["name"] for a in queue.json] == ["Test Person"] * 3
    assert [a["member_id"] for a in queue.json] == [
        str(p.membership.id)  # type: ignore[union-attr]
        for p in (ben, amy, cal)
    ]
    first, second, third = queue.json
    [befriender] = first["roles"]
    assert [(m["what"], m["check"]) for m in befriender["missing"]] == [
        ("email_not_verified", None),
        ("guardian_consent", None),
        ("check", "id-check"),
        ("check", "dbs-basic"),
        ("check", "safeguarding"),
    ]
    assert befriender["ready"] is False
    assert [(m["what"], m["check"]) for m in second["roles"][0]["missing"]] == [
        ("evidence_to_check", "dbs-basic")
    ]
    assert [c["check_type"] for c in second["checks_to_verify"]] == ["dbs-basic"]
    assert [m["check"] for m in third["roles"][0]["missing"]] == ["dbs-basic"]
    assert queue.headers["X-Pagination"]

    # Volunteers do not see the queue.
    assert client.get(f"{API}/approval-queue", headers=amy.headers).status_code == 403


def test_approval_waits_until_nothing_is_missing(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = world.person(town, Role.VOLUNTEER)
    apply_for(app, town, amy, "shopper")
    refused = decide(client, coordinator, amy, role="shopper", status="approved")
    assert refused.status_code == 409
    assert refused.json["errors"]["missing"] == [
        "email address not confirmed",
        "Basic DBS not verified",
    ]
    assert "cannot be approved as Shopper yet" in refused.json["detail"]
    from tests.checking import confirm_email

    confirm_email(app, amy)
    assert verify(client, coordinator, amy, "dbs-basic").status_code == 200
    approved = decide(client, coordinator, amy, role="shopper", status="approved")
    assert approved.status_code == 200, approved.json
    [shopper] = [r for r in approved.json["roles"] if r["role"] == "shopper"]
    assert shopper["status"] == "approved" and shopper["may_take_tasks"] is True
    member = membership(app, town, amy)
    assert member.first_approved_at is not None
    with app.app_context(), tenant_scope(town.id):
        assignment = db.session.scalars(
            select(RoleAssignment).where(RoleAssignment.membership_id == member.id)
        ).one()
        assert assignment.decided_by == coordinator.membership.id  # type: ignore[union-attr]
        assert assignment.decided_at is not None and assignment.reason == ""
        kinds = db.session.scalars(
            select(Notification.kind)
            .where(Notification.recipient_id == member.id)
            .order_by(Notification.created_at)
        ).all()
    assert kinds == ["check_verified", "role_approved"]
    # No longer in the queue.
    assert client.get(f"{API}/approval-queue", headers=coordinator.headers).json == []


def test_a_minor_needs_a_guardians_consent_first(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    sam = applicant(app, world, town, "shopper")
    with app.app_context():
        account = db.session.get(Account, sam.account.id)
        assert account is not None
        account.date_of_birth = date.today().replace(year=date.today().year - 17)
        db.session.commit()
    verify(client, coordinator, sam, "dbs-basic")
    refused = decide(client, coordinator, sam, role="shopper", status="approved")
    assert refused.status_code == 409
    assert refused.json["errors"]["missing"] == ["a parent's or guardian's consent (under 18)"]
    with app.app_context(), tenant_scope(town.id):
        member = db.session.get(Membership, (town.id, sam.membership.id))  # type: ignore[union-attr]
        assert member is not None
        member.guardian_consent_at = utcnow()
        db.session.commit()
    assert decide(client, coordinator, sam, role="shopper", status="approved").status_code == 200


def test_rejecting_or_suspending_says_why_and_the_applicant_is_told(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = applicant(app, world, town, "shopper")
    no_reason = decide(client, coordinator, amy, role="shopper", status="rejected")
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]["json"]
    rejected = decide(
        client, coordinator, amy, role="shopper", status="rejected", reason="No references."
    )
    assert rejected.status_code == 200
    [shopper] = [r for r in rejected.json["roles"] if r["role"] == "shopper"]
    assert shopper["status"] == "rejected" and shopper["reason"] == "No references."
    inbox = client.get(f"{API}/notifications", headers=amy.headers).json
    assert inbox[0]["message"] == ("Your application as Shopper was not approved: No references.")
    assert membership(app, town, amy).first_approved_at is None


def test_a_stale_version_is_a_conflict(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    amy = applicant(app, world, town, "shopper")
    standing = client.get(f"{member_url(amy)}/qualifications", headers=coordinator.headers).json
    [version] = [r["version"] for r in standing["roles"] if r["role"] == "shopper"]
    first = decide(
        client, coordinator, amy, role="shopper", status="rejected", reason="x", version=version
    )
    assert first.status_code == 200
    second = decide(
        client, coordinator, amy, role="shopper", status="suspended", reason="y", version=version
    )
    assert second.status_code == 409


def test_another_tenants_applicant_is_404(
    app: Flask, client: FlaskClient, world: World, town: Tenant
) -> None:
    amy = applicant(app, world, town, "shopper")
    outsider = world.person(make_town(app, world, "village"), Role.COORDINATOR)
    url = f"/api/v1/tenants/village/members/{amy.membership.id}/role-decisions"  # type: ignore[union-attr]
    refused = client.post(
        url, json={"role": "shopper", "status": "rejected", "reason": "x"}, headers=outsider.headers
    )
    assert refused.status_code == 404
    assert client.get("/api/v1/tenants/village/approval-queue", headers=outsider.headers).json == []


def test_time_from_sign_up_to_first_approval(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    empty = client.get(f"{API}/approval-times", headers=coordinator.headers)
    assert empty.status_code == 200
    assert empty.json["count"] == 0 and empty.json["median_days"] is None
    now = utcnow()
    # Sign-up to approval: 1, 2, 3, 4 and 10 days; one approved long ago is left out.
    with app.app_context(), tenant_scope(town.id):
        for days, approved_ago in ((1, 5), (2, 5), (3, 5), (4, 5), (10, 5), (2, 200)):
            person = world.person(town, Role.VOLUNTEER)
            member = db.session.get(Membership, (town.id, person.membership.id))  # type: ignore[union-attr]
            assert member is not None
            member.first_approved_at = now - timedelta(days=approved_ago)
            member.created_at = member.first_approved_at - timedelta(days=days)
        db.session.commit()
    times = client.get(f"{API}/approval-times", headers=coordinator.headers).json
    assert times["count"] == 5
    assert times["median_days"] == 3.0
    assert times["p90_days"] == pytest.approx(7.6)
    volunteer = world.person(town, Role.VOLUNTEER)
    assert client.get(f"{API}/approval-times", headers=volunteer.headers).status_code == 403


def test_a_document_then_a_coordinator_then_approval(
    app: Flask, client: FlaskClient, world: World, town: Tenant, coordinator: Person
) -> None:
    """The whole path for a befriender: ID photo, DBS number, module, verify, approve."""
    amy = applicant(app, world, town, "befriender")
    assert send_file(client, amy, check_type_id(app, town, "id-check")).status_code == 200
    client.post(
        f"{API}/me/checks/{check_type_id(app, town, 'dbs-basic')}/evidence",
        json={"number": "123456789012"},
        headers=amy.headers,
    )
    passed = client.post(
        f"{API}/me/checks/{check_type_id(app, town, 'safeguarding')}/training",
        json={"answers": [0, 1, 1]},
        headers=amy.headers,
    )
    assert passed.json["passed"] is True
    [waiting] = client.get(f"{API}/approval-queue", headers=coordinator.headers).json
    assert [m["what"] for m in waiting["roles"][0]["missing"]] == ["evidence_to_check"] * 2
    for key in ("id-check", "dbs-basic"):
        assert verify(client, coordinator, amy, key).status_code == 200
    approved = decide(client, coordinator, amy, role="befriender", status="approved")
    assert approved.status_code == 200
    assert [r["may_take_tasks"] for r in approved.json["roles"] if r["role"] == "befriender"] == [
        True
    ]
