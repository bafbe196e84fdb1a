"""Push dispatch in a real browser: a volunteer on duty gets a task offered, opens
"Offers" on a small phone, sees the time left to answer, and accepts it; a second
volunteer offered the same task sees it was taken. Every page checked by axe."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.conftest import PASSWORD, Person, World, run_jobs
from tests.tasking import post_task
from tests.test_dispatch import helper, set_policy


def test_a_volunteer_accepts_an_offer_from_the_inbox_on_a_phone(
    phone: Page, app: Flask, client: Any, world: World, borough: Any, nurse: Person
) -> None:
    set_policy(app, borough, wave_size=2)
    amy, ben = helper(app, world, borough), helper(app, world, borough)
    post_task(client, nurse, title="Prescription pick-up")
    run_jobs(app)

    phone.goto("/login")
    log_in(phone, amy.account.email, PASSWORD)
    phone.goto("/t/borough/")
    phone.get_by_role("link", name="Offers", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Offers")
    offer = phone.get_by_role("listitem").filter(has_text="Prescription pick-up")
    expect(offer).to_contain_text("min left to answer")
    expect(offer).not_to_contain_text("12 Example Road")
    assert_accessible(phone)
    screenshot(phone, "offers-inbox-phone")

    offer.get_by_role("button", name="Accept Prescription pick-up").click()
    expect(phone.get_by_role("status")).to_contain_text("The task is yours")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Prescription pick-up")
    expect(phone.get_by_text("12 Example Road")).to_be_visible()
    assert_accessible(phone)

    phone.goto("/t/borough/offers")
    expect(phone.get_by_text("You took it")).to_be_visible()
    assert_accessible(phone)

    phone.context.clear_cookies()
    phone.goto("/login")
    log_in(phone, ben.account.email, PASSWORD)
    phone.goto("/t/borough/offers")
    expect(phone.get_by_text("No offers waiting")).to_be_visible()
    expect(phone.get_by_text("Taken by someone else, or no longer needed")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "offers-taken-phone")
