"""Staff invitations: an admin invites by email; the mailed link makes the person a
member with staff roles (and staff-only roles at once); a used, withdrawn or expired
link is a clear 410."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.configuration import services as configuration
from nyby.core.db import db, utcnow
from nyby.members.models import Invitation, Membership
from nyby.tenancy.context import tenant_scope
from tests.conftest import PASSWORD, Person, World, all_at_once, mails_to, run_jobs
from tests.seed import configuration_document
from tests.test_web_tasks import post_form, signed_in

API = "/api/v1/tenants/borough"
NEW = "new.staff@example.org"


@pytest.fixture
def borough(app: Flask, world: World) -> Any:
    tenant = world.tenant("borough")
    document = configuration_document(tenant)
    document["roles"].append(
        {
            "key": "hospital-driver",
            "name": "Hospital driver",
            "description": "Drives patients home from hospital.",
            "staff_only": True,
            "categories": ["shopping"],
        }
    )
    with app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()
    return tenant


@pytest.fixture
def admin(world: World, borough: Any) -> Person:
    return world.person(borough, Role.ADMIN)


def invite(client: FlaskClient, admin: Person, email: str = NEW, **changes: Any) -> Any:
    body = {"email": email, "name": "Nadia Staff", "roles": ["staff"], **changes}
    return client.post(f"{API}/invitations", json=body, headers=admin.headers)


def mailed_token(app: Flask, email: str = NEW) -> str:
    run_jobs(app)
    message = mails_to(app, email)[-1]
    found = re.search(r"/t/borough/invitations/(\S+)", message.get_content())
    assert found, message.get_content()
    return found[1]


def members(app: Flask, tenant: Any) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(Membership)) or 0


def test_an_invited_person_joins_as_staff_with_a_staff_only_role(
    app: Flask, client: FlaskClient, borough: Any, admin: Person
) -> None:
    sent = invite(client, admin, roles=["staff", "professional"], role_keys=["hospital-driver"])
    assert sent.status_code == 201, sent.json
    assert sent.json["status"] == "pending" and "token" not in sent.json
    run_jobs(app)
    [message] = mails_to(app, NEW)
    assert message["Subject"] == "You are invited to join Borough"
    assert "within 7 days" in message.get_content()
    token = mailed_token(app)
    with app.app_context(), tenant_scope(borough.id):
        stored = db.session.scalars(select(Invitation)).one()
        assert token not in stored.token_hash and len(stored.token_hash) == 64

    short = client.post(f"{API}/invitations/accept", json={"token": token, "password": "short"})
    assert short.status_code == 422 and "password" in short.json["errors"]
    joined = client.post(
        f"{API}/invitations/accept",
        json={"token": token, "name": "Nadia S", "password": "a long password"},
    )
    assert joined.status_code == 200, joined.json
    assert joined.json["roles"] == ["professional", "staff"] and joined.json["name"] == "Nadia S"
    with app.app_context():
        account = db.session.scalars(select(Account).where(Account.email == NEW)).one()
        assert account.email_verified_at is not None, "the link proved the address"

    # They log in and may take the staff-only role at once, without onboarding.
    tokens = client.post("/api/v1/auth/token", json={"email": NEW, "password": "a long password"})
    headers = {"Authorization": f"Bearer {tokens.json['access_token']}"}
    standing = client.get(f"{API}/members/{joined.json['id']}/qualifications", headers=headers).json
    driver = next(r for r in standing["roles"] if r["role"] == "hospital-driver")
    assert driver["status"] == "approved" and driver["may_take_tasks"] is True

    listed = client.get(f"{API}/invitations", headers=admin.headers).json
    assert [i["status"] for i in listed] == ["accepted"]
    used = client.post(
        f"{API}/invitations/accept", json={"token": token, "password": "a long password"}
    )
    assert used.status_code == 410 and "already been used" in used.json["detail"]


def test_bad_invitations_are_refused_and_store_nothing(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    refused = "refused@example.org"
    member = world.person(borough, Role.VOLUNTEER)
    assert invite(client, admin, email=member.account.email).status_code == 409
    assert invite(client, admin, email=refused, roles=["admin"]).status_code == 422
    assert invite(client, admin, email=refused, roles=[]).status_code == 422
    not_staff_only = invite(client, admin, email=refused, role_keys=["shopper"])
    assert not_staff_only.status_code == 422 and "role_keys" in not_staff_only.json["errors"]
    without_staff = invite(
        client, admin, email=refused, roles=["professional"], role_keys=["hospital-driver"]
    )
    assert without_staff.status_code == 422
    assert invite(client, admin, email="not an email").status_code == 422
    for role in (Role.COORDINATOR, Role.PROFESSIONAL, Role.STAFF, Role.VOLUNTEER):
        someone = world.person(borough, role)
        assert invite(client, someone, email=refused).status_code == 403
        assert client.get(f"{API}/invitations", headers=someone.headers).status_code == 403
    assert client.get(f"{API}/invitations", headers=admin.headers).json == []
    run_jobs(app)
    assert mails_to(app, refused) == []


def test_a_known_person_joins_when_logged_in_as_themself(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    elsewhere = world.tenant("elsewhere")
    known = world.person(elsewhere, Role.VOLUNTEER)
    stranger = world.person(None)
    assert invite(client, admin, email=known.account.email).status_code == 201
    token = mailed_token(app, known.account.email)
    url = f"{API}/invitations/accept"
    anonymous = client.post(url, json={"token": token})
    assert anonymous.status_code == 401 and known.account.email in anonymous.json["detail"]
    assert client.post(url, json={"token": token}, headers=stranger.headers).status_code == 403
    joined = client.post(url, json={"token": token}, headers=known.headers)
    assert joined.status_code == 200 and joined.json["email"] == known.account.email
    assert client.get(API, headers=known.headers).json["my_roles"] == ["staff"]


def test_unknown_withdrawn_and_expired_links(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    url = f"{API}/invitations/accept"
    body = {"password": "a long password"}
    assert client.post(url, json={"token": "nonsense", **body}).status_code == 404
    first = invite(client, admin).json
    token = mailed_token(app)
    # Inviting again replaces the pending invitation: the first link stops working.
    invite(client, admin)
    second = mailed_token(app)
    assert second != token
    replaced = client.post(url, json={"token": token, **body})
    assert replaced.status_code == 410 and "withdrawn" in replaced.json["detail"]
    listed = {
        i["id"]: i["status"] for i in client.get(f"{API}/invitations", headers=admin.headers).json
    }
    assert listed[first["id"]] == "revoked" and sorted(listed.values()) == ["pending", "revoked"]
    pending = next(i for i, s in listed.items() if s == "pending")
    with app.app_context(), tenant_scope(borough.id):
        db.session.get(Invitation, (borough.id, uuid.UUID(pending))).expires_at = (
            utcnow() - timedelta(minutes=1)
        )
        db.session.commit()
    expired = client.post(url, json={"token": second, **body})
    assert expired.status_code == 410 and "expired on" in expired.json["detail"]
    assert members(app, borough) == 1
    revoked = client.post(f"{API}/invitations/{pending}/revoke", headers=admin.headers)
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert (
        client.post(f"{API}/invitations/{pending}/revoke", headers=admin.headers).status_code == 200
    )


def test_two_acceptances_of_one_link_at_once_make_one_member(
    app: Flask, borough: Any, admin: Person
) -> None:
    invite(app.test_client(), admin)
    token = mailed_token(app)

    def accept() -> int:
        return (
            app.test_client()
            .post(
                f"{API}/invitations/accept",
                json={"token": token, "password": "a long password"},
            )
            .status_code
        )

    results = all_at_once([accept] * 4)
    assert sorted(results) == [200, 410, 410, 410]
    assert members(app, borough) == 2


def test_invitations_stay_in_their_tenant(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    other = world.tenant("kommune")
    other_admin = world.person(other, Role.ADMIN)
    theirs = client.post(
        "/api/v1/tenants/kommune/invitations",
        json={"email": NEW, "name": "Nadia", "roles": ["staff"]},
        headers=other_admin.headers,
    ).json
    run_jobs(app)
    token = re.search(r"/invitations/(\S+)", mails_to(app, NEW)[-1].get_content())
    assert token
    assert (
        client.post(f"{API}/invitations/{theirs['id']}/revoke", headers=admin.headers).status_code
        == 404
    )
    wrong_tenant = client.post(
        f"{API}/invitations/accept", json={"token": token[1], "password": "a long password"}
    )
    assert wrong_tenant.status_code == 404
    assert client.get(f"{API}/invitations", headers=admin.headers).json == []


def test_inviting_and_joining_in_the_web_app(
    app: Flask, world: World, borough: Any, admin: Person
) -> None:
    browser = signed_in(app, admin)
    home = browser.get("/t/borough/").text
    assert "Invite staff" in home
    missing = post_form(browser, "/t/borough/invitations", {"email": NEW, "roles": "staff"})
    assert missing.status_code == 422 and "Please fill this in." in missing.text
    sent = post_form(
        browser,
        "/t/borough/invitations",
        {"email": NEW, "name": "Nadia Staff", "roles": "staff", "role_keys": "hospital-driver"},
    )
    assert sent.status_code == 303
    page = browser.get("/t/borough/invitations").text
    assert "An invitation has been sent to new.staff@example.org." in page
    assert "Waiting for an answer" in page and "Withdraw the invitation to Nadia Staff" in page
    assert (
        signed_in(app, world.person(borough, Role.COORDINATOR))
        .get("/t/borough/invitations")
        .status_code
        == 403
    )

    token = mailed_token(app)
    newcomer = app.test_client()
    link = f"/t/borough/invitations/{token}"
    opened = newcomer.get(link)
    assert opened.status_code == 200 and "Join Borough" in opened.text
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    short = post_form(newcomer, link, {"name": "Nadia", "password": "short"})
    assert short.status_code == 422 and "At least 10 characters." in short.text
    joined = post_form(newcomer, link, {"name": "Nadia", "password": PASSWORD})
    assert joined.status_code == 303 and joined.headers["Location"].endswith("/t/borough/")
    welcome = newcomer.get("/t/borough/")
    assert welcome.status_code == 200 and "Welcome to Borough." in welcome.text
    gone = newcomer.get(link)
    assert gone.status_code == 410 and "already been used" in gone.text
    assert newcomer.get("/t/borough/invitations/not-a-token").status_code == 404
    listed = browser.get("/t/borough/invitations").text
    assert "Accepted" in listed
