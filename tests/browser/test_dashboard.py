"""The dashboard in a real browser: a coordinator on a phone opens it from the menu and
reads a chart and the success criteria table; the page passes axe and fits the screen."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from nyby.reporting.jobs import evaluate_success_criteria
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.conftest import PASSWORD, Person, World
from tests.tasking import post_task


def test_a_coordinator_reads_the_dashboard_on_a_phone(
    phone: Page, app: Flask, client: Any, world: World, borough: Any, nurse: Person
) -> None:
    admin = world.person(borough, Role.ADMIN)
    created = client.post(
        "/api/v1/tenants/borough/reporting/criteria",
        json={
            "key": "completion",
            "name": "Tasks completed this month",
            "metric": "completion_rate",
            "target": 0.8,
        },
        headers=admin.headers,
    )
    assert created.status_code == 201, created.json
    for title in ("Weekly shop", "Prescription"):
        assert post_task(client, nurse, title=title).status_code == 201
    with app.app_context():
        evaluate_success_criteria(str(borough.id))
    coordinator = world.person(borough, Role.COORDINATOR)

    phone.goto("/login")
    log_in(phone, coordinator.account.email, PASSWORD)
    phone.goto("/t/borough/")
    with phone.expect_navigation():
        phone.get_by_role("link", name="Dashboard", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Dashboard")
    # A chart, with its numbers: this month's two tasks, none completed yet.
    trend = phone.get_by_role(
        "figure", name="Tasks created each month, and how many of them are completed"
    )
    expect(trend).to_be_visible()
    expect(trend.get_by_role("row").last).to_contain_text("0 of 2 (0 %)")
    # The criteria table: missed, as nothing is completed.
    criteria = phone.locator("#criteria")
    row = criteria.get_by_role("row", name="Tasks completed this month")
    expect(row).to_contain_text("at least 80 %")
    expect(row).to_contain_text("Missed")
    expect(phone.get_by_role("heading", name="Need versus provision")).to_be_visible()
    assert_accessible(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "dashboard")
