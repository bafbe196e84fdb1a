"""On duty on a small phone: a volunteer goes on duty for four hours from the home
page with the keyboard, then sets quiet hours on the alert settings page. Every page
checked by axe."""

from __future__ import annotations

from datetime import time
from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from nyby.core.db import db
from nyby.members.models import Membership
from nyby.tenancy.context import tenant_scope
from tests.browser.helpers import assert_accessible, log_in, press_tab_until, screenshot
from tests.conftest import PASSWORD, World
from tests.tasking import volunteer


def test_a_volunteer_goes_on_duty_and_sets_quiet_hours_on_a_phone(
    phone: Page, app: Flask, client: Any, world: World, borough: Any
) -> None:
    amy = volunteer(app, world, borough)
    client.put(
        "/api/v1/tenants/borough/home-area",
        json={"latitude": 51.5, "longitude": -0.14},
        headers=amy.headers,
    )
    phone.goto("/login")
    log_in(phone, amy.account.email, PASSWORD)
    phone.goto("/t/borough/")
    switch = phone.get_by_role("region", name="On duty")
    expect(switch).to_contain_text("You are off duty.")
    assert_accessible(phone)
    phone.get_by_label("How long for").select_option(label="For 4 hours")
    press_tab_until(phone, "Go on duty")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    expect(phone.get_by_role("status").first).to_contain_text("You are on duty until")
    expect(switch).to_contain_text("You are on duty until")
    expect(switch.get_by_role("button", name="Go off duty")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "duty-on")

    switch.get_by_role("link", name="Alert settings").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Alert settings")
    assert_accessible(phone)
    phone.get_by_label("From", exact=True).fill("22:00")
    phone.get_by_label("Until", exact=True).fill("07:00")
    phone.get_by_label("Saturday, Morning").check()
    phone.get_by_role("button", name="Save", exact=True).click()
    expect(phone.get_by_role("status").first).to_contain_text("Saved.")
    expect(phone.get_by_label("From", exact=True)).to_have_value("22:00")
    expect(phone.get_by_label("Saturday, Morning")).to_be_checked()
    assert_accessible(phone)
    screenshot(phone, "alert-settings")
    assert amy.membership is not None
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.get(Membership, (borough.id, amy.membership.id))
        assert member is not None and member.on_duty
        assert (member.quiet_hours_start, member.quiet_hours_end) == (time(22), time(7))
        assert member.availability == [{"day": "sat", "part": "morning"}]

    # How we reach her: offers by text message too, other news only in the app.
    channels = phone.get_by_role("region", name="How we reach you")
    offers = channels.get_by_role("group", name="When a task is offered to me")
    offers.get_by_label("Text message").check()
    news = channels.get_by_role("group", name="Other news (checks, roles, a quiet day)")
    news.get_by_label("Email").uncheck()
    channels.get_by_role("button", name="Save how we reach you").click()
    expect(phone.get_by_role("status").first).to_contain_text("Saved. We will reach you")
    expect(offers.get_by_label("Text message")).to_be_checked()
    expect(news.get_by_label("Email")).not_to_be_checked()
    expect(phone.get_by_label("Saturday, Morning")).to_be_checked()  # the other form kept
    assert_accessible(phone)
    with app.app_context(), tenant_scope(borough.id):
        member = db.session.get(Membership, (borough.id, amy.membership.id))
        assert member is not None
        assert member.notification_channels == {"offers": ["email", "sms", "push"], "updates": []}
