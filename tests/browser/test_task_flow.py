"""The heart of the product in a real browser: a professional on a desktop posts a
task for a client; a volunteer on a small phone, with the keyboard alone, finds it
near home, takes it, starts and completes it; the professional's open page shows it
completed without a reload. In English and in Norwegian, every page checked by axe."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from tests.browser.helpers import assert_accessible, press_tab_until, screenshot
from tests.conftest import PASSWORD, World
from tests.tasking import qualify

CATALOGUE = Path(__file__).resolve().parents[2] / "nyby/translations/nb/LC_MESSAGES/messages.po"


@cache
def _norwegian() -> dict[str, str]:
    with open(CATALOGUE, "rb") as f:
        return {m.id: m.string for m in read_po(f) if isinstance(m.id, str) and m.string}


def words(locale: str) -> Callable[[str], str]:
    """What the page says for an English message, in the test's language."""
    return (lambda text: _norwegian()[text]) if locale == "nb" else (lambda text: text)


def keyboard_log_in(page: Page, email: str, t: Callable[[str], str], locale: str) -> None:
    page.goto("/login")
    if locale == "nb":
        press_tab_until(page, "Language")
        page.keyboard.press("End")  # Norsk bokmål, the last choice
        go(page, "Change")
        expect(page.locator("html")).to_have_attribute("lang", "nb")
    press_tab_until(page, t("Email"))
    page.keyboard.type(email)
    press_tab_until(page, t("Password"))
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).not_to_have_text(t("Log in"))


def go(page: Page, name: str) -> None:
    """Follow a link or press a button, by its name, with Tab and Enter only."""
    press_tab_until(page, name)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def seen(page: Page, shot: str) -> None:
    assert_accessible(page)
    screenshot(page, shot)


@pytest.mark.parametrize("locale", ["en", "nb"])
def test_a_task_is_posted_taken_and_completed_through_the_web_app(
    phone: Page, desktop: Page, world: World, borough: Any, app: Any, locale: str
) -> None:
    t = words(locale)
    world.person(borough, Role.PROFESSIONAL, email=f"grace-{locale}@example.org")
    amy = world.person(borough, Role.VOLUNTEER, email=f"amy-{locale}@example.org")
    qualify(app, borough, amy)

    # The professional, on a desktop, adds a client and posts a task for her.
    desktop.goto("/login")
    if locale == "nb":
        desktop.get_by_label("Language").select_option("nb")
        desktop.get_by_role("button", name="Change").click()
    desktop.get_by_label(t("Email"), exact=True).fill(f"grace-{locale}@example.org")
    desktop.get_by_label(t("Password"), exact=True).fill(PASSWORD)
    desktop.get_by_role("button", name=t("Log in")).click()
    desktop.goto("/t/borough/clients/new")
    seen(desktop, f"client-new-desktop-{locale}")
    desktop.get_by_label(t("Name"), exact=True).fill("Edith Clark")
    desktop.get_by_label(t("Address"), exact=True).fill("12 Example Road")
    desktop.get_by_label(t("Latitude")).fill("51.5014")
    desktop.get_by_label(t("Longitude")).fill("-0.1419")
    desktop.get_by_label(t("Hard of hearing")).check()
    desktop.get_by_role("button", name=t("Add the client")).click()
    expect(desktop.get_by_role("heading", name="Edith Clark", level=1)).to_be_visible()
    seen(desktop, f"client-desktop-{locale}")
    desktop.get_by_role(
        "link", name=t("Post a task for %(name)s") % {"name": "Edith Clark"}
    ).click()
    desktop.get_by_label(t("Who is needed")).select_option("shopper")
    desktop.get_by_label(t("What, in a few words")).fill("Weekly shop")
    desktop.get_by_label(t("Not before")).fill("2099-01-05T10:00")
    desktop.get_by_label(t("Done by")).fill("2099-01-05T09:00")
    desktop.get_by_role("button", name=t("Post the task")).click()
    # A mistake is shown next to its field, and nothing typed is lost.
    expect(desktop.locator("#f-due_by-error")).to_have_text(t("Must be after the earliest start."))
    expect(desktop.get_by_label(t("What, in a few words"))).to_have_value("Weekly shop")
    seen(desktop, f"task-new-error-desktop-{locale}")
    desktop.get_by_label(t("Done by")).fill("2099-01-05T16:00")
    desktop.get_by_role("button", name=t("Post the task")).click()
    expect(desktop.get_by_role("heading", name="Weekly shop", level=1)).to_be_visible()
    expect(desktop.locator("#task-status")).to_contain_text(t("Open"))
    seen(desktop, f"task-open-desktop-{locale}")

    # The volunteer, on a phone with the keyboard alone, sets a home area nearby,
    # finds the task near it, takes, starts and completes it.
    keyboard_log_in(phone, f"amy-{locale}@example.org", t, locale)
    go(phone, "Borough")
    seen(phone, f"tenant-phone-{locale}")
    go(phone, t("My home area"))
    press_tab_until(phone, t("Latitude"))
    phone.keyboard.type("51.5007")
    press_tab_until(phone, t("Longitude"))
    phone.keyboard.type("-0.1246")
    go(phone, t("Save"))
    expect(phone.get_by_role("status")).to_contain_text(
        t("Saved. Tasks near me now start from here.")
    )
    seen(phone, f"home-area-phone-{locale}")
    go(phone, t("Tasks near me"))
    expect(phone.get_by_role("link", name="Weekly shop")).to_be_visible()
    seen(phone, f"tasks-near-phone-{locale}")
    go(phone, "Weekly shop")
    expect(phone.get_by_text("12 Example Road")).to_have_count(0)
    seen(phone, f"task-phone-{locale}")
    go(phone, t("Take this task"))
    expect(phone.get_by_text("12 Example Road")).to_be_visible()
    expect(phone.get_by_role("main")).to_contain_text(
        t("Hard of hearing: knock firmly and speak clearly.")
    )
    go(phone, t("Start"))
    expect(phone.locator("#task-status")).to_contain_text(t("In progress"))
    press_tab_until(phone, t("Minutes it took"))
    phone.keyboard.type("50")
    press_tab_until(phone, t("How it went (for the poster)"))
    phone.keyboard.type("All done, she says thank you")
    go(phone, t("Complete"))
    expect(phone.locator("#task-status")).to_contain_text(t("Completed"))
    seen(phone, f"task-completed-phone-{locale}")

    # The professional's page, left open, shows the task completed without a reload.
    expect(desktop.locator("#task-status")).to_contain_text(t("Completed"), timeout=20_000)
    desktop.reload()
    expect(desktop.get_by_role("main")).to_contain_text("All done, she says thank you")
