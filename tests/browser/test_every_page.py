"""axe-core on every page of the web app, as each kind of person sees it, on a phone:
the list comes from the URL map, so a page added later is checked without being named."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from playwright.sync_api import Page, expect

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.notifications.models import OutgoingMail
from nyby.tenancy.context import tenant_scope
from tests.browser.helpers import assert_accessible, log_in, screenshot
from tests.caring import make_lead
from tests.conftest import PASSWORD, World
from tests.tasking import post_task, qualify
from tests.test_invitations import mailed_token

# Addresses that answer with a file to save rather than a page.
DOWNLOADS = {
    "web.export_expenses",
    "web.record_csv",
    "web.record_pdf",
    "web.download_export",
    "web.criteria_csv",
    "web.criteria_pdf",
}


def _pages(
    app: Flask, ids: dict[str, Any], only: dict[str, dict[str, Any]]
) -> list[tuple[str, str]]:
    """(endpoint, url) of every GET page under a tenant's address; ``only``: ids for one
    endpoint alone (two pages name different kinds of token the same)."""
    pages = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/t/<tenant>") or "GET" not in (rule.methods or ()):
                continue
            wanted = rule.arguments - {"tenant"}
            known = {**ids, **only.get(rule.endpoint, {})}
            if not wanted <= known.keys():
                raise AssertionError(f"no object to open {rule.rule} with: add one here")
            arguments = {name: known[name] for name in wanted}
            pages.append((rule.endpoint, url_for(rule.endpoint, tenant="borough", **arguments)))
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
    # Amy holds the task and has done another: its expense, feedback and history pages,
    # a concern she raised (the coordinator, a safeguarding lead, reads it whole).
    make_lead(app, borough, coordinator)
    client.post(f"/api/v1/tenants/borough/tasks/{task['id']}/accept", headers=amy.headers)
    concern = client.post(
        "/api/v1/tenants/borough/concerns",
        json={"task_id": task["id"], "category": "neglect", "description": "A cold house."},
        headers=amy.headers,
    ).json
    claim = client.post(
        f"/api/v1/tenants/borough/tasks/{task['id']}/expenses",
        json={"category": "parking", "amount": "3.20"},
        headers=amy.headers,
    ).json
    ids = {
        "concern_id": concern["id"],
        "claim_id": claim["id"],
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
    # Amy holds the task, writes in its chat and could not reach the client three times:
    # the task's page shows both, and the coordinators have an escalation to open.
    assert client.post(f"/api/v1/tenants/borough/tasks/{task['id']}/accept", headers=amy.headers)
    client.post(
        f"/api/v1/tenants/borough/tasks/{task['id']}/messages",
        json={"body": "I am at the door now."},
        headers=amy.headers,
    )
    for method in ("door", "phone", "door"):
        client.post(
            f"/api/v1/tenants/borough/tasks/{task['id']}/contact-attempts",
            json={"method": method},
            headers=amy.headers,
        )
    queue = client.get("/api/v1/tenants/borough/escalations", headers=coordinator.headers).json
    ids["escalation_id"] = next(e["id"] for e in queue if e["reason"] == "failed_contact")
    # A message that failed every attempt, for the admins' dead-letter page.
    with app.app_context(), tenant_scope(borough.id):
        db.session.add(
            OutgoingMail(
                channel="sms", to_address="+447700900123", subject="New task for you",
                body="New task for you", kind="task_offered", attempts=5,
                last_error="InvalidParameter: the number", dead_at=utcnow(),
            )
        )  # fmt: skip
        db.session.commit()
    admin = world.person(borough, Role.ADMIN)
    # An export the admin asked for (its download is a file, not a page).
    ids["export_id"] = client.post(
        "/api/v1/tenants/borough/exports", json={"kind": "tasks"}, headers=admin.headers
    ).json["id"]
    # An invitation's mailed link, as the invited person opens it.
    invited = client.post(
        "/api/v1/tenants/borough/invitations",
        json={"email": "nadia@example.org", "name": "Nadia Staff", "roles": ["staff"]},
        headers=admin.headers,
    )
    assert invited.status_code == 201, invited.json
    # Amy's issued activity record (its downloads and its public check page), and the
    # leaderboard, which exists only once the tenant turns it on.
    record = client.post("/api/v1/tenants/borough/me/activity-records", headers=amy.headers).json
    ids["record_id"] = record["id"]
    settings = client.get("/api/v1/tenants/borough/recognition", headers=admin.headers)
    client.put(
        "/api/v1/tenants/borough/recognition",
        json={"leaderboard": True},
        headers={**admin.headers, "If-Match": settings.headers["ETag"]},
    )
    only = {
        "web.accept_invitation": {"token": mailed_token(app, "nadia@example.org")},
        "web.verify_record": {"token": record["code"]},
    }
    pages = _pages(app, ids, only)
    checked: set[str] = set()
    for who, person in (("volunteer", amy), ("coordinator", coordinator), ("admin", admin)):
        phone.context.clear_cookies()
        phone.goto("/login")
        log_in(phone, person.account.email, PASSWORD)
        for endpoint, url in pages:
            if who == "admin" and endpoint in checked:
                continue  # the admin only walks the pages nobody else could open
            if endpoint in DOWNLOADS:
                continue  # a file, not a page: the browser downloads it (test_web_care.py)
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
    # Every page was opened by someone, but for these: the app manifest, the downloads
    # (files, not HTML), and a check's training page (a 404 without a training module;
    # test_checks.py).
    unchecked = {endpoint for endpoint, _ in pages} - checked
    assert unchecked == {"web.manifest", "web.training", *DOWNLOADS}, sorted(unchecked)
