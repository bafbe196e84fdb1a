"""The login page and the pages behind it, in a real browser: keyboard only on a phone,
accessible (axe, WCAG 2.2 AA), in English and Norwegian."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from tests.browser.helpers import assert_accessible, log_in, press_tab_until, screenshot
from tests.conftest import PASSWORD, World

ORGANISATION = "Riverside Good Neighbours"


def test_a_volunteer_logs_in_with_the_keyboard_and_opens_their_organisation(
    phone: Page, world: World
) -> None:
    tenant = world.tenant("riverside", name=ORGANISATION)
    world.person(tenant, Role.VOLUNTEER, email="amy@example.org")

    phone.goto("/")
    expect(phone).to_have_url(re.compile(r"/login$"))
    expect(phone.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "login-phone")

    press_tab_until(phone, "Email")
    phone.keyboard.type("amy@example.org")
    press_tab_until(phone, "Password")
    phone.keyboard.type(PASSWORD)
    phone.keyboard.press("Enter")

    expect(phone).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    expect(phone.get_by_role("heading", name="Your organisations")).to_be_visible()
    expect(phone.get_by_role("link", name=ORGANISATION)).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "home-phone")

    press_tab_until(phone, ORGANISATION)
    phone.keyboard.press("Enter")

    expect(phone).to_have_url(re.compile(r"/t/riverside/$"))
    expect(phone.get_by_role("heading", name=ORGANISATION, level=1)).to_be_visible()
    expect(phone.get_by_role("main")).to_contain_text("Volunteer")
    assert_accessible(phone)


def test_the_language_switcher_turns_the_login_page_norwegian(phone: Page) -> None:
    phone.goto("/login")
    expect(phone.locator("html")).to_have_attribute("lang", "en")

    phone.get_by_label("Language").select_option(label="Norsk bokmål")
    phone.get_by_role("button", name="Change").click()

    expect(phone).to_have_url(re.compile(r"/login$"))
    expect(phone.locator("html")).to_have_attribute("lang", "nb")
    expect(phone.get_by_role("heading", name="Logg inn", level=1)).to_be_visible()
    expect(phone.get_by_role("button", name="Logg inn")).to_be_visible()
    expect(phone.get_by_label("Språk")).to_have_value("nb")
    assert_accessible(phone)
    screenshot(phone, "login-phone-nb")


def test_a_wrong_password_is_refused_with_the_error_shown(phone: Page, world: World) -> None:
    world.person(world.tenant(), Role.VOLUNTEER, email="amy@example.org")

    phone.goto("/login")
    phone.get_by_label("Email", exact=True).fill("amy@example.org")
    phone.get_by_label("Password", exact=True).fill("not the password")
    phone.get_by_role("button", name="Log in", exact=True).click()

    expect(phone.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(phone).to_have_url(re.compile(r"/login$"))
    expect(phone.get_by_label("Email", exact=True)).to_have_value("amy@example.org")
    expect(phone.get_by_label("Password", exact=True)).to_have_value("")
    assert_accessible(phone)
    screenshot(phone, "login-phone-wrong-password")


def test_a_page_asked_for_before_logging_in_opens_after_it(desktop: Page, world: World) -> None:
    tenant = world.tenant("riverside", name=ORGANISATION)
    world.person(tenant, Role.COORDINATOR, email="cora@example.org")

    desktop.goto("/t/riverside/")
    expect(desktop).to_have_url(re.compile(r"/login\?next=/t/riverside/$"))
    log_in(desktop, "cora@example.org", PASSWORD)

    expect(desktop).to_have_url(re.compile(r"/t/riverside/$"))
    expect(desktop.get_by_role("heading", name=ORGANISATION, level=1)).to_be_visible()
    expect(desktop.get_by_role("main")).to_contain_text("Coordinator")
    assert_accessible(desktop)
    screenshot(desktop, "tenant-desktop")
