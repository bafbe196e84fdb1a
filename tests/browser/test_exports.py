"""An admin on a phone asks for an export, watches it wait and then finish without
reloading (the page follows it), and downloads the file. Checked by axe on the way."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from nyby.exports.jobs import run_export
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.conftest import PASSWORD, World, hold_jobs
from tests.tasking import post_task


def test_an_admin_asks_for_an_export_on_a_phone_and_downloads_it(
    phone: Page,
    app: Flask,
    client: Any,
    world: World,
    borough: Any,
    nurse: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post_task(client, nurse, title="Weekly shop")
    admin = world.person(borough, Role.ADMIN)
    # The job waits until the test lets it run, so the page is seen before it is done.
    held = hold_jobs(app, monkeypatch)
    phone.goto("/login")
    log_in(phone, admin.account.email, PASSWORD)
    phone.goto("/t/borough/exports")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Exports")
    phone.get_by_label("Tasks", exact=True).check()
    phone.get_by_label("From").fill("")
    phone.get_by_label("To").fill("")
    phone.get_by_role("button", name="Export as CSV").click()
    expect(phone.get_by_role("status").first).to_contain_text("Your export is on its way.")
    card = phone.locator(".card", has=phone.get_by_role("heading", name="Tasks"))
    expect(card).to_contain_text("Waiting to start")
    expect(card.get_by_role("progressbar", name="Tasks")).to_be_visible()
    assert_accessible(phone)
    screenshot(phone, "export-waiting")

    [(tenant_id, export_id)] = [args for job, args in held.jobs if job is run_export]
    with app.app_context():
        assert run_export(tenant_id, export_id) is True
    # No reload: the page follows the export and says when it is ready.
    link = card.get_by_role("link", name="Download tasks-borough.csv")
    expect(link).to_be_visible()
    expect(phone.locator("#exports-news")).to_have_text("The Tasks export is ready to download.")
    expect(card.get_by_role("progressbar")).to_have_count(0)
    assert_accessible(phone)
    screenshot(phone, "export-ready")
    with phone.expect_download() as download:
        link.click()
    saved = download.value.path()
    assert saved is not None
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("task_id,client_id,role,category,status")
    assert len(lines) == 2 and ",shopper," in lines[1]
