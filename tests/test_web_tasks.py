"""The web app's task and client pages, through the Flask client (real browsers: tests/browser)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.core.db import utcnow
from tests.conftest import Person, World
from tests.tasking import volunteer

BOROUGH = "/t/borough"


def signed_in(app: Flask, person: Person) -> FlaskClient:
    browser = app.test_client()
    with browser.session_transaction() as session:
        session["account_id"] = str(person.account.id)
    return browser


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "every form carries a CSRF token"
    return found[1]


def post_form(browser: FlaskClient, url: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf(browser.get(page or url).text)
    return browser.post(url, data={**data, "csrf_token": token})


def add_client(browser: FlaskClient, name: str = "Edith Clark") -> str:
    response = post_form(
        browser,
        f"{BOROUGH}/clients/new",
        {
            "name": name,
            "address": "12 Example Road",
            "latitude": "51,5014",
            "longitude": "-0.1419",
            "hearing_impairment": "on",
            "consent_given": "on",
        },
    )
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def post_weekly(care: FlaskClient, client_id: str, title: str) -> Any:
    """A weekly task for the client, its first visit tomorrow."""
    day = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d")
    return post_form(
        care,
        f"{BOROUGH}/tasks/new?client_id={client_id}",
        {
            "client_id": client_id,
            "role": "shopper",
            "title": title,
            "earliest_start": f"{day}T10:00",
            "due_by": f"{day}T16:00",
            "estimated_minutes": "45",
            "repeat": "FREQ=WEEKLY",
        },
    )


def test_a_professional_posts_a_task_and_a_volunteer_takes_and_completes_it(
    app: Flask, world: World, borough: Any, nurse: Person
) -> None:
    care = signed_in(app, nurse)
    client_page = add_client(care)
    client_id = client_page.rsplit("/", 1)[1]
    form_url = f"{BOROUGH}/tasks/new?client_id={client_id}"
    posted = post_form(
        care,
        form_url,
        {
            "client_id": client_id,
            "role": "shopper",
            "title": "Weekly shop",
            "earliest_start": "2099-01-05T10:00",
            "due_by": "2099-01-05T16:00",
            "estimated_minutes": "45",
            "repeat": "",
        },
    )
    assert posted.status_code == 303
    task_url = posted.headers["Location"]
    assert "Weekly shop" in care.get(client_page).text

    amy = volunteer(app, world, borough)
    helper = signed_in(app, amy)
    near = helper.get(
        f"{BOROUGH}/tasks/near", query_string={"latitude": "51.5", "longitude": "-0.14"}
    )
    assert (
        near.status_code == 200
        and "Weekly shop" in near.text
        and "1 task you can take" in near.text
    )
    before = helper.get(task_url).text
    assert "12 Example Road" not in before, "the address is hidden until the task is taken"
    for action in ("accept", "start"):
        assert post_form(helper, f"{task_url}/{action}", {}, page=task_url).status_code == 303
    held = helper.get(task_url).text
    assert "12 Example Road" in held and "Hard of hearing" in held
    wrong = post_form(helper, f"{task_url}/complete", {"minutes_spent": "lots"}, page=task_url)
    assert wrong.status_code == 422 and "Enter a whole number." in wrong.text
    done = post_form(
        helper,
        f"{task_url}/complete",
        {"minutes_spent": "50", "outcome_note": "All fine"},
        page=task_url,
    )
    assert done.status_code == 303
    assert "Completed" in care.get(task_url).text and "All fine" in care.get(task_url).text
    mine = helper.get(f"{BOROUGH}/tasks/mine").text
    assert "Weekly shop" in mine and "1 task completed" in mine and "0.8 hours given" in mine


def test_a_half_written_task_keeps_what_was_typed_with_errors_next_to_the_fields(
    app: Flask, borough: Any, nurse: Person
) -> None:
    care = signed_in(app, nurse)
    response = post_form(
        care,
        f"{BOROUGH}/tasks/new",
        {
            "role": "shopper",
            "title": "Prescription pick-up",
            "description": "From the chemist",
            "earliest_start": "2099-01-05T10:00",
            "due_by": "2099-01-05T09:00",
            "estimated_minutes": "30",
            "address": "1 High St",
            "latitude": "51.5",
            "longitude": "",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert 'value="Prescription pick-up"' in page and "From the chemist" in page
    assert 'id="f-latitude-error"' in page, "the error is next to its field"
    assert care.get(f"{BOROUGH}/tasks").status_code == 200
    assert "Prescription pick-up" not in care.get(f"{BOROUGH}/tasks").text, "nothing was posted"


def test_a_weekly_task_posted_on_the_web_becomes_a_series(
    app: Flask, borough: Any, nurse: Person
) -> None:
    care = signed_in(app, nurse)
    client_id = add_client(care).rsplit("/", 1)[1]
    posted = post_weekly(care, client_id, "Shopping")
    assert posted.status_code == 303
    first = care.get(posted.headers["Location"]).text
    assert "Shopping" in first and "Every week" in first
    listed = care.get(f"{BOROUGH}/tasks", query_string={"status": "open"}).text
    assert listed.count(">Shopping</a>") == 2, "this week's visit and next week's exist at once"


def test_the_pages_speak_norwegian(app: Flask, borough: Any, nurse: Person) -> None:
    care = signed_in(app, nurse)
    with care.session_transaction() as session:
        session["locale"] = "nb"
    page = care.get(f"{BOROUGH}/tasks/new").text
    assert '<html lang="nb">' in page and "Legg ut et oppdrag" in page


def test_another_tenants_pages_and_objects_are_404(
    app: Flask, world: World, borough: Any, nurse: Person
) -> None:
    care = signed_in(app, nurse)
    task_url = post_form(
        care,
        f"{BOROUGH}/tasks/new",
        {
            "role": "shopper",
            "title": "Odd job",
            "earliest_start": "2099-01-05T10:00",
            "due_by": "2099-01-05T16:00",
            "estimated_minutes": "30",
            "address": "1 High St",
            "latitude": "51.5",
            "longitude": "-0.14",
        },
    ).headers["Location"]
    client_url = add_client(care)
    other = world.tenant("kommune")
    outsider = signed_in(app, world.person(other, Role.COORDINATOR))
    for url in (task_url, client_url, f"{BOROUGH}/tasks", f"{BOROUGH}/clients"):
        assert outsider.get(url).status_code == 404, url
    own_tenant = task_url.replace("/t/borough/", "/t/kommune/")
    assert outsider.get(own_tenant).status_code == 404
    assert outsider.get(client_url.replace("/t/borough/", "/t/kommune/")).status_code == 404


def test_a_task_is_posted_again_from_its_page(app: Flask, borough: Any, nurse: Person) -> None:
    care = signed_in(app, nurse)
    client_id = add_client(care).rsplit("/", 1)[1]
    first = post_form(
        care,
        f"{BOROUGH}/tasks/new?client_id={client_id}",
        {
            "client_id": client_id,
            "role": "shopper",
            "title": "Chemist run",
            "description": "Collect the blister pack",
            "earliest_start": "2099-01-05T10:00",
            "due_by": "2099-01-05T16:00",
            "estimated_minutes": "25",
        },
    ).headers["Location"]
    task_id = first.rsplit("/", 1)[1]
    assert f"/tasks/new?from={task_id}" in care.get(first).text
    again = care.get(f"{BOROUGH}/tasks/new", query_string={"from": task_id}).text
    assert 'value="Chemist run"' in again and "Collect the blister pack" in again
    assert 'value="25"' in again and f'name="client_id" value="{client_id}"' in again
    assert '<option value="shopper" selected>' in again


def test_a_volunteer_takes_every_visit_of_a_series_and_gives_it_back(
    app: Flask, world: World, borough: Any, nurse: Person
) -> None:
    care = signed_in(app, nurse)
    client_id = add_client(care).rsplit("/", 1)[1]
    visit = post_weekly(care, client_id, "Tuesday shopping").headers["Location"]
    amy = signed_in(app, volunteer(app, world, borough))
    page = amy.get(visit).text
    series_id = re.search(r"/series/([0-9a-f-]+)/accept", page)
    assert series_id is not None, "an open visit offers the whole series"
    taken = post_form(amy, f"{BOROUGH}/series/{series_id[1]}/accept", {}, page=visit)
    assert taken.status_code == 303
    mine = amy.get(f"{BOROUGH}/tasks/mine").text
    assert "Visits that repeat" in mine and mine.count(">Tuesday shopping</a>") == 2
    given = post_form(
        amy,
        f"{BOROUGH}/series/{series_id[1]}/release",
        {"note": "Moving away"},
        page=f"{BOROUGH}/tasks/mine",
    )
    assert given.status_code == 303
    after = amy.get(f"{BOROUGH}/tasks/mine").text
    assert "Visits that repeat" not in after and ">Tuesday shopping</a>" not in after


def test_two_people_editing_a_client_at_once_never_overwrite_each_other(
    app: Flask, world: World, borough: Any, nurse: Person
) -> None:
    grace = signed_in(app, nurse)
    client_page = add_client(grace)
    edit = f"{client_page}/edit"
    tom = signed_in(app, world.person(borough, Role.COORDINATOR))
    forms = {who: browser.get(edit).text for who, browser in (("grace", grace), ("tom", tom))}

    def fields(page: str, **changes: str) -> dict[str, str]:
        version = re.search(r'name="version" value="(\d+)"', page)
        assert version is not None
        base = {
            "name": "Edith Clark",
            "address": "12 Example Road",
            "latitude": "51.5014",
            "longitude": "-0.1419",
            "status": "active",
            "version": version[1],
            "csrf_token": csrf(page),
        }
        return {**base, **changes}

    first = grace.post(edit, data=fields(forms["grace"], phone="020 7946 0000"))
    assert first.status_code == 303
    second = tom.post(edit, data=fields(forms["tom"], risk_assessment="Steep stairs"))
    assert second.status_code == 409
    assert "Someone else saved changes to these details" in second.text
    assert "Steep stairs" in second.text
    saved = tom.post(
        edit, data=fields(second.text, risk_assessment="Steep stairs", phone="020 7946 0000")
    )
    assert saved.status_code == 303
    page = grace.get(client_page).text
    assert "020 7946 0000" in page
    ended = tom.post(edit, data=fields(tom.get(edit).text, status="ended"))
    assert ended.status_code == 422 and 'id="f-status_reason-error"' in ended.text
