"""axe-core on every page of the web app, as each kind of person sees it, on a phone:
the list comes from the URL map, so a page added later is checked without being named."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.conftest import PASSWORD, World
from tests.tasking import post_task, qualify


def _pages(app: Flask, ids: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET page under a tenant's address."""
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/t/<tenant>") or "GET" not in (rule.methods or ()):
                continue
            wanted = rule.arguments - {"tenant"}
            if not wanted <= ids.keys():
                raise AssertionError(f"no object to open {rule.rule} with: add one here")
            pages.append(
                (
                    rule.endpoint,
                    url_for(
                        rule.endpoint, tenant="borough", **{name: ids[name] for name in wanted}
                    ),
                )
            )
    return sorted(pages)


def test_every_page_passes_axe_for_every_kind_of_person(
    phone: Page, app: Flask, client: Any, world: World, borough: Any, nurse: Any
) -> None:
    task = post_task(client, nurse, title="Weekly shop").json
    coordinator = world.person(borough, Role.COORDINATOR, Role.PROFESSIONAL)
    amy = world.person(borough, Role.VOLUNTEER)
    qualify(app, borough, amy)
    client.put(
        "/api/v1/tenants/borough/home-area",
        json={"latitude": 51.5, "longitude": -0.14},
        headers=amy.headers,
    )
    assert amy.membership is not None
    ids = {
        "task_id": task["id"],
        "client_id": task["client_id"],
        "member_id": amy.membership.id,
        # Sign-up's mailed links: an altered one shows its "did not work" page (422).
        "token": "an-altered-link",
    }
    # A campaign: its set-up pages (by id) and its public landing page (by key).
    campaign = client.post(
        "/api/v1/tenants/borough/campaigns",
        json={"key": "drivers", "name": "Drivers", "roles": ["shopper"], "starts_on": "2026-01-01"},
        headers=coordinator.headers,
    ).json
    ids.update(campaign_id=campaign["id"], key=campaign["key"])
    # A check of Amy's roles (its training page is a 404 here: the module's own test
    # in test_checks.py checks that page).
    [dbs] = client.get("/api/v1/tenants/borough/me/checks", headers=amy.headers).json
    ids["check_type_id"] = dbs["id"]
    checked = set()
    for who, person in (("volunteer", amy), ("coordinator", coordinator)):
        phone.context.clear_cookies()
        phone.goto("/login")
        log_in(phone, person.account.email, PASSWORD)
        for endpoint, url in _pages(app, ids):
            response = phone.goto(url)
            assert response is not None
            if response.status in (403, 404):
                continue  # not this person's page (404: a volunteer and a client's page)
            altered_link = response.status == 422 and url.endswith("/an-altered-link")
            assert response.status == 200 or altered_link, (url, response.status)
            if "text/html" not in response.headers.get("content-type", ""):
                continue  # the app manifest
            expect(phone.get_by_role("heading", level=1)).to_be_visible()
            assert_accessible(phone)
            screenshot(phone, f"page-{endpoint.removeprefix('web.')}-{who}")
            checked.add(endpoint)
    assert len(checked) >= 12, sorted(checked)
