"""Staff invitations in a real browser: an admin invites someone on "Invite staff"; the
invited person opens the mailed link on a small phone, chooses a name and password
with the keyboard, and lands in the tenant logged in. Every page checked by axe."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from tests.browser.helpers import assert_accessible, log_in, press_tab_until, screenshot
from tests.conftest import PASSWORD, World, mails_to, run_jobs

EMAIL = "invited.phone@example.org"


def test_an_invited_person_joins_from_the_mailed_link_on_a_phone(
    phone: Page, desktop: Page, app: Flask, world: World, borough: Any
) -> None:
    admin = world.person(borough, Role.ADMIN, email="admin-invites@example.org")

    desktop.goto("/login")
    log_in(desktop, admin.account.email, PASSWORD)
    desktop.goto("/t/borough/")
    desktop.get_by_role("link", name="Invite staff").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Invite staff")
    assert_accessible(desktop)
    desktop.get_by_label("Name", exact=True).fill("Nadia Staff")
    desktop.get_by_label("Email", exact=True).fill(EMAIL)
    desktop.get_by_role("button", name="Send the invitation").click()
    expect(desktop.get_by_role("status")).to_contain_text(f"An invitation has been sent to {EMAIL}")
    expect(desktop.get_by_text("Waiting for an answer")).to_be_visible()
    assert_accessible(desktop)
    screenshot(desktop, "invitations-admin")

    run_jobs(app)
    found = re.search(r"(/t/borough/invitations/\S+)", mails_to(app, EMAIL)[-1].get_content())
    assert found
    link = found[1]

    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Join Borough")
    assert_accessible(phone)
    press_tab_until(phone, "Your name")
    phone.keyboard.press("Control+A")
    phone.keyboard.type("Nadia")
    press_tab_until(phone, "Password")
    phone.keyboard.type("short")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    expect(phone.get_by_role("alert")).to_be_visible()
    expect(phone.locator("#f-password-error")).to_have_text("At least 10 characters.")
    assert_accessible(phone)
    press_tab_until(phone, "Password")
    phone.keyboard.type(PASSWORD)
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    expect(phone.get_by_role("status")).to_have_text("Welcome to Borough.")
    expect(phone.get_by_role("button", name="Log out")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "invitation-joined")

    # The link is spent: a clear page, not a form.
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("This invitation cannot be used")
    assert_accessible(phone)
    desktop.reload()
    expect(desktop.get_by_text("Accepted").first).to_be_visible()
