"""The web pages of concerns, expenses and feedback, through the Flask client: the same
services as the API, with forms, CSRF and post/redirect/get (browsers: tests/browser)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from tests.caring import API, completed_task, make_lead, taken_task
from tests.conftest import Person, World
from tests.samples import EXE, PNG
from tests.test_web_tasks import csrf, post_form, signed_in

BOROUGH = "/t/borough"


def test_raising_a_concern_on_the_web_and_the_leads_pages(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    lead = world.person(borough, Role.COORDINATOR)
    make_lead(app, borough, lead)
    volunteer_browser = signed_in(app, amy)
    page = volunteer_browser.get(f"{BOROUGH}/tasks/{task['id']}")
    assert f"{BOROUGH}/tasks/{task['id']}/concern" in page.text
    url = f"{BOROUGH}/tasks/{task['id']}/concern"
    empty = post_form(volunteer_browser, url, {"category": "", "description": ""})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    sent = post_form(
        volunteer_browser,
        url,
        {"category": "financial", "description": "Her bank card is missing again."},
    )
    assert sent.status_code == 303
    concern_url = sent.headers["Location"]
    mine = volunteer_browser.get(concern_url)
    assert "Her bank card is missing again." in mine.text
    assert 'name="body"' not in mine.text and "Outcome" not in mine.text  # no notes

    # Not a lead: the page does not exist for them, nor in the list.
    other = signed_in(app, world.person(borough, Role.COORDINATOR, Role.ADMIN))
    assert other.get(concern_url).status_code == 404
    assert "bank card" not in other.get(f"{BOROUGH}/concerns").text

    leads = signed_in(app, lead)
    listed = leads.get(f"{BOROUGH}/concerns")
    assert "Financial or material abuse" in listed.text and amy.account.name in listed.text
    assert f'href="{BOROUGH}/concerns"' in leads.get(f"{BOROUGH}/").text  # in the menu
    noted = post_form(leads, f"{concern_url}/notes", {"body": "Rang her daughter."}, concern_url)
    assert noted.status_code == 303
    html = leads.get(concern_url).text
    version = html.split('name="version" value="')[1].split('"')[0]
    refused = post_form(leads, f"{concern_url}/status", {"status": "closed", "version": version},
                        concern_url)  # fmt: skip
    assert refused.status_code == 303
    assert "Say what the outcome was before closing" in leads.get(concern_url).text
    closed = post_form(
        leads,
        f"{concern_url}/status",
        {"status": "closed", "outcome": "Bank told; card stopped.", "version": version},
        concern_url,
    )
    assert closed.status_code == 303
    shown = leads.get(concern_url).text
    assert "Rang her daughter." in shown and "Bank told; card stopped." in shown
    assert "Closed" in volunteer_browser.get(concern_url).text
    assert "card stopped" not in volunteer_browser.get(concern_url).text
    # From the client's page too (the care team).
    care = signed_in(app, nurse)
    client_page = care.get(f"{BOROUGH}/clients/{task['client_id']}").text
    assert f"{BOROUGH}/clients/{task['client_id']}/concern" in client_page
    about_client = post_form(
        care,
        f"{BOROUGH}/clients/{task['client_id']}/concern",
        {"category": "self_neglect", "description": "No heating."},
    )
    assert about_client.status_code == 303


def test_claiming_deciding_and_exporting_expenses_on_the_web(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = completed_task(app, client, world, borough, nurse)
    volunteer_browser = signed_in(app, amy)
    url = f"{BOROUGH}/tasks/{task['id']}/expenses/new"
    assert url in volunteer_browser.get(f"{BOROUGH}/tasks/{task['id']}").text
    token = csrf(volunteer_browser.get(url).text)
    wrong = volunteer_browser.post(
        url,
        data={"csrf_token": token, "category": "shopping", "amount": "9.99",
              "receipt": (io.BytesIO(EXE), "receipt.jpg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert wrong.status_code == 422 and "Not an accepted file type." in wrong.text
    sent = volunteer_browser.post(
        url,
        data={"csrf_token": token, "category": "shopping", "amount": "9,99",
              "receipt": (io.BytesIO(PNG), "receipt.png")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert sent.status_code == 303, sent.text
    assert "9.99" in volunteer_browser.get(f"{BOROUGH}/expenses").text

    coordinator = signed_in(app, world.person(borough, Role.COORDINATOR))
    queue = coordinator.get(f"{BOROUGH}/expenses").text
    assert amy.account.name in queue and "receipt.png" in queue
    claim_id = client.get(f"{API}/expenses", headers=amy.headers).json[0]["id"]
    approved = post_form(coordinator, f"{BOROUGH}/expenses/{claim_id}/approve", {},
                         f"{BOROUGH}/expenses")  # fmt: skip
    assert approved.status_code == 303
    again = post_form(coordinator, f"{BOROUGH}/expenses/{claim_id}/approve", {},
                      f"{BOROUGH}/expenses")  # fmt: skip
    assert again.status_code == 303  # told it was decided already, nothing changed
    assert "approved already" in coordinator.get(f"{BOROUGH}/expenses").text
    export = coordinator.get(f"{BOROUGH}/expenses/export")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(export.text)))
    assert row["amount"] == "9.99" and row["volunteer_name"] == amy.account.name
    assert volunteer_browser.get(f"{BOROUGH}/expenses/export").status_code == 403
    assert (
        coordinator.get(f"{BOROUGH}/expenses/export?from=2020-02-01&to=2020-01-01").status_code
        == 422
    )


def test_feedback_timeline_and_thumbs_up_on_the_web(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = completed_task(app, client, world, borough, nurse)
    volunteer_browser = signed_in(app, amy)
    url = f"{BOROUGH}/tasks/{task['id']}/feedback"
    assert url in volunteer_browser.get(f"{BOROUGH}/tasks/{task['id']}").text
    no_rating = post_form(volunteer_browser, url, {"comment": "ok"})
    assert no_rating.status_code == 422
    given = post_form(volunteer_browser, url, {"rating": "5", "comment": "Lovely visit."})
    assert given.status_code == 303
    page = volunteer_browser.get(url).text
    assert "Lovely visit." in page and 'name="rating"' not in page  # given once
    care = signed_in(app, nurse)
    assert 'name="rating"' in care.get(url).text
    assert post_form(care, url, {"rating": "4"}).status_code == 303
    timeline = care.get(f"{BOROUGH}/tasks/{task['id']}/timeline").text
    for word in ("Posted", "Taken", "Started", "Completed", "Feedback", "4 out of 5"):
        assert word in timeline, word

    coordinator_person = world.person(borough, Role.COORDINATOR)
    coordinator = signed_in(app, coordinator_person)
    assert amy.membership is not None
    member_page = f"{BOROUGH}/volunteers/{amy.membership.id}"
    sent = post_form(coordinator, f"{member_page}/thanks", {"note": "Brilliant!"}, member_page)
    assert sent.status_code == 303
    assert "Brilliant!" in coordinator.get(member_page).text
    inbox = client.get(f"{API}/notifications", headers=amy.headers).json
    assert any("Brilliant!" in n["message"] for n in inbox)
    # Admins name a safeguarding lead from the same page; coordinators cannot.
    assert "Make a safeguarding lead" not in coordinator.get(member_page).text
    admin = signed_in(app, world.person(borough, Role.ADMIN))
    made = post_form(admin, f"{member_page}/safeguarding-lead", {"is_safeguarding_lead": "yes"},
                     member_page)  # fmt: skip
    assert made.status_code == 303
    assert "Stop being a safeguarding lead" in admin.get(member_page).text
    member = client.get(f"{API}/members/{amy.membership.id}", headers=amy.headers).json
    assert member["is_safeguarding_lead"] is True
