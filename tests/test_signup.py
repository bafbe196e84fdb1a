"""Signing up as a volunteer: roles, the agreement, email verification, a guardian's
consent for under-18s, campaigns, a second tenant without re-entering anything."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.campaigns.models import Campaign
from nyby.configuration import services as configuration
from nyby.core.db import db
from nyby.members.models import Membership
from nyby.notifications.models import Notification
from nyby.onboarding import signup
from nyby.onboarding.models import RoleAssignment
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import PASSWORD, World, all_at_once, mails_to, run_jobs
from tests.seed import configuration_document
from tests.test_web_tasks import csrf

SIGN_UP = "/api/v1/tenants/{slug}/sign-up"
AGREEMENT = "Treat every resident with respect and keep what you learn confidential."


def _document(tenant: Tenant, locale: str = "en") -> dict[str, Any]:
    document = configuration_document(tenant)
    document["locale"] = locale
    document["volunteer_agreement"] = AGREEMENT
    document["roles"] += [
        {
            "key": "driver",
            "name": "Patient transport driver",
            "description": "Drives residents to hospital appointments.",
            "min_age": 21,
            "checks": ["dbs-basic"],
        },
        {
            "key": "befriender",
            "name": "Telephone befriender",
            "description": "A weekly chat on the phone.",
            "remote": True,
        },
        {
            "key": "handyperson",
            "name": "Handyperson",
            "description": "Council staff only.",
            "staff_only": True,
        },
    ]
    return document


def _configured(app: Flask, world: World, slug: str, locale: str = "en") -> Tenant:
    tenant = world.tenant(slug, locale=locale)
    with app.app_context():
        configuration.apply(db.session(), _document(tenant, locale))
        db.session.commit()
    return tenant


@pytest.fixture
def borough(app: Flask, world: World) -> Tenant:
    return _configured(app, world, "borough")


@pytest.fixture(autouse=True)
def _empty_outbox(app: Flask) -> None:
    """The outbox folder outlives a test; each test reads only its own mail."""
    for path in app.extensions["nyby.settings"].outbox_dir.glob("*.eml"):
        path.unlink()


def _born(years: int, days: int = 0) -> str:
    today = date.today()
    return (today.replace(year=today.year - years) - timedelta(days=days)).isoformat()


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Amira Hussain",
        "email": "Amira@Example.org",
        "password": "a long enough secret",
        "phone": "+44 7700 900123",
        "date_of_birth": _born(30),
        "roles": ["shopper", "befriender"],
        "availability": [{"day": "mon", "part": "morning"}, {"day": "sat", "part": "evening"}],
        "skills": ["Driving", "cooking "],
        "languages": ["ur", "en"],
        "home_area": {"latitude": 51.5014, "longitude": -0.1419, "travel_radius_km": 4},
        "agree_to_agreement": True,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _counts(app: Flask, tenant: Tenant) -> tuple[int, int, int]:
    with app.app_context(), tenant_scope(tenant.id):
        return (
            db.session.scalar(select(func.count()).select_from(Account)) or 0,
            db.session.scalar(select(func.count()).select_from(Membership)) or 0,
            db.session.scalar(select(func.count()).select_from(RoleAssignment)) or 0,
        )


def _link(app: Flask, address: str, path: str) -> str:
    run_jobs(app)
    found = re.search(rf"http://[^/\s]+({path}/\S+)", mails_to(app, address)[-1].get_content())
    assert found, "the mail holds the link"
    return found[1]


def test_a_new_volunteer_signs_up_and_confirms_their_email(
    app: Flask, client: FlaskClient, borough: Tenant
) -> None:
    response = client.post(SIGN_UP.format(slug="borough"), json=_body())
    assert response.status_code == 201, response.json
    result = response.json
    assert result["email_verified"] is False and result["guardian_consent_needed"] is False
    standing = {r["role"]: r["status"] for r in result["qualifications"]["roles"]}
    assert standing == {
        "shopper": "applied",
        "driver": None,
        "befriender": "applied",
        "handyperson": None,
    }
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.scalars(select(Membership)).one()
        assert member.is_volunteer and member.roles == {Role.VOLUNTEER}
        assert member.account.email == "amira@example.org"
        assert member.account.date_of_birth == date.fromisoformat(_born(30))
        assert member.account.email_verified_at is None
        assert member.agreement_accepted_at is not None
        assert member.availability == [
            {"day": "mon", "part": "morning"},
            {"day": "sat", "part": "evening"},
        ]
        assert member.skills == ["driving", "cooking"]
        assert member.languages == ["ur", "en"]
        assert member.home_area_cell is not None and member.travel_radius_km == 4
        notice = db.session.scalars(select(Notification)).one()
        assert notice.recipient_id == member.id and notice.kind == "signed_up"
    # The in-app notice says what happens next, in the person's language.
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "amira@example.org", "password": "a long enough secret"},
    ).json["access_token"]
    inbox = client.get(
        "/api/v1/tenants/borough/notifications", headers={"Authorization": f"Bearer {token}"}
    ).json
    message = inbox["items"][0]["message"] if "items" in inbox else inbox[0]["message"]
    assert "Shopper, Telephone befriender" in message and "confirm your email" in message

    link = _link(app, "amira@example.org", "/t/borough/verify-email")
    page = app.test_client().get(link)
    assert page.status_code == 200 and "Your email address is confirmed" in page.text
    with app.app_context():
        account = db.session.scalars(select(Account)).one()
        assert account.email_verified_at is not None
    # Following it again is harmless.
    assert app.test_client().get(link).status_code == 200


def test_verifying_through_the_api_and_bad_or_expired_tokens(
    app: Flask, client: FlaskClient, borough: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.post(SIGN_UP.format(slug="borough"), json=_body()).status_code == 201
    token = _link(app, "amira@example.org", "/t/borough/verify-email").rsplit("/", 1)[1]
    altered = client.post("/api/v1/auth/verify-email", json={"token": token[:-2] + "xx"})
    assert altered.status_code == 422 and "not valid" in altered.json["detail"]
    monkeypatch.setattr(signup, "VERIFY_FOR", timedelta(seconds=-1))
    expired = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert expired.status_code == 410 and "expired" in expired.json["detail"]
    page = app.test_client().get(f"/t/borough/verify-email/{token}")
    assert page.status_code == 410 and "This link did not work" in page.text
    monkeypatch.undo()
    with app.app_context():
        assert db.session.scalars(select(Account)).one().email_verified_at is None
    done = client.post("/api/v1/auth/verify-email", json={"token": token})
    assert done.status_code == 200 and done.json["email"] == "amira@example.org"


def test_registering_twice_is_a_conflict_that_says_to_log_in(
    app: Flask, client: FlaskClient, borough: Tenant
) -> None:
    assert client.post(SIGN_UP.format(slug="borough"), json=_body()).status_code == 201
    before = _counts(app, borough)
    again = client.post(
        SIGN_UP.format(slug="borough"), json=_body(email="AMIRA@example.org", name="Someone")
    )
    assert again.status_code == 409
    assert "Log in" in again.json["detail"] and "Amira" not in str(again.json)
    assert _counts(app, borough) == before


def test_two_identical_sign_ups_at_once_make_one_account(app: Flask, borough: Tenant) -> None:
    def attempt() -> int:
        return app.test_client().post(SIGN_UP.format(slug="borough"), json=_body()).status_code

    assert sorted(all_at_once([attempt, attempt])) == [201, 409]
    assert _counts(app, borough) == (1, 1, 2)


def test_an_under_18_needs_a_guardian_who_consents_through_the_mailed_link(
    app: Flask, client: FlaskClient, borough: Tenant, world: World
) -> None:
    young = _body(date_of_birth=_born(17, days=-1), email="sam@example.org", name="Sam Young")
    refused = client.post(SIGN_UP.format(slug="borough"), json=young)
    assert refused.status_code == 422 and "guardian" in refused.json["errors"]
    assert _counts(app, borough) == (0, 0, 0), "nothing stored"

    own = client.post(
        SIGN_UP.format(slug="borough"),
        json={**young, "guardian": {"name": "Sam", "email": "sam@example.org"}},
    )
    assert own.status_code == 422 and own.json["errors"]["guardian"]["email"]

    guardian = {"name": "Rita Young", "email": "rita@example.org"}
    signed = client.post(SIGN_UP.format(slug="borough"), json={**young, "guardian": guardian})
    assert signed.status_code == 201 and signed.json["guardian_consent_needed"] is True
    link = _link(app, "rita@example.org", "/t/borough/guardian-consent")
    mail = mails_to(app, "rita@example.org")[0]
    assert "Sam Young" in mail["Subject"] and "Shopper" in mail.get_content()

    # Another tenant's address does not open it.
    other = _configured(app, world, "other")
    assert app.test_client().get(link.replace("/t/borough/", "/t/other/")).status_code == 404
    token = link.rsplit("/", 1)[1]
    elsewhere = client.post(f"/api/v1/tenants/{other.slug}/guardian-consent", json={"token": token})
    assert elsewhere.status_code == 404

    browser = app.test_client()
    page = browser.get(link)
    assert page.status_code == 200
    assert "Sam Young" in page.text and "Telephone befriender" in page.text
    assert AGREEMENT in page.text and "I consent" in page.text
    with app.app_context(), tenant_scope(borough.id):
        assert db.session.scalars(select(Membership)).one().guardian_consent_at is None
    consented = browser.post(link, data={"csrf_token": csrf(page.text)})
    assert consented.status_code == 200 and "is recorded" in consented.text
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.scalars(select(Membership)).one()
        assert member.guardian_consent_at is not None
        assert member.guardian_name == "Rita Young"
    again = client.post("/api/v1/tenants/borough/guardian-consent", json={"token": token})
    assert again.status_code == 200 and again.json["volunteer_name"] == "Sam Young"


def test_too_young_for_a_role_is_refused_naming_it(
    app: Flask, client: FlaskClient, borough: Tenant
) -> None:
    response = client.post(
        SIGN_UP.format(slug="borough"),
        json=_body(date_of_birth=_born(20), roles=["shopper", "driver"]),
    )
    assert response.status_code == 422
    assert "Patient transport driver (from 21)" in response.json["detail"]
    assert list(response.json["errors"]["roles"]) == ["1"]
    assert _counts(app, borough) == (0, 0, 0)
    # On their 21st birthday (in the tenant's zone) they may.
    today = signup.local_today(borough)
    birthday = today.replace(year=today.year - 21).isoformat()
    ok = client.post(
        SIGN_UP.format(slug="borough"),
        json=_body(date_of_birth=birthday, roles=["shopper", "driver"]),
    )
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"agree_to_agreement": False}, "agree_to_agreement"),
        ({"agree_to_agreement": None}, "agree_to_agreement"),
        ({"roles": ["no-such-role"]}, "roles"),
        ({"roles": ["handyperson"]}, "roles"),  # staff only
        ({"roles": []}, "roles"),
        ({"date_of_birth": "31/02/1990"}, "date_of_birth"),
        ({"date_of_birth": (date.today() + timedelta(days=1)).isoformat()}, "date_of_birth"),
        ({"date_of_birth": None}, "date_of_birth"),
        ({"password": "short"}, "password"),
        ({"email": None}, "email"),
        ({"languages": ["xx"]}, "languages"),
        ({"availability": [{"day": "someday", "part": "morning"}]}, "availability"),
        ({"home_area": {"latitude": 95, "longitude": 0}}, "home_area"),
        ({"campaign": "no-such-campaign"}, None),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient, borough: Tenant, changes: dict[str, Any], field: str | None
) -> None:
    body = _body(**{k: v for k, v in changes.items() if v is not None})
    for name, value in changes.items():
        if value is None:
            body.pop(name, None)
    response = client.post(SIGN_UP.format(slug="borough"), json=body)
    if field is None:
        assert response.status_code == 404
    else:
        assert response.status_code == 422, response.json
        errors = response.json["errors"]
        assert field in errors.get("json", errors), response.json
    assert _counts(app, borough) == (0, 0, 0)
    run_jobs(app)
    assert mails_to(app, "amira@example.org") == []


def test_an_ended_campaign_is_gone_and_stores_nothing_an_open_one_is_kept(
    app: Flask, client: FlaskClient, borough: Tenant
) -> None:
    today = date.today()
    with app.app_context(), tenant_scope(borough.id):
        db.session.add_all(
            [
                Campaign(
                    key="winter",
                    name="Winter",
                    starts_on=today - timedelta(days=90),
                    ends_on=today - timedelta(days=2),
                ),
                Campaign(
                    key="drivers",
                    name="Drivers wanted",
                    message="We need drivers for hospital trips.",
                    starts_on=today - timedelta(days=2),
                ),
            ]
        )
        db.session.commit()
    ended = client.post(SIGN_UP.format(slug="borough"), json=_body(campaign="winter"))
    assert ended.status_code == 410 and "still sign up" in ended.json["detail"]
    assert _counts(app, borough) == (0, 0, 0)
    page = app.test_client().get("/t/borough/join?campaign=winter")
    assert page.status_code == 200 and "ended on" in page.text, "the page still signs up"
    landing = app.test_client().get("/t/borough/join?campaign=drivers")
    assert "Drivers wanted" in landing.text and "hospital trips" in landing.text
    assert 'name="campaign" value="drivers"' in landing.text
    ok = client.post(SIGN_UP.format(slug="borough"), json=_body(campaign="drivers"))
    assert ok.status_code == 201
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.scalars(select(Membership)).one()
        campaign = db.session.scalars(select(Campaign).where(Campaign.key == "drivers")).one()
        assert member.campaign_id == campaign.id


def test_a_known_person_signs_up_to_a_second_tenant_without_re_entering_anything(
    app: Flask, client: FlaskClient, borough: Tenant, world: World
) -> None:
    assert client.post(SIGN_UP.format(slug="borough"), json=_body()).status_code == 201
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "amira@example.org", "password": "a long enough secret"},
    ).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    kommune = _configured(app, world, "kommune", locale="nb")
    url = SIGN_UP.format(slug="kommune")
    retyped = client.post(
        url,
        json={"roles": ["shopper"], "agree_to_agreement": True, "email": "x@example.org"},
        headers=headers,
    )
    assert retyped.status_code == 422 and "email" in retyped.json["errors"]
    short = client.post(
        url, json={"roles": ["shopper"], "agree_to_agreement": True}, headers=headers
    )
    assert short.status_code == 201, short.json
    with app.app_context(), tenant_scope(kommune.id):
        member = db.session.scalars(select(Membership)).one()
        assert member.availability == [
            {"day": "mon", "part": "morning"},
            {"day": "sat", "part": "evening"},
        ]
        assert member.skills == ["driving", "cooking"] and member.languages == ["ur", "en"]
        assert member.home_latitude == 51.5014 and member.travel_radius_km == 4
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
    # Now a member there: signing up again is a conflict, and so is an own-tenant retry.
    twice = client.post(
        url, json={"roles": ["shopper"], "agree_to_agreement": True}, headers=headers
    )
    assert twice.status_code == 409
    # Their own tenant can now be reached as a member.
    assert client.get("/api/v1/me", headers=headers).json["memberships"][1]["tenant"] in {
        "borough",
        "kommune",
    }


def test_resending_the_verification_link(
    app: Flask, client: FlaskClient, borough: Tenant, world: World
) -> None:
    assert client.post(SIGN_UP.format(slug="borough"), json=_body()).status_code == 201
    token = client.post(
        "/api/v1/auth/token",
        json={"email": "amira@example.org", "password": "a long enough secret"},
    ).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/tenants/borough/sign-up/resend-verification"
    too_soon = client.post(url, headers=headers)
    assert too_soon.status_code == 429
    with app.app_context(), tenant_scope(borough.id):
        from nyby.notifications.models import OutgoingMail

        for mail in db.session.scalars(select(OutgoingMail)):
            mail.created_at -= timedelta(minutes=2)
        db.session.commit()
    sent = client.post(url, headers=headers)
    assert sent.status_code == 202 and sent.json == {"sent_to": "amira@example.org"}
    run_jobs(app)
    assert len(mails_to(app, "amira@example.org")) == 2
    # Not a member of another tenant: 404 there, like every tenant route.
    other = world.tenant("other")
    assert (
        client.post(
            f"/api/v1/tenants/{other.slug}/sign-up/resend-verification", headers=headers
        ).status_code
        == 404
    )
    link = _link(app, "amira@example.org", "/t/borough/verify-email")
    assert app.test_client().get(link).status_code == 200
    assert client.post(url, headers=headers).status_code == 409


def test_the_web_sign_up_flow_in_english(app: Flask, borough: Tenant) -> None:
    browser = app.test_client()
    page = browser.get("/t/borough/join")
    assert page.status_code == 200
    text = page.text
    assert "Sign up as a volunteer" in text and "Handyperson" not in text, "staff-only hidden"
    assert "Patient transport driver" in text and "From the age of 21." in text
    assert "Basic DBS" in text and AGREEMENT in text
    form = {
        "csrf_token": csrf(text),
        "name": "Amira Hussain",
        "email": "amira@example.org",
        "password": "a long enough secret",
        "date_of_birth": _born(30),
        "roles": ["shopper", "befriender"],
        "availability": ["mon-morning", "sat-evening"],
        "skills": "driving, cooking",
        "languages": ["ur"],
        "other_languages": "fr",
        "latitude": "51,5014",
        "longitude": "-0.1419",
    }
    wrong = browser.post("/t/borough/join", data={**form, "roles": [], "date_of_birth": "x"})
    assert wrong.status_code == 422
    assert "Choose at least one role." in wrong.text and "Enter a date." in wrong.text
    assert "Tick the box to accept the volunteer agreement." in wrong.text
    assert 'value="Amira Hussain"' in wrong.text, "what was typed is kept"
    assert 'value="mon-morning"\n          aria-label="Monday, Morning" checked' in wrong.text
    assert "a long enough secret" not in wrong.text, "a password is never sent back"
    assert _counts(app, borough) == (0, 0, 0)

    done = browser.post("/t/borough/join", data={**form, "agree_to_agreement": "on"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/t/borough/welcome")
    welcome = browser.get("/t/borough/welcome")
    assert welcome.status_code == 200, "logged in straight away"
    assert "Confirm your email address" in welcome.text and "My roles and checks" in welcome.text
    resent = browser.post("/t/borough/welcome/resend", data={"csrf_token": csrf(welcome.text)})
    assert resent.status_code == 303
    assert "less than a minute ago" in browser.get("/t/borough/welcome").text
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.scalars(select(Membership)).one()
        assert member.languages == ["ur", "fr"] and member.skills == ["driving", "cooking"]
        assert member.account.locale == "en"
    # Already a member: the join page sends them to their roles.
    assert browser.get("/t/borough/join").status_code == 303


def test_the_web_sign_up_page_in_norwegian(app: Flask, world: World) -> None:
    _configured(app, world, "kommune", locale="nb")
    browser = app.test_client()
    page = browser.get("/t/kommune/join")
    assert page.status_code == 200 and '<html lang="nb">' in page.text
    assert "mandag" in page.text.lower() or "Monday" in page.text
    wrong = browser.post(
        "/t/kommune/join",
        data={"csrf_token": csrf(page.text), "roles": ["shopper"], "agree_to_agreement": "on"},
    )
    assert wrong.status_code == 422
    assert "Fyll ut dette." in wrong.text and "Rett opp feltene" in wrong.text


def test_a_logged_in_person_gets_the_short_form(app: Flask, world: World, borough: Tenant) -> None:
    other = world.tenant("elsewhere")
    person = world.person(other, Role.VOLUNTEER)
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["account_id"] = str(person.account.id)
    page = browser.get("/t/borough/join")
    assert page.status_code == 200
    assert 'name="password"' not in page.text and 'name="date_of_birth"' in page.text
    done = browser.post(
        "/t/borough/join",
        data={
            "csrf_token": csrf(page.text),
            "roles": ["shopper"],
            "date_of_birth": _born(40),
            "agree_to_agreement": "on",
        },
    )
    assert done.status_code == 303
    assert browser.get("/t/borough/welcome").status_code == 200
    with app.app_context():
        assert db.session.get(Account, person.account.id).date_of_birth is not None  # type: ignore[union-attr]
    assert PASSWORD  # the account's password is untouched: they logged in as before
