"""Recruitment campaigns: the tenant file, the coordinators' API and pages, the public
landing page that counts visits, and the funnel from visit to still active after 90 days."""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from nyby.auth.permissions import Role
from nyby.campaigns import services as campaigns
from nyby.campaigns.models import Campaign, CampaignRole
from nyby.configuration import services as configuration
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.members.models import Membership
from nyby.onboarding.models import RoleAssignment
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World, all_at_once
from tests.seed import configuration_document
from tests.test_web_tasks import post_form, signed_in

API = "/api/v1/tenants/recruiting"
WEB = "/t/recruiting"
TODAY = date.today()


def document(tenant: Tenant) -> dict[str, Any]:
    """The seed configuration plus a driver role, a staff-only role and two campaigns."""
    doc = configuration_document(tenant)
    doc["roles"] += [
        {
            "key": "driver",
            "name": "Volunteer driver",
            "description": "Drives residents to appointments.",
            "min_age": 21,
            "checks": ["dbs-basic"],
        },
        {
            "key": "reablement",
            "name": "Reablement (staff)",
            "description": "Staff only.",
            "staff_only": True,
        },
    ]
    doc["campaigns"] = [
        {
            "key": "drivers",
            "name": "Volunteer drivers wanted",
            "message": "Take a neighbour to hospital.\n\nMileage is paid.",
            "target_group": {
                "min_age": 21,
                "skills": ["driving"],
                "area": {"latitude": 51.5, "longitude": -0.14, "radius_km": 8},
            },
            "roles": ["driver", "shopper"],
            "starts_on": (TODAY - timedelta(days=30)).isoformat(),
            "ends_on": (TODAY + timedelta(days=300)).isoformat(),
            "target_sign_ups": 5,
        },
        {
            "key": "summer",
            "name": "Summer of giving back",
            "target_group": {"min_age": 18, "max_age": 25, "languages": ["pl"]},
            "roles": ["shopper"],
            "starts_on": (TODAY - timedelta(days=200)).isoformat(),
            "ends_on": (TODAY - timedelta(days=100)).isoformat(),
        },
    ]
    return doc


@pytest.fixture
def recruiting(app: Flask, world: World) -> Tenant:
    tenant = world.tenant("recruiting")
    with app.app_context():
        configuration.apply(db.session(), document(tenant))
        db.session.commit()
    return tenant


@pytest.fixture
def coordinator(world: World, recruiting: Tenant) -> Person:
    return world.person(recruiting, Role.COORDINATOR)


def campaign_id(app: Flask, tenant: Tenant, key: str) -> Any:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalars(select(Campaign.id).where(Campaign.key == key)).one()


def visits(app: Flask, tenant: Tenant, key: str) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalars(select(Campaign.visits).where(Campaign.key == key)).one()


def lines(changes: list[configuration.Change]) -> list[str]:
    return [str(change) for change in changes]


# -- the tenant file -------------------------------------------------------------------


