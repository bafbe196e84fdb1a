"""A half-written task is never lost: the browser keeps the draft until it is posted."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in
from tests.conftest import PASSWORD, Person


def test_a_half_written_task_survives_leaving_the_page_until_it_is_posted(
    desktop: Page, borough: Any, nurse: Person
) -> None:
    desktop.goto("/login")
    log_in(desktop, nurse.account.email, PASSWORD)
    desktop.goto("/t/borough/tasks/new")
    desktop.get_by_label("What, in a few words").fill("Collect the prescription")
    desktop.get_by_label("Details").fill("From the chemist on the corner, paid for")
    desktop.goto("/t/borough/")  # called away: a phone call, a closed tab
    desktop.goto("/t/borough/tasks/new")
    expect(desktop.get_by_label("What, in a few words")).to_have_value("Collect the prescription")
    expect(desktop.get_by_label("Details")).to_have_value(
        "From the chemist on the corner, paid for"
    )
    desktop.get_by_label("Who is needed").select_option("shopper")
    desktop.get_by_label("Address").fill("1 High Street")
    desktop.get_by_label("Latitude").fill("51.5")
    desktop.get_by_label("Longitude").fill("-0.14")
    desktop.get_by_role("button", name="Post the task").click()
    expect(desktop.get_by_role("heading", name="Collect the prescription", level=1)).to_be_visible()
    desktop.goto("/t/borough/tasks/new")
    expect(desktop.get_by_label("What, in a few words")).to_have_value("")
