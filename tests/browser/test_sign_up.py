"""Signing up in a real browser: a newcomer on a small phone, with the keyboard alone,
chooses a role, fills in the form, is told what is missing, accepts the agreement and
lands on "what happens next"; the mailed link confirms the email; a guardian consents.
Every page is checked by axe."""

from __future__ import annotations

import re
from datetime import date

from flask import Flask
from playwright.sync_api import Page, expect

from nyby.tenancy.models import Tenant
from tests.browser.helpers import assert_accessible, press_tab_until, screenshot
from tests.conftest import World, mails_to, run_jobs
from tests.test_signup import AGREEMENT, _configured


def _type_into(page: Page, label: str, text: str) -> None:
    press_tab_until(page, label)
    page.keyboard.type(text)


def _press(page: Page, name: str) -> None:
    press_tab_until(page, name)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _link(app: Flask, address: str, path: str) -> str:
    run_jobs(app)
    found = re.search(rf"http://[^/\s]+({path}/\S+)", mails_to(app, address)[-1].get_content())
    assert found
    return found[1]


def test_a_newcomer_signs_up_on_a_phone_with_the_keyboard(
    phone: Page, app: Flask, world: World
) -> None:
    tenant: Tenant = _configured(app, world, "borough")
    phone.goto(f"/t/{tenant.slug}/join")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Sign up as a volunteer")
    expect(phone.get_by_text(AGREEMENT)).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "sign-up-form")

    press_tab_until(phone, "Shopper")
    phone.keyboard.press("Space")
    _type_into(phone, "Full name", "Nadia Kowalski")
    _type_into(phone, "Email", "nadia@example.org")
    _type_into(phone, "Password", "a long enough secret")
    press_tab_until(phone, "Date of birth")
    phone.keyboard.type("15031990")  # dd mm yyyy, as an en-GB date field takes it
    press_tab_until(phone, "Monday, Morning")
    phone.keyboard.press("Space")
    press_tab_until(phone, "Polish")
    phone.keyboard.press("Space")
    _press(phone, "Sign up")  # the agreement is not accepted yet

    expect(phone.get_by_role("alert")).to_contain_text("Please correct the fields marked below.")
    expect(phone.get_by_text("Tick the box to accept the volunteer agreement.")).to_be_visible()
    expect(phone.get_by_label("Full name")).to_have_value("Nadia Kowalski")
    expect(phone.get_by_label("Shopper")).to_be_checked()
    assert_accessible(phone)
    screenshot(phone, "sign-up-refused")

    _type_into(phone, "Password", "a long enough secret")
    press_tab_until(phone, "I have read the volunteer agreement and accept it")
    phone.keyboard.press("Space")
    _press(phone, "Sign up")

    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you for signing up")
    expect(phone.get_by_text("nadia@example.org")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "sign-up-what-next")

    phone.goto(_link(app, "nadia@example.org", f"/t/{tenant.slug}/verify-email"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your email address is confirmed")
    assert_accessible(phone)
    phone.goto(f"/t/{tenant.slug}/welcome")
    expect(phone.get_by_text("Your email address is confirmed.")).to_be_visible()


def test_a_guardian_consents_on_a_phone(
    phone: Page, app: Flask, world: World, client: object
) -> None:
    tenant = _configured(app, world, "borough")
    today = date.today()
    response = app.test_client().post(
        f"/api/v1/tenants/{tenant.slug}/sign-up",
        json={
            "name": "Sam Young",
            "email": "sam.young@example.org",
            "password": "a long enough secret",
            "date_of_birth": today.replace(year=today.year - 16).isoformat(),
            "roles": ["befriender"],
            "agree_to_agreement": True,
            "guardian": {"name": "Rita Young", "email": "rita.young@example.org"},
        },
    )
    assert response.status_code == 201
    phone.goto(_link(app, "rita.young@example.org", f"/t/{tenant.slug}/guardian-consent"))
    expect(phone.get_by_text("Sam Young has signed up")).to_be_visible()
    expect(phone.get_by_text("Telephone befriender")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "guardian-consent")
    _press(phone, "I consent")
    expect(phone.get_by_role("status")).to_contain_text("Your consent for Sam Young is recorded")
    assert_accessible(phone)
