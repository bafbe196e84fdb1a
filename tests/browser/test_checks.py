"""Checks in a real browser: a volunteer on a small phone sends a photo of their ID and
passes the safeguarding module; a coordinator on a desktop opens the evidence through
its link, verifies it and approves the role. Every page checked by axe."""

from __future__ import annotations

from typing import Any

from flask import Flask
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.checking import applicant, make_town
from tests.conftest import PASSWORD, World
from tests.samples import PNG


def seen(page: Page, shot: str) -> None:
    assert_accessible(page)
    screenshot(page, shot)


def test_a_volunteer_sends_evidence_on_a_phone_and_a_coordinator_verifies_it(
    phone: Page, desktop: Page, app: Flask, world: World, tmp_path: Any
) -> None:
    town = make_town(app, world)
    amy = applicant(app, world, town, "befriender")
    coordinator = world.person(town, Role.COORDINATOR)
    photo = tmp_path / "passport.png"
    photo.write_bytes(PNG)

    # Amy, on her phone: a photo of her passport, her DBS number, then the module.
    log_in(phone, amy.account.email, PASSWORD)
    phone.goto("/t/town/me/roles")
    seen(phone, "my-checks-phone")
    id_form = phone.get_by_role("form", name="ID check")
    id_form.get_by_label("Photo or scan").set_input_files(str(photo))
    with phone.expect_navigation():
        id_form.get_by_role("button", name="Send").click()
    expect(phone.get_by_text("Sent. A coordinator will check it.")).to_be_visible()
    expect(phone.get_by_text("passport.png")).to_be_visible()
    dbs_form = phone.get_by_role("form", name="Basic DBS")
    dbs_form.get_by_label("Certificate number").fill("0012 3456 7890")
    with phone.expect_navigation():
        dbs_form.get_by_role("button", name="Send").click()
    seen(phone, "my-checks-sent-phone")
    with phone.expect_navigation():
        phone.get_by_role("link", name="Take the online module for Safeguarding training").click()
    seen(phone, "training-phone")
    phone.get_by_role("group", name="1. Someone is in danger. Who do you call?").get_by_label(
        "999"
    ).check()
    phone.get_by_label("No, it must be passed on").check()
    phone.get_by_label("Out-of-date food").check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", name="You passed")).to_be_visible()
    seen(phone, "training-passed-phone")

    # The coordinator, on a desktop: the queue, the evidence, verify, approve.
    log_in(desktop, coordinator.account.email, PASSWORD)
    desktop.goto("/t/town/waiting")
    seen(desktop, "waiting-desktop")
    expect(desktop.get_by_text("ID check: evidence waiting to be checked")).to_be_visible()
    with desktop.expect_navigation():
        desktop.get_by_role("link", name=amy.account.name).click()
    seen(desktop, "member-checks-desktop")
    link = desktop.get_by_role("link", name="View evidence: passport.png")
    href = link.get_attribute("href")
    assert href is not None
    downloaded = desktop.request.get(href)
    assert downloaded.ok and downloaded.body() == PNG
    for check in ("ID check", "Basic DBS"):
        with desktop.expect_navigation():
            desktop.get_by_role("button", name=f"Verify {check}").click()
        expect(desktop.get_by_text("The check is recorded.")).to_be_visible()
    desktop.get_by_label("Role", exact=True).select_option("befriender")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Save the decision").click()
    expect(desktop.get_by_text("The role decision is saved.")).to_be_visible()
    seen(desktop, "member-approved-desktop")

    phone.goto("/t/town/me/roles")
    expect(phone.get_by_role("row", name="Befriender")).to_contain_text("Approved")