def test_the_file_plans_applies_and_exports_campaigns(app: Flask, world: World) -> None:
    tenant = world.tenant("recruiting")
    doc = document(tenant)
    with app.app_context():
        session = db.session()
        planned = lines(configuration.plan(session, doc))
        assert planned[-2:] == ["+ campaign drivers", "+ campaign summer"]
        configuration.apply(session, doc)
        session.commit()
        with tenant_scope(tenant.id, session):
            drivers = session.scalars(select(Campaign).where(Campaign.key == "drivers")).one()
            assert [role.key for role in drivers.roles] == ["shopper", "driver"]
            assert drivers.target_group["skills"] == ["driving"]
            assert drivers.starts_on == TODAY - timedelta(days=30)

        # Export, as YAML and back: applying it changes nothing and writes nothing.
        exported = configuration.export(session, tenant)
        assert [c["key"] for c in exported["campaigns"]] == ["drivers", "summer"]
        text = configuration.dump_yaml(exported)
        assert "roles: [shopper, driver]" in text
        reparsed = yaml.safe_load(text)
        writes: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
                writes.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert configuration.plan(session, reparsed) == []
            assert configuration.apply(session, reparsed)[1] == []
            session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert writes == []

        # Changes are planned by key, like roles.
        changed = copy.deepcopy(doc)
        changed["campaigns"][0]["target_sign_ups"] = 50
        changed["campaigns"][0]["roles"] = ["driver"]
        version = drivers.version_id
        assert lines(configuration.plan(session, changed)) == [
            "~ campaign drivers: target_sign_ups 5 -> 50",
            "~ campaign drivers: roles [shopper, driver] -> [driver]",
        ]
        configuration.apply(session, changed)
        session.commit()
        with tenant_scope(tenant.id, session):
            session.refresh(drivers)
            assert [role.key for role in drivers.roles] == ["driver"]
            assert drivers.version_id == version + 1
            session.execute(select(Campaign)).all()
            drivers.visits = 7
            session.commit()

        # Left out: deactivated, never deleted, visits kept; put back: reactivated.
        without = copy.deepcopy(changed)
        without["campaigns"] = without["campaigns"][1:]
        assert lines(configuration.plan(session, without))[-2:] == [
            "~ campaign summer: position 1 -> 0",
            "- campaign drivers (deactivated)",
        ]
        configuration.apply(session, without)
        session.commit()
        with tenant_scope(tenant.id, session):
            session.refresh(drivers)
            assert drivers.is_active is False and drivers.visits == 7
        assert [c["key"] for c in configuration.export(session, tenant)["campaigns"]] == ["summer"]
        assert "~ campaign drivers: reactivated" in lines(configuration.plan(session, changed))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"ends_on": "2020-01-01"}, "campaigns.0.ends_on: Must not be before starts_on."),
        ({"roles": ["no-such-role"]}, "campaigns.0.roles.0: Campaign 'drivers' offers"),
        ({"roles": ["reablement"]}, "campaigns.0.roles.0: Campaign 'drivers' offers"),
        ({"roles": []}, "campaigns.0.roles: Length must be between 1 and 50."),
        ({"target_sign_ups": 0}, "campaigns.0.target_sign_ups: Must be greater than or equal"),
        ({"target_group": {"languages": ["polish"]}}, "campaigns.0.target_group.languages.0"),
        (
            {"target_group": {"min_age": 30, "max_age": 20}},
            "campaigns.0.target_group.max_age: Must not be",
        ),
        ({"starts_on": "31/01/2027"}, "campaigns.0.starts_on: Not a valid date."),
        ({"description": "old name"}, "campaigns.0.description: Unknown field."),
    ],
)
def test_the_file_refuses_bad_campaigns(
    app: Flask, world: World, change: dict[str, Any], expected: str
) -> None:
    doc = document(world.tenant())
    doc["campaigns"][0].update(change)
    with pytest.raises(configuration.InvalidConfiguration) as caught:
        configuration.load_document(doc)
    assert any(line.startswith(expected) for line in caught.value.lines), caught.value.lines


def test_the_demo_files_have_an_open_and_an_ended_campaign() -> None:
    from tests.test_configuration import BOROUGH, KOMMUNE, read

    for path in (BOROUGH, KOMMUNE):
        loaded = configuration.load_document(read(path))["campaigns"]
        assert len(loaded) == 2
        ends = [date.fromisoformat(c["ends_on"]) for c in loaded]
        starts = [date.fromisoformat(c["starts_on"]) for c in loaded]
        assert any(
            s <= date(2026, 11, 24) and e >= date(2027, 12, 31)
            for s, e in zip(starts, ends, strict=True)
        )
        assert any(e < date(2026, 11, 24) for e in ends)


# -- the API -----------------------------------------------------------------------------


def new_campaign(**changes: Any) -> dict[str, Any]:
    return {
        "key": "polish-speakers",
        "name": "Polish-speaking callers",
        "message": "Call an older neighbour in Polish once a week.",
        "target_group": {"languages": ["pl"]},
        "roles": ["shopper"],
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=90)).isoformat(),
        "target_sign_ups": 10,
        **changes,
    }


def count_campaigns(app: Flask, tenant: Tenant) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return len(db.session.scalars(select(Campaign)).all())


