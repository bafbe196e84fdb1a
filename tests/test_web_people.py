"""The web app's people pages: my home area, my roles and checks, a coordinator's
decisions, and street groups taken from a browser."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.configuration.models import CheckType, VolunteerRole
from nyby.core.db import db, utcnow
from nyby.onboarding.models import CheckRecord, RoleAssignment
from nyby.tenancy.context import tenant_scope
from tests.checking import confirm_email
from tests.conftest import Person, World
from tests.tasking import post_task, volunteer
from tests.test_web_tasks import BOROUGH, post_form, signed_in


def test_a_volunteer_sets_a_home_area_and_browses_from_it(
    app: Flask, client: Any, world: World, borough: Any, nurse: Person
) -> None:
    post_task(client, nurse, title="Pick up a prescription")
    amy = signed_in(app, volunteer(app, world, borough))
    no_home = amy.get(f"{BOROUGH}/tasks/near")
    assert no_home.status_code == 200 and "set your home area" in no_home.text.lower()
    wrong = post_form(amy, f"{BOROUGH}/settings", {"latitude": "91", "longitude": "0"})
    assert wrong.status_code == 422 and "Between -90 and 90." in wrong.text
    assert 'value="91"' in wrong.text, "what was typed is kept"
    saved = post_form(
        amy,
        f"{BOROUGH}/settings",
        {"latitude": "51.5", "longitude": "-0.14", "travel_radius_km": "3"},
    )
    assert saved.status_code == 303
    near = amy.get(f"{BOROUGH}/tasks/near").text
    assert "Pick up a prescription" in near and "Measured from your home area." in near


def test_a_coordinator_approves_a_role_and_records_a_check(
    app: Flask, world: World, borough: Any
) -> None:
    coordinator = signed_in(app, world.person(borough, Role.COORDINATOR))
    newcomer = world.person(borough, Role.VOLUNTEER)
    assert newcomer.membership is not None
    listed = coordinator.get(f"{BOROUGH}/volunteers").text
    assert newcomer.account.name in listed
    page = f"{BOROUGH}/volunteers/{newcomer.membership.id}"
    before = coordinator.get(page).text
    assert "Not applied" in before and "missing dbs-basic" in before
    # Approval waits for the check (and a confirmed email address), saying so.
    early = post_form(coordinator, f"{page}/roles", {"role": "shopper", "status": "approved"}, page)
    assert early.status_code == 303
    assert "cannot be approved as Shopper yet" in coordinator.get(page).text
    confirm_email(app, newcomer)
    checked = post_form(
        coordinator, f"{page}/checks", {"check_type": "dbs-basic", "status": "verified"}, page
    )
    assert checked.status_code == 303
    approved = post_form(
        coordinator, f"{page}/roles", {"role": "shopper", "status": "approved"}, page
    )
    assert approved.status_code == 303
    after = coordinator.get(page).text
    assert "Approved" in after and "Verified" in after and "missing dbs-basic" not in after
    bad = post_form(coordinator, f"{page}/checks", {"check_type": "", "status": "verified"}, page)
    assert bad.status_code == 303 and "Please fill this in." in coordinator.get(page).text
    mine = signed_in(app, newcomer).get(f"{BOROUGH}/me/roles").text
    assert "Approved" in mine and "Yes" in mine
    assert signed_in(app, newcomer).get(f"{BOROUGH}/volunteers").status_code == 403


def test_a_street_champion_takes_a_street_from_the_browser(
    app: Flask, client: Any, world: World, borough: Any, nurse: Person
) -> None:
    for title in ("Shop for number 2", "Shop for number 4"):
        body = {"address": "Example Road", "latitude": 51.5014, "longitude": -0.1419}
        post_task(client, nurse, title=title, client_id=None, **body)
    champion = signed_in(app, volunteer(app, world, borough))
    where = {"latitude": "51.5", "longitude": "-0.14"}
    streets = champion.get(f"{BOROUGH}/tasks/streets", query_string=where)
    assert "2 tasks in one street" in streets.text
    ids = re.findall(r'name="task_id" value="([^"]+)"', streets.text)
    assert len(ids) == 2
    token = re.findall(r'name="csrf_token" value="([^"]+)"', streets.text)[0]
    taken = champion.post(
        f"{BOROUGH}/tasks/streets/accept", data={"csrf_token": token, "task_id": ids}
    )
    assert taken.status_code == 303
    mine = champion.get(f"{BOROUGH}/tasks/mine").text
    assert "Shop for number 2" in mine and "Shop for number 4" in mine


def test_a_persons_language_follows_them_to_another_device(
    app: Flask, world: World, borough: Any
) -> None:
    amy = world.person(borough, Role.VOLUNTEER)
    phone = signed_in(app, amy)
    chosen = post_form(phone, "/language", {"locale": "nb", "next": f"{BOROUGH}/"}, f"{BOROUGH}/")
    assert chosen.status_code == 302
    laptop = signed_in(app, amy)  # a new session, without the phone's choice
    assert '<html lang="nb">' in laptop.get(f"{BOROUGH}/").text


def test_everyone_reads_what_each_role_involves(app: Flask, world: World, borough: Any) -> None:
    page = signed_in(app, world.person(borough, Role.VOLUNTEER)).get(f"{BOROUGH}/roles").text
    assert "Shopper" in page and "Checks needed:" in page


def test_the_approval_queue_lists_applications_and_checks_until_they_are_decided(
    app: Flask, world: World, borough: Any
) -> None:
    newcomer = world.person(borough, Role.VOLUNTEER)
    assert newcomer.membership is not None
    with app.app_context(), tenant_scope(borough.id):
        role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == "shopper")).one()
        check = db.session.scalars(select(CheckType)).one()
        db.session.add_all(
            [
                RoleAssignment(membership_id=newcomer.membership.id, role_id=role.id),
                CheckRecord(
                    membership_id=newcomer.membership.id,
                    check_type_id=check.id,
                    evidence_number="123456789012",
                    submitted_at=utcnow(),
                ),
            ]
        )
        db.session.commit()
    coordinator = signed_in(app, world.person(borough, Role.COORDINATOR))
    queue = " ".join(coordinator.get(f"{BOROUGH}/waiting").text.split())
    assert newcomer.account.name in queue
    assert "Shopper</strong>: still needed: email address not confirmed; " in queue
    assert "Basic DBS: evidence waiting to be checked" in queue
    assert "Evidence to check: Basic DBS" in queue
    assert "Nobody was approved in the last 90 days." in queue
    confirm_email(app, newcomer)
    page = f"{BOROUGH}/volunteers/{newcomer.membership.id}"
    assert "Certificate number: <strong>123456789012</strong>" in coordinator.get(page).text
    post_form(
        coordinator, f"{page}/checks", {"check_type": "dbs-basic", "status": "verified"}, page
    )
    post_form(coordinator, f"{page}/roles", {"role": "shopper", "status": "approved"}, page)
    after = " ".join(coordinator.get(f"{BOROUGH}/waiting").text.split())
    assert "Nothing is waiting for a decision." in after
    assert "Over the last 90 days, 1 people were approved" in after
    volunteer_view = signed_in(app, newcomer).get(f"{BOROUGH}/waiting")
    assert volunteer_view.status_code == 403
