"""Teams: configured in the tenant file, given to members, and deciding who may post a role.

The care tasks issue: a task is posted "by a professional or coordinator for a client ...
which teams may post which roles is tenant configuration".
"""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from nyby.auth.permissions import Role
from nyby.configuration import services
from nyby.core.db import db, utcnow
from tests.conftest import Person, World

TENANTS = Path(__file__).resolve().parents[1] / "tenants"
URL = "/api/v1/tenants/demo-borough"
BOROUGH_TEAMS = ["adult-social-care", "hospital-discharge", "community-hub"]


def read(name: str) -> dict[str, Any]:
    return yaml.safe_load((TENANTS / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def borough(app: Flask) -> Any:
    with app.app_context():
        tenant, _ = services.apply(db.session(), read("demo-borough.yaml"))
        db.session.commit()
        return tenant


@pytest.fixture
def admin(world: World, borough: Any) -> Person:
    return world.person(borough, Role.ADMIN)


def member_url(person: Person) -> str:
    assert person.membership is not None
    return f"{URL}/members/{person.membership.id}"


def set_teams(client: FlaskClient, admin: Person, person: Person, *teams: str) -> Any:
    url = member_url(person)
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    return client.patch(
        url, json={"teams": list(teams)}, headers={**admin.headers, "If-Match": etag}
    )


def professional(
    client: FlaskClient, world: World, tenant: Any, admin: Person, *teams: str
) -> Person:
    person = world.person(tenant, Role.PROFESSIONAL)
    if teams:
        assert set_teams(client, admin, person, *teams).status_code == 200
    return person


def post(client: FlaskClient, person: Person, role: str) -> Any:
    start = utcnow() + timedelta(hours=2)
    body = {
        "role": role,
        "title": "Lift to the eye clinic",
        "estimated_minutes": 90,
        "earliest_start": start.isoformat(),
        "due_by": (start + timedelta(days=1)).isoformat(),
        "latitude": 51.5014,
        "longitude": -0.1419,
    }
    return client.post(f"{URL}/tasks", json=body, headers=person.headers)


def role_id(client: FlaskClient, person: Person, key: str) -> str:
    roles = client.get(f"{URL}/roles?page_size=100", headers=person.headers).json
    return str(next(role["id"] for role in roles if role["key"] == key))


# -- teams in the configuration ------------------------------------------------------------


def test_teams_are_listed_and_round_trip_through_export(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    volunteer = world.person(borough, Role.VOLUNTEER)
    teams = client.get(f"{URL}/teams", headers=volunteer.headers)
    assert teams.status_code == 200
    assert [team["key"] for team in teams.json] == BOROUGH_TEAMS
    assert teams.json[1]["name"] == "Hospital discharge team" and teams.json[1]["description"]

    roles = {
        r["key"]: r for r in client.get(f"{URL}/roles?page_size=100", headers=admin.headers).json
    }
    assert roles["patient-transport"]["posted_by_teams"] == ["hospital-discharge", "community-hub"]
    assert roles["shopping"]["posted_by_teams"] == []

    document = client.get(f"{URL}/configuration", headers=admin.headers).json
    assert [team["key"] for team in document["teams"]] == BOROUGH_TEAMS
    text = services.dump_yaml(document)
    assert "posted_by_teams: [hospital-discharge, community-hub]" in text
    plan = client.post(
        f"{URL}/configuration/plan", json=yaml.safe_load(text), headers=admin.headers
    )
    assert plan.status_code == 200 and plan.json["changes"] == []


def test_team_changes_show_in_the_plan_and_apply(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    ben = professional(client, world, borough, admin, "adult-social-care", "community-hub")
    ana = professional(client, world, borough, admin, "adult-social-care")
    current = client.get(f"{URL}/configuration", headers=admin.headers)
    document = copy.deepcopy(current.json)
    document["teams"] = [team for team in document["teams"] if team["key"] != "adult-social-care"]
    document["teams"][1]["name"] = "Community hub and helpline"
    document["teams"].append({"key": "mental-health", "name": "Community mental health team"})
    escort = next(role for role in document["roles"] if role["key"] == "escort")
    escort["posted_by_teams"] = ["community-hub", "mental-health"]

    plan = client.post(f"{URL}/configuration/plan", json=document, headers=admin.headers)

    assert plan.json["changes"] == [
        "~ team hospital-discharge: position 1 -> 0",
        "~ team community-hub: name 'Community hub' -> 'Community hub and helpline'",
        "~ team community-hub: position 2 -> 1",
        "+ team mental-health",
        "~ role escort: posted_by_teams [] -> [community-hub, mental-health]",
        "- team adult-social-care (2 members taken out of it)",
    ]
    replaced = client.put(
        f"{URL}/configuration",
        json=document,
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert replaced.status_code == 200
    assert [t["key"] for t in replaced.json["teams"]] == [
        "hospital-discharge",
        "community-hub",
        "mental-health",
    ]
    # A dropped team is deleted, and its members are taken out of it.
    assert client.get(member_url(ben), headers=admin.headers).json["teams"] == ["community-hub"]
    assert client.get(member_url(ana), headers=admin.headers).json["teams"] == []
    plan = client.post(f"{URL}/configuration/plan", json=document, headers=admin.headers)
    assert plan.json["changes"] == []


def test_a_team_a_deactivated_role_still_names_cannot_be_dropped(
    client: FlaskClient, borough: Any, admin: Person
) -> None:
    current = client.get(f"{URL}/configuration", headers=admin.headers)
    document = copy.deepcopy(current.json)
    # Volunteer drivers leave the file (deactivated) while still restricted to the
    # community hub: dropping the hub too would make them open to anyone if reactivated.
    document["roles"] = [r for r in document["roles"] if r["key"] != "patient-transport"]
    document["teams"] = [t for t in document["teams"] if t["key"] != "community-hub"]
    # (A campaign may only offer roles in the file: the drivers' campaign goes too.)
    document["campaigns"] = [
        c for c in document["campaigns"] if "patient-transport" not in c["roles"]
    ]

    refused = client.put(
        f"{URL}/configuration",
        json=document,
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
    )

    assert refused.status_code == 409
    assert "'community-hub'" in refused.json["detail"]
    assert "patient-transport" in refused.json["detail"]
    after = client.get(f"{URL}/configuration", headers=admin.headers)
    assert after.json == current.json


def test_a_role_naming_an_unknown_team_is_refused_with_the_path() -> None:
    document = read("demo-borough.yaml")
    document["roles"][0]["posted_by_teams"] = ["community-hub", "a-and-e"]
    document["teams"].append({"key": "community-hub", "name": "Again"})

    with pytest.raises(services.InvalidConfiguration) as caught:
        services.load_document(document)

    assert set(caught.value.lines) == {
        "roles.0.posted_by_teams.1: Role 'shopping' names 'a-and-e', which is not defined "
        "under teams in this file.",
        "teams.3.key: Key 'community-hub' is used twice in teams.",
    }
    assert caught.value.status == 422


def test_roles_posted_by_teams_change_through_the_roles_api(
    client: FlaskClient, borough: Any, admin: Person
) -> None:
    url = f"{URL}/roles/{role_id(client, admin, 'befriending')}"
    etag = client.get(url, headers=admin.headers).headers["ETag"]
    unknown = client.patch(
        url, json={"posted_by_teams": ["no-such-team"]}, headers={**admin.headers, "If-Match": etag}
    )
    assert unknown.status_code == 422 and "no-such-team" in str(unknown.json["errors"])
    changed = client.patch(
        url,
        json={"posted_by_teams": ["community-hub", "adult-social-care"]},
        headers={**admin.headers, "If-Match": etag},
    )
    assert changed.status_code == 200
    assert changed.json["posted_by_teams"] == ["adult-social-care", "community-hub"]
    # Only the link rows changed, but it is a change: the old ETag is stale.
    stale = client.patch(
        url, json={"posted_by_teams": []}, headers={**admin.headers, "If-Match": etag}
    )
    assert stale.status_code == 412
    new_role = {
        "key": "hospital-visits",
        "name": "Hospital visitor",
        "description": "Visit patients who have nobody to visit them.",
        "posted_by_teams": ["hospital-discharge"],
    }
    created = client.post(f"{URL}/roles", json=new_role, headers=admin.headers)
    assert created.status_code == 201 and created.json["posted_by_teams"] == ["hospital-discharge"]


# -- members in teams -------------------------------------------------------------------------


def test_an_admin_puts_a_member_in_teams(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    ben = world.person(borough, Role.PROFESSIONAL)
    assert client.get(member_url(ben), headers=admin.headers).json["teams"] == []

    done = set_teams(client, admin, ben, "community-hub", "adult-social-care")

    assert done.status_code == 200
    assert done.json["teams"] == ["adult-social-care", "community-hub"]  # the file's order
    listed = client.get(f"{URL}/members?team=community-hub", headers=admin.headers).json
    assert [m["id"] for m in listed] == [done.json["id"]]
    assert client.get(f"{URL}/members?team=hospital-discharge", headers=admin.headers).json == []
    # The team change is a change of the record: an ETag read before it is stale.
    old_etag = client.get(member_url(ben), headers=admin.headers).headers["ETag"]
    assert set_teams(client, admin, ben).json["teams"] == []
    stale = client.patch(
        member_url(ben),
        json={"teams": ["community-hub"]},
        headers={**admin.headers, "If-Match": old_etag},
    )
    assert stale.status_code == 412


def test_unknown_team_keys_are_a_clear_422_and_change_nothing(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    ben = professional(client, world, borough, admin, "community-hub")
    for teams, message in (
        (["community-hub", "a-and-e"], "'a-and-e'"),
        (["community-hub", "community-hub"], "more than once"),
        (["Community Hub"], "lowercase key"),
    ):
        response = set_teams(client, admin, ben, *teams)
        assert response.status_code == 422, teams
        assert response.content_type == "application/problem+json"
        assert message in str(response.json), (teams, response.json)
        assert "teams" in str(response.json["errors"])
    assert client.get(member_url(ben), headers=admin.headers).json["teams"] == ["community-hub"]


def test_only_admins_set_teams(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    ben = world.person(borough, Role.PROFESSIONAL)
    coordinator = world.person(borough, Role.COORDINATOR)
    etag = client.get(member_url(ben), headers=coordinator.headers).headers["ETag"]
    refused = client.patch(
        member_url(ben),
        json={"teams": ["community-hub"]},
        headers={**coordinator.headers, "If-Match": etag},
    )
    assert refused.status_code == 403
    own = client.patch(
        member_url(ben),
        json={"teams": ["community-hub"]},
        headers={**ben.headers, "If-Match": etag},
    )
    assert own.status_code == 403


def test_another_tenants_teams_and_members_are_unknown(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    with app.app_context():
        kommune, _ = services.apply(db.session(), read("demo-kommune.yaml"))
        db.session.commit()
    ben = world.person(borough, Role.PROFESSIONAL)
    # The kommune's team key means nothing in the borough.
    response = set_teams(client, admin, ben, "hjemmetjenesten")
    assert response.status_code == 422 and "'hjemmetjenesten'" in response.json["detail"]
    # The kommune's member is not found from the borough, with or without a body.
    sofie = world.person(kommune, Role.PROFESSIONAL)
    assert sofie.membership is not None
    foreign = f"{URL}/members/{sofie.membership.id}"
    assert client.get(foreign, headers=admin.headers).status_code == 404
    patched = client.patch(
        foreign, json={"teams": ["community-hub"]}, headers={**admin.headers, "If-Match": "*"}
    )
    assert patched.status_code == 404
    kommune_teams = client.get("/api/v1/tenants/demo-kommune/teams", headers=sofie.headers).json
    assert [t["key"] for t in kommune_teams] == [
        "hjemmetjenesten",
        "tildelingskontoret",
        "frivilligsentralen",
    ]
    assert (
        client.get("/api/v1/tenants/demo-kommune/teams", headers=admin.headers).status_code == 404
    )


# -- who may post a task in a role -------------------------------------------------------------


def test_only_the_listed_teams_post_a_restricted_role(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    social_worker = professional(client, world, borough, admin, "adult-social-care")
    no_team = professional(client, world, borough, admin)

    for person in (social_worker, no_team):
        refused = post(client, person, "patient-transport")
        assert refused.status_code == 403
        assert refused.content_type == "application/problem+json"
        detail = refused.json["detail"]
        assert "'patient-transport'" in detail
        assert "hospital-discharge, community-hub" in detail
        assert refused.json["errors"]["teams"] == ["hospital-discharge", "community-hub"]
    # Nothing was written.
    assert client.get(f"{URL}/tasks", headers=admin.headers).json == []

    discharge_nurse = professional(client, world, borough, admin, "hospital-discharge")
    hub_worker = professional(client, world, borough, admin, "adult-social-care", "community-hub")
    for person in (discharge_nurse, hub_worker):
        posted = post(client, person, "patient-transport")
        assert posted.status_code == 201, posted.json
        assert posted.json["role"] == "patient-transport"

    # Joining a listed team takes effect at once.
    assert set_teams(client, admin, social_worker, "community-hub").status_code == 200
    assert post(client, social_worker, "patient-transport").status_code == 201


def test_unrestricted_roles_are_open_to_every_professional(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    no_team = professional(client, world, borough, admin)
    other_team = professional(client, world, borough, admin, "adult-social-care")
    for person in (no_team, other_team):
        for role in ("shopping", "prescriptions", "escort"):
            assert post(client, person, role).status_code == 201, (role, person)


def test_coordinators_and_admins_may_always_post(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    for person in (coordinator, admin):
        for role in ("patient-transport", "home-from-hospital"):
            posted = post(client, person, role)
            assert posted.status_code == 201, (role, posted.json)


def test_the_posting_rule_does_not_let_takers_post(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    # Being in a team gives no right to post to someone whose role cannot post at all.
    staff = world.person(borough, Role.STAFF)
    assert set_teams(client, admin, staff, "hospital-discharge").status_code == 200
    refused = post(client, staff, "home-from-hospital")
    assert refused.status_code == 403
    assert refused.json["detail"] == "Your role does not allow this."
