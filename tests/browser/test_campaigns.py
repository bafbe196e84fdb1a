"""Campaigns in a real browser: a coordinator on a phone opens a campaign and reads its
funnel; a newcomer opens the campaign's public link and finds the way to sign up. Both
pages checked by axe."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from tests.browser.helpers import assert_accessible, log_in, press_tab_until, screenshot
from tests.conftest import PASSWORD, World


def test_a_coordinator_reads_a_funnel_and_a_newcomer_finds_sign_up(
    phone: Page, app: Flask, client: Any, world: World, borough: Any
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    today = date.today()
    created = client.post(
        "/api/v1/tenants/borough/campaigns",
        json={
            "key": "volunteer-drivers",
            "name": "Volunteer drivers wanted",
            "message": "Take a neighbour to hospital.\n\nMileage is paid at 45p a mile.",
            "roles": ["shopper"],
            "target_group": {"min_age": 21, "skills": ["driving"]},
            "starts_on": (today - timedelta(days=10)).isoformat(),
            "ends_on": (today + timedelta(days=100)).isoformat(),
            "target_sign_ups": 40,
        },
        headers=coordinator.headers,
    )
    assert created.status_code == 201, created.json
    for _ in range(3):  # three visitors before the coordinator looks
        client.get("/api/v1/tenants/borough/campaigns/by-key/volunteer-drivers/landing")

    # The coordinator, on a phone: the menu, the list, the campaign and its funnel.
    phone.goto("/login")
    log_in(phone, coordinator.account.email, PASSWORD)
    phone.goto("/t/borough/")
    with phone.expect_navigation():
        phone.get_by_role("link", name="Campaigns", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Campaigns")
    expect(phone.get_by_text("0 of 40 sign-ups")).to_be_visible()
    assert_accessible(phone)
    with phone.expect_navigation():
        phone.get_by_role("link", name="Volunteer drivers wanted").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Volunteer drivers wanted")
    funnel = phone.get_by_role("table")
    visits = funnel.get_by_role("row", name="Visits to the landing page")
    expect(visits).to_contain_text("3")
    expect(funnel.get_by_role("row", name="Signed up")).to_contain_text("0")
    link = phone.get_by_label("Public landing page")
    expect(link).to_have_value(f"{phone.url.split('/t/')[0]}/t/borough/campaigns/volunteer-drivers")
    # Nothing runs off the side of a 360px screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)
    screenshot(phone, "campaign-funnel-phone")

    # A newcomer follows the shared link: no login, the roles, and a big "Sign up".
    phone.context.clear_cookies()
    phone.goto(link.input_value())
    expect(phone.get_by_role("heading", level=1)).to_have_text("Volunteer drivers wanted")
    expect(phone.get_by_text("Mileage is paid at 45p a mile.")).to_be_visible()
    expect(phone.get_by_role("heading", name="Shopper")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "campaign-landing-phone")
    sign_up = press_tab_until(phone, "Sign up")
    assert sign_up.tag == "a"
    href = phone.get_by_role("link", name="Sign up").first.get_attribute("href") or ""
    assert "campaign=volunteer-drivers" in href
    assert client.get("/api/v1/tenants/borough/campaigns", headers=coordinator.headers).json