def test_coordinators_create_read_change_and_deactivate_campaigns(
    app: Flask, client: FlaskClient, recruiting: Tenant, coordinator: Person
) -> None:
    created = client.post(f"{API}/campaigns", json=new_campaign(), headers=coordinator.headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert body["roles"] == ["shopper"] and body["status"] == "open"
    assert body["landing_url"].endswith("/t/recruiting/campaigns/polish-speakers")
    assert "visits" not in body  # in the funnel, so a visit does not change the ETag

    listed = client.get(f"{API}/campaigns", headers=coordinator.headers).json
    assert [c["key"] for c in listed] == ["drivers", "summer", "polish-speakers"]
    assert [c["status"] for c in listed] == ["open", "ended", "open"]

    url = f"{API}/campaigns/{body['id']}"
    etag = client.get(url, headers=coordinator.headers).headers["ETag"]
    assert client.patch(url, json={"name": "X"}, headers=coordinator.headers).status_code == 428
    client.get(f"{API}/campaigns/by-key/polish-speakers/landing")  # a visit
    changed = client.patch(
        url,
        json={"name": "Ringevenn på polsk", "roles": ["shopper", "driver"], "ends_on": None},
        headers={**coordinator.headers, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["roles"] == ["shopper", "driver"] and changed.json["ends_on"] is None
    stale = client.patch(
        url, json={"name": "Stale"}, headers={**coordinator.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert client.get(url, headers=coordinator.headers).json["name"] == "Ringevenn på polsk"

    etag = client.get(url, headers=coordinator.headers).headers["ETag"]
    off = client.patch(
        url, json={"is_active": False}, headers={**coordinator.headers, "If-Match": etag}
    )
    assert off.status_code == 200 and off.json["status"] == "inactive"
    assert client.get(f"{API}/campaigns/by-key/polish-speakers/landing").status_code == 404
    listed = client.get(f"{API}/campaigns", headers=coordinator.headers).json
    assert "polish-speakers" not in [c["key"] for c in listed]
    everything = client.get(f"{API}/campaigns?include_inactive=true", headers=coordinator.headers)
    assert "polish-speakers" in [c["key"] for c in everything.json]


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, 422, "ends_on"),
        ({"roles": ["no-such-role"]}, 422, "roles"),
        ({"roles": ["reablement"]}, 422, "roles"),
        ({"roles": []}, 422, "roles"),
        ({"key": "drivers"}, 409, "key"),
        ({"key": "Not A Key"}, 422, "key"),
        ({"target_group": {"area": {"latitude": 51.5}}}, 422, "target_group"),
        ({"target_sign_ups": -1}, 422, "target_sign_ups"),
        ({"visits": 1000}, 422, "visits"),
    ],
)
def test_bad_campaigns_are_refused_and_nothing_is_stored(
    app: Flask,
    client: FlaskClient,
    recruiting: Tenant,
    coordinator: Person,
    changes: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = count_campaigns(app, recruiting)
    response = client.post(
        f"{API}/campaigns", json=new_campaign(**changes), headers=coordinator.headers
    )
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    assert field in json.dumps(response.json.get("errors", {})), response.json
    assert count_campaigns(app, recruiting) == before


def test_a_patch_cannot_end_a_campaign_before_it_starts(
    client: FlaskClient, recruiting: Tenant, coordinator: Person
) -> None:
    drivers = client.get(f"{API}/campaigns", headers=coordinator.headers).json[0]
    url = f"{API}/campaigns/{drivers['id']}"
    etag = client.get(url, headers=coordinator.headers).headers["ETag"]
    early = (date.fromisoformat(drivers["starts_on"]) - timedelta(days=1)).isoformat()
    refused = client.patch(
        url, json={"ends_on": early}, headers={**coordinator.headers, "If-Match": etag}
    )
    assert refused.status_code == 422 and "ends_on" in refused.json["errors"]
    assert client.get(url, headers=coordinator.headers).json["ends_on"] == drivers["ends_on"]


def test_who_may_see_and_change_campaigns(
    client: FlaskClient, world: World, recruiting: Tenant, coordinator: Person
) -> None:
    drivers = client.get(f"{API}/campaigns", headers=coordinator.headers).json[0]
    admin = world.person(recruiting, Role.ADMIN)
    assert client.get(f"{API}/campaigns", headers=admin.headers).status_code == 200
    for role in (Role.PROFESSIONAL, Role.STAFF, Role.VOLUNTEER):
        person = world.person(recruiting, role)
        assert client.get(f"{API}/campaigns", headers=person.headers).status_code == 403
        detail = client.get(f"{API}/campaigns/{drivers['id']}", headers=person.headers)
        assert detail.status_code == 404
        refused = client.post(f"{API}/campaigns", json={"nonsense": 1}, headers=person.headers)
        assert refused.status_code == 403


def test_another_tenants_campaigns_are_404(
    app: Flask, client: FlaskClient, world: World, recruiting: Tenant, coordinator: Person
) -> None:
    other = world.tenant("elsewhere")
    with app.app_context():
        doc = document(other)
        doc["campaigns"][0]["key"] = "elsewhere-drivers"
        configuration.apply(db.session(), doc)
        db.session.commit()
    theirs = campaign_id(app, other, "elsewhere-drivers")
    for method, suffix in (("get", ""), ("patch", ""), ("get", "/funnel")):
        response = getattr(client, method)(
            f"{API}/campaigns/{theirs}{suffix}",
            headers={**coordinator.headers, "If-Match": "*"},
            **({"json": {"name": "Mine"}} if method == "patch" else {}),
        )
        assert response.status_code == 404, (method, suffix)
    # Their public link does not work on this tenant's address, and is not counted.
    assert client.get(f"{API}/campaigns/by-key/elsewhere-drivers/landing").status_code == 404
    assert client.get(f"{WEB}/campaigns/elsewhere-drivers").status_code == 404
    assert visits(app, other, "elsewhere-drivers") == 0
    assert client.get("/api/v1/tenants/elsewhere/campaigns/by-key/elsewhere-drivers/landing").json
    assert visits(app, other, "elsewhere-drivers") == 1


# -- the landing page --------------------------------------------------------------------


def test_the_landing_page_is_public_and_counts_each_visit(
    app: Flask, client: FlaskClient, recruiting: Tenant, coordinator: Person
) -> None:
    landing = client.get(f"{API}/campaigns/by-key/drivers/landing")
    assert landing.status_code == 200
    page = landing.json
    assert page["name"] == "Volunteer drivers wanted"
    assert page["tenant_name"] == recruiting.name
    assert [role["key"] for role in page["roles"]] == ["shopper", "driver"]
    driver = page["roles"][1]
    assert driver["min_age"] == 21 and driver["checks"][0]["key"] == "dbs-basic"
    assert page["sign_up_url"].endswith("/t/recruiting/join?campaign=drivers")
    assert "visits" not in page and "target_sign_ups" not in page
    client.get(f"{WEB}/campaigns/drivers")
    assert visits(app, recruiting, "drivers") == 2
    # The campaign's own coordinators previewing the page are not visitors.
    client.get(f"{API}/campaigns/by-key/drivers/landing", headers=coordinator.headers)
    assert visits(app, recruiting, "drivers") == 2


def test_visits_at_the_same_moment_are_all_counted(app: Flask, recruiting: Tenant) -> None:
    def visit() -> int:
        return app.test_client().get(f"{API}/campaigns/by-key/drivers/landing").status_code

    assert all_at_once([visit] * 20) == [200] * 20
    assert visits(app, recruiting, "drivers") == 20


def test_an_ended_campaign_is_410_saying_when_and_a_deactivated_one_404(
    app: Flask, client: FlaskClient, recruiting: Tenant
) -> None:
    ended = client.get(f"{API}/campaigns/by-key/summer/landing")
    assert ended.status_code == 410
    when = (TODAY - timedelta(days=100)).isoformat()
    assert when in ended.json["detail"]
    page = client.get(f"{WEB}/campaigns/summer")
    assert page.status_code == 410
    assert "This campaign has ended" in page.text and "/t/recruiting/join" in page.text
    assert visits(app, recruiting, "summer") == 0

    with app.app_context(), tenant_scope(recruiting.id):
        db.session.scalars(
            select(Campaign).where(Campaign.key == "drivers")
        ).one().is_active = False
        db.session.commit()
    assert client.get(f"{API}/campaigns/by-key/drivers/landing").status_code == 404
    assert client.get(f"{WEB}/campaigns/drivers").status_code == 404
    assert client.get(f"{API}/campaigns/by-key/no-such-thing/landing").status_code == 404


def test_a_campaign_not_started_yet_is_404(
    client: FlaskClient, recruiting: Tenant, coordinator: Person
) -> None:
    later = new_campaign(key="later", starts_on=(TODAY + timedelta(days=10)).isoformat())
    assert (
        client.post(f"{API}/campaigns", json=later, headers=coordinator.headers).status_code == 201
    )
    assert client.get(f"{API}/campaigns/by-key/later/landing").status_code == 404


# -- the funnel --------------------------------------------------------------------------


def test_the_funnel_counts_every_stage(
    app: Flask,
    client: FlaskClient,
    world: World,
    recruiting: Tenant,
    coordinator: Person,
    count_queries: Any,
) -> None:
    nurse = world.person(recruiting, Role.PROFESSIONAL)
    people = {name: world.person(recruiting, Role.VOLUNTEER) for name in "abcdefg"}
    now = utcnow()
    with app.app_context(), tenant_scope(recruiting.id):
        drivers = db.session.scalars(select(Campaign).where(Campaign.key == "drivers")).one()
        summer = db.session.scalars(select(Campaign).where(Campaign.key == "summer")).one()
        drivers.visits = 40
        role = db.session.scalars(select(VolunteerRole).where(VolunteerRole.key == "driver")).one()
        member = {
            name: db.session.get(Membership, (recruiting.id, person.membership.id))  # type: ignore[union-attr]
            for name, person in people.items()
        }
        for name, one in member.items():
            one.campaign_id = summer.id if name == "g" else drivers.id

        def approve(name: str) -> None:
            db.session.add(
                RoleAssignment(membership_id=member[name].id, role_id=role.id, status="approved")
            )

        def completed(name: str, days_ago: int) -> None:
            db.session.add(
                Task(
                    role_id=role.id,
                    posted_by=nurse.membership.id,  # type: ignore[union-attr]
                    title="A lift to the clinic",
                    estimated_minutes=60,
                    earliest_start=now - timedelta(days=days_ago + 1),
                    due_by=now - timedelta(days=days_ago),
                    status="completed",
                    assignee_id=member[name].id,
                    completed_at=now - timedelta(days=days_ago),
                )
            )

        # a: signed up only. b: approved (first_approved_at), no task yet.
        member["b"].first_approved_at = now
        # c: approved, signed up 100 days ago, did a task last week: still active.
        approve("c")
        member["c"].created_at = now - timedelta(days=100)
        completed("c", 7)
        # d: approved, signed up 200 days ago, last task 120 days ago: not active now.
        approve("d")
        member["d"].created_at = now - timedelta(days=200)
        completed("d", 120)
        # e: approved, a task last week, but signed up 100 days ago and has left.
        member["e"].first_approved_at = now - timedelta(days=95)
        member["e"].created_at = now - timedelta(days=100)
        member["e"].is_active = False
        completed("e", 7)
        # f: a completed task but never approved: not past "approved".
        completed("f", 3)
        # g: came through another campaign.
        approve("g")
        completed("g", 3)
        db.session.commit()
        drivers_id = drivers.id

    funnel = client.get(f"{API}/campaigns/{drivers_id}/funnel", headers=coordinator.headers)
    assert funnel.status_code == 200
    assert funnel.json == {
        "campaign_id": str(drivers_id),
        "visits": 40,
        "sign_ups": 6,
        "approved": 4,
        "first_task_done": 3,
        "judged_after_90_days": 3,
        "active_after_90_days": 1,
        "target_sign_ups": 5,
        "progress": 1.2,
    }
    # One grouped query for any number of campaigns and members.
    with app.app_context(), tenant_scope(recruiting.id):
        rows = db.session.scalars(select(Campaign)).all()
        with count_queries() as counted:
            found = campaigns.funnels(rows)
        assert len(counted) == 1
        assert {f.sign_ups for f in found.values()} == {6, 1}


def test_an_empty_funnel_is_all_zeros(
    client: FlaskClient, recruiting: Tenant, coordinator: Person
) -> None:
    summer = client.get(f"{API}/campaigns", headers=coordinator.headers).json[1]
    funnel = client.get(f"{API}/campaigns/{summer['id']}/funnel", headers=coordinator.headers)
    assert funnel.json["sign_ups"] == 0 and funnel.json["progress"] is None


# -- web pages ---------------------------------------------------------------------------


def test_a_coordinator_sees_the_campaigns_and_a_funnel(
    app: Flask, client: FlaskClient, world: World, recruiting: Tenant, coordinator: Person
) -> None:
    browser = signed_in(app, coordinator)
    home = browser.get(f"{WEB}/").text
    assert f'href="{WEB}/recruitment"' in home and ">Campaigns<" in home
    listed = browser.get(f"{WEB}/recruitment")
    assert listed.status_code == 200
    assert "Volunteer drivers wanted" in listed.text and "0 of 5 sign-ups" in listed.text
    assert "Ended" in listed.text
    client.get(f"{API}/campaigns/by-key/drivers/landing")
    page = browser.get(f"{WEB}/recruitment/{campaign_id(app, recruiting, 'drivers')}")
    assert page.status_code == 200
    assert 'value="http://localhost/t/recruiting/campaigns/drivers"' in page.text
    assert "Visits to the landing page" in page.text and '<span class="value">1</span>' in page.text
    assert "Polish" not in page.text and "driving" in page.text

    volunteer = signed_in(app, world.person(recruiting, Role.VOLUNTEER))
    assert ">Campaigns<" not in volunteer.get(f"{WEB}/").text
    assert volunteer.get(f"{WEB}/recruitment").status_code == 403


def test_setting_up_a_campaign_in_the_browser(
    app: Flask, recruiting: Tenant, coordinator: Person
) -> None:
    browser = signed_in(app, coordinator)
    form = {
        "name": "Polish-speaking callers",
        "key": "polish-speakers",
        "message": "Call a neighbour in Polish.",
        "roles": ["shopper", "driver"],
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY - timedelta(days=1)).isoformat(),
        "target_group.languages": "pl, ur",
        "target_group.area.latitude": "51,5",
    }
    url = f"{WEB}/recruitment/new"
    wrong = post_form(browser, url, form)
    assert wrong.status_code == 422
    assert "Please fill this in." in wrong.text  # the area's longitude and radius
    assert 'value="Polish-speaking callers"' in wrong.text and 'value="pl, ur"' in wrong.text
    assert 'value="driver" checked' in wrong.text
    form.update({"target_group.area.longitude": "-0.14", "target_group.area.radius_km": "5"})
    early = post_form(browser, url, form)
    assert early.status_code == 422 and "Must not be before the start date." in early.text
    taken = post_form(browser, url, {**form, "key": "drivers", "ends_on": ""})
    assert taken.status_code == 409 and "already exists" in taken.text
    saved = post_form(browser, url, {**form, "ends_on": ""})
    assert saved.status_code == 303
    new_id = campaign_id(app, recruiting, "polish-speakers")
    with app.app_context(), tenant_scope(recruiting.id):
        made = db.session.get(Campaign, (recruiting.id, new_id))
        assert made is not None and made.ends_on is None
        assert made.target_group == {
            "languages": ["pl", "ur"],
            "area": {"latitude": 51.5, "longitude": -0.14, "radius_km": 5.0},
        }
        assert {role.key for role in made.roles} == {"shopper", "driver"}
    page = browser.get(saved.headers["Location"]).text
    assert "polsk" not in page and "Polish, Urdu" in page


def test_two_coordinators_editing_a_campaign_at_once(
    app: Flask, world: World, recruiting: Tenant, coordinator: Person
) -> None:
    first = signed_in(app, coordinator)
    second = signed_in(app, world.person(recruiting, Role.ADMIN))
    url = f"{WEB}/recruitment/{campaign_id(app, recruiting, 'drivers')}/edit"
    seen = second.get(url).text
    assert 'value="driving"' in seen and 'name="is_active" checked' in seen
    form = {
        "name": "Drivers for the winter",
        "roles": ["driver"],
        "starts_on": TODAY.isoformat(),
        "is_active": "on",
        "version": re.findall(r'name="version" value="(\d+)"', seen)[0],
    }
    assert post_form(first, url, form).status_code == 303
    # The second still sends the version their page showed.
    late = post_form(second, url, {**form, "name": "Drivers all year"})
    assert late.status_code == 409
    assert "Someone else saved changes" in late.text and 'value="Drivers all year"' in late.text
    with app.app_context(), tenant_scope(recruiting.id):
        name = db.session.scalars(select(Campaign.name).where(Campaign.key == "drivers")).one()
    assert name == "Drivers for the winter"


def test_the_public_landing_page_needs_no_login(
    app: Flask, client: FlaskClient, recruiting: Tenant
) -> None:
    page = client.get(f"{WEB}/campaigns/drivers")
    assert page.status_code == 200
    assert "<h1>Volunteer drivers wanted</h1>" in page.text
    assert "Take a neighbour to hospital." in page.text and "Mileage is paid." in page.text
    assert 'href="/t/recruiting/join?campaign=drivers"' in page.text or (
        "campaign=drivers" in page.text
    )
    assert "Basic DBS" in page.text and "From age 21" in page.text
    assert visits(app, recruiting, "drivers") == 1
    with app.app_context(), tenant_scope(recruiting.id):
        assert db.session.scalars(select(CampaignRole)).all()


def test_two_coordinators_creating_one_key_at_once_make_one_campaign(
    app: Flask, recruiting: Tenant, coordinator: Person, world: World
) -> None:
    admin = world.person(recruiting, Role.ADMIN)

    def create(person: Person) -> Any:
        return lambda: (
            app.test_client()
            .post(f"{API}/campaigns", json=new_campaign(), headers=person.headers)
            .status_code
        )

    assert sorted(all_at_once([create(coordinator), create(admin)])) == [201, 409]
    assert count_campaigns(app, recruiting) == 3
