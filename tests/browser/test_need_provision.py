"""Need versus provision in a real browser: a coordinator on a phone opens the page from
the menu, and reads the area with need and no provision from the table (the map's
accessible alternative), which fits a 360px screen and passes axe."""

from __future__ import annotations

from typing import Any

import h3
from flask import Flask
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from nyby.core.db import db
from nyby.tenancy.context import tenant_scope
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.conftest import PASSWORD, World
from tests.test_provision import _person, _task

WESTMINSTER = h3.latlng_to_cell(51.5014, -0.1419, 7)
CAMDEN = h3.latlng_to_cell(51.5390, -0.1426, 7)


def test_a_coordinator_on_a_phone_reads_the_areas_without_provision(
    phone: Page, app: Flask, world: World, borough: Any
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    nurse = world.person(borough, Role.PROFESSIONAL)
    _person(app, world, borough, CAMDEN, {"shopper": "approved"}, expired=("dbs-basic",))
    assert nurse.membership is not None
    with app.app_context(), tenant_scope(borough.id):
        _task(borough, nurse.membership.id, WESTMINSTER, "shopper", "expired")
        _task(borough, nurse.membership.id, WESTMINSTER, "shopper", "completed")
        db.session.commit()

    phone.goto("/login")
    log_in(phone, coordinator.account.email, PASSWORD)
    phone.goto("/t/borough/")
    with phone.expect_navigation():
        phone.get_by_role("link", name="Need and provision", exact=True).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Need and provision")
    expect(phone.get_by_role("heading", name="1 area with need and no provision")).to_be_visible()
    # The tenant's areas (resolution 6, about 6.5 km across) hold Westminster's cell.
    table = phone.get_by_role("table")
    row = table.get_by_role("row").filter(has_text=h3.cell_to_parent(WESTMINSTER, 6))
    expect(row).to_contain_text("Need and no provision")
    expect(row.get_by_role("cell").nth(1)).to_have_text("2")  # tasks posted
    expect(row.get_by_role("cell").nth(2)).to_have_text("1")  # unmet
    # Leaflet draws the area; the legend names every colour in words.
    expect(phone.locator(".provision-map path.leaflet-interactive")).to_have_count(1)
    expect(phone.get_by_role("list", name="Legend")).to_contain_text("Need and no provision")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)
    screenshot(phone, "need-provision-phone")

    # Smaller areas, by keyboard: Westminster's own cell, still without provision.
    phone.get_by_label("Size of the areas").select_option("7")
    phone.get_by_role("button", name="Show").focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    expect(
        phone.get_by_role("table").get_by_role("row").filter(has_text=WESTMINSTER)
    ).to_contain_text("Need and no provision")
