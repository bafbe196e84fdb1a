"""The audit trail: every change to an audited record with its values before and after,
every read of a client record, who did it and from which request; admins alone read it,
per tenant; on PostgreSQL the app itself cannot alter it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.exc import DBAPIError

from nyby.auth.permissions import Role
from nyby.core.db import UTCDateTime, db, utcnow
from nyby.tasks.services import expire_overdue_tasks
from nyby.tenancy.context import tenant_scope
from tests.checking import apply_for, confirm_email
from tests.conftest import Person, World
from tests.tasking import TASKS, post_task, volunteer

API = "/api/v1/tenants/borough"
AUDIT = f"{API}/audit"


@pytest.fixture
def admin(world: World, borough: Any) -> Person:
    return world.person(borough, Role.ADMIN)


def trail(
    client: FlaskClient, admin: Person, slug: str = "borough", **filters: Any
) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/v1/tenants/{slug}/audit",
        query_string={"page_size": 100, **filters},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def changes(entry: dict[str, Any]) -> dict[str, list[Any]]:
    return {c["field"]: [c["before"], c["after"]] for c in entry["changes"]}


def member_id(person: Person) -> str:
    assert person.membership is not None
    return str(person.membership.id)


def test_a_client_created_then_changed_shows_both_with_who_and_which_request(
    client: FlaskClient, nurse: Person, admin: Person
) -> None:
    created = client.post(
        f"{API}/clients",
        json={
            "name": "Edith Clark",
            "phone": "+44 20 7946 0000",
            "latitude": 51.5,
            "longitude": -0.14,
        },
        headers={**nurse.headers, "X-Request-ID": "req-create-edith"},
    )
    assert created.status_code == 201
    assert created.headers["X-Request-ID"] == "req-create-edith"
    edith = created.json
    shown = client.get(f"{API}/clients/{edith['id']}", headers=nurse.headers)
    changed = client.patch(
        f"{API}/clients/{edith['id']}",
        json={"name": "Edith M. Clark", "pets": True},
        headers={**nurse.headers, "If-Match": shown.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.json

    entries = trail(client, admin, object_type="client", object_id=edith["id"])
    # Newest first: the change (the PATCH shows the record too: a read), the GET, the creation.
    assert [e["action"] for e in entries] == ["update", "read", "read", "create"]
    update, _, _, create = entries
    assert create["request_id"] == "req-create-edith"
    assert changes(create)["name"] == [None, "Edith Clark"]
    assert changes(create)["phone"] == [None, "+44 20 7946 0000"]
    assert changes(update) == {"name": ["Edith Clark", "Edith M. Clark"], "pets": [False, True]}
    assert update["request_id"] == changed.headers["X-Request-ID"] != "req-create-edith"
    for entry in entries:
        assert entry["actor_membership_id"] == member_id(nurse)
        assert entry["actor_account_id"] == str(nurse.account.id)
        assert entry["actor_name"] == "Test Person"
    # Bookkeeping is not a change.
    assert not {"version_id", "updated_at", "tenant_id"} & changes(update).keys()
    # The responsible professional is a link row of its own.
    [link] = trail(client, admin, object_type="client_professional")
    assert link["object_id"] == f"{edith['id']}/{member_id(nurse)}"


def test_a_refused_change_leaves_no_audit_row(
    client: FlaskClient, nurse: Person, admin: Person
) -> None:
    edith = client.post(
        f"{API}/clients",
        json={"name": "Edith Clark", "latitude": 51.5, "longitude": -0.14},
        headers=nurse.headers,
    )
    url = f"{API}/clients/{edith.json['id']}"
    shown = client.get(url, headers=nurse.headers)
    refused = client.patch(
        url,
        json={"status": "ended"},  # no reason given: 422
        headers={**nurse.headers, "If-Match": shown.headers["ETag"]},
    )
    assert refused.status_code == 422
    assert [e["action"] for e in trail(client, admin, object_type="client")] == ["read", "create"]


def test_a_tasks_life_is_audited_step_by_step_including_the_conditional_updates(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person, admin: Person
) -> None:
    task = post_task(client, nurse).json
    amy = volunteer(app, World(app), borough)
    assert client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers).status_code == 200
    assert client.post(f"{TASKS}/{task['id']}/start", headers=amy.headers).status_code == 200
    done = client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"minutes_spent": 50, "outcome_note": "All delivered."},
        headers=amy.headers,
    )
    assert done.status_code == 200, done.json

    entries = trail(client, admin, object_type="task", object_id=task["id"])
    assert [e["action"] for e in entries] == ["update", "update", "update", "create"]
    completed, started, taken, posted = entries
    assert posted["actor_membership_id"] == member_id(nurse)
    assert changes(posted)["title"] == [None, "Weekly shop"]
    assert changes(posted)["status"] == [None, "open"]
    assert taken["actor_membership_id"] == member_id(amy)
    assert changes(taken)["status"] == ["open", "assigned"]
    assert changes(taken)["assignee_id"] == [None, member_id(amy)]
    assert changes(started)["status"] == ["assigned", "in_progress"]
    assert changes(completed)["status"] == ["in_progress", "completed"]
    assert changes(completed)["minutes_spent"] == [None, 50]
    assert changes(completed)["outcome_note"] == ["", "All delivered."]


def test_a_lost_race_writes_no_audit_row(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person, admin: Person
) -> None:
    task = post_task(client, nurse).json
    amy, ben = volunteer(app, World(app), borough), volunteer(app, World(app), borough)
    assert client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers).status_code == 200
    assert client.post(f"{TASKS}/{task['id']}/accept", headers=ben.headers).status_code == 409
    taken = trail(client, admin, object_type="task", action="update")
    assert [e["actor_membership_id"] for e in taken] == [member_id(amy)]


def test_a_job_names_itself_and_no_person(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person, admin: Person
) -> None:
    task = post_task(client, nurse, due_by=(utcnow() + timedelta(hours=2)).isoformat()).json
    with app.app_context(), tenant_scope(borough.id):
        # Straight to the table: this set-up is not a change anyone made.
        db.session.execute(
            text("UPDATE tasks SET due_by = :past WHERE id = :id").bindparams(
                bindparam("past", type_=UTCDateTime()), bindparam("id", type_=Uuid())
            ),
            {"past": utcnow() - timedelta(minutes=1), "id": uuid.UUID(task["id"])},
        )
        db.session.commit()
    with app.app_context():
        expire_overdue_tasks(str(borough.id))
    [expired] = trail(client, admin, object_id=task["id"], action="update")
    assert expired["job"] == "expire_overdue_tasks"
    assert expired["actor_membership_id"] is None and expired["actor_account_id"] is None
    assert expired["request_id"] is None
    assert changes(expired)["status"] == ["open", "expired"]


def test_members_role_assignments_checks_and_configuration_are_audited(
    app: Flask, client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    amy = world.person(borough, Role.VOLUNTEER)
    confirm_email(app, amy)
    apply_for(app, borough, amy, "shopper")
    url = f"{API}/members/{member_id(amy)}"
    verified = client.post(
        f"{url}/check-outcomes",
        json={"check_type": "dbs-basic", "status": "verified"},
        headers=coordinator.headers,
    )
    assert verified.status_code == 200, verified.json
    approved = client.post(
        f"{url}/role-decisions",
        json={"role": "shopper", "status": "approved"},
        headers=coordinator.headers,
    )
    assert approved.status_code == 200, approved.json
    member = client.get(url, headers=admin.headers)
    promoted = client.patch(
        url,
        json={"roles": ["volunteer", "staff"]},
        headers={**admin.headers, "If-Match": member.headers["ETag"]},
    )
    assert promoted.status_code == 200, promoted.json
    current = client.get(f"{API}/configuration", headers=admin.headers)
    document = current.json
    document["roles"][0]["name"] = "Food shopping"
    document["dispatch_policy"] = {**document.get("dispatch_policy", {}), "wave_size": 7}
    replaced = client.put(
        f"{API}/configuration",
        json=document,
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert replaced.status_code == 200, replaced.json

    [check] = trail(client, admin, object_type="check_record", action="create")
    assert check["actor_membership_id"] == member_id(coordinator)
    assert changes(check)["status"][1] == "verified"
    [decision] = trail(client, admin, object_type="role_assignment", action="update")
    assert changes(decision)["status"] == ["applied", "approved"]
    assert decision["actor_membership_id"] == member_id(coordinator)
    [roles] = trail(client, admin, object_type="membership", object_id=member_id(amy))[:1]
    assert changes(roles)["is_staff"] == [False, True]
    assert roles["actor_membership_id"] == member_id(admin)
    [renamed] = trail(client, admin, object_type="volunteer_role", action="update")
    assert changes(renamed)["name"] == ["Shopper", "Food shopping"]
    policy = trail(client, admin, object_type="tenant", action="update")[0]
    assert changes(policy)["dispatch_policy"][1]["wave_size"] == 7
    assert policy["object_id"] == str(borough.id)
    # The tenant's creation (outside any request) is its own first row.
    [created] = trail(client, admin, object_type="tenant", action="create")
    assert changes(created)["slug"] == [None, "borough"] and created["actor_account_id"] is None


def test_secrets_never_reach_the_trail(client: FlaskClient, borough: Any, admin: Person) -> None:
    invited = client.post(
        f"{API}/invitations",
        json={"email": "nadia@example.org", "name": "Nadia Staff", "roles": ["staff"]},
        headers=admin.headers,
    )
    assert invited.status_code == 201, invited.json
    [entry] = trail(client, admin, object_type="invitation")
    assert "token_hash" not in changes(entry)
    assert changes(entry)["email"] == [None, "nadia@example.org"]


def test_a_client_read_is_recorded_once_per_request_with_the_reader(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    task = post_task(client, nurse).json
    edith = task["client_id"]
    coordinator = world.person(borough, Role.COORDINATOR)
    assert client.get(f"{API}/clients/{edith}", headers=coordinator.headers).status_code == 200
    web = app.test_client()
    with web.session_transaction() as session:
        session["account_id"] = str(coordinator.account.id)
    assert web.get(f"/t/borough/clients/{edith}").status_code == 200
    reads = trail(client, admin, object_id=edith, action="read")
    assert [e["actor_membership_id"] for e in reads] == [member_id(coordinator)] * 2
    assert reads[0]["request_id"] != reads[1]["request_id"]

    # A volunteer browsing the open task sees no client details: nothing is read.
    amy = volunteer(app, world, borough)
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).json["client"] is None
    assert len(trail(client, admin, object_id=edith, action="read")) == 2
    # Holding it, they are shown the client's details: one read, theirs.
    client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    shown = client.get(f"{TASKS}/{task['id']}", headers=amy.headers).json
    assert shown["client"]["address"] == "12 Example Road"
    newest = trail(client, admin, object_id=edith, action="read")[0]
    assert newest["actor_membership_id"] == member_id(amy)
    assert len(trail(client, admin, object_id=edith, action="read", actor=member_id(amy))) == 2


def test_only_admins_read_the_trail(
    client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    for role in (Role.COORDINATOR, Role.PROFESSIONAL, Role.VOLUNTEER, Role.STAFF):
        person = world.person(borough, role)
        refused = client.get(AUDIT, headers=person.headers)
        assert refused.status_code == 403, role
        assert refused.json["status"] == 403
    outsider = world.person(None)
    assert client.get(AUDIT, headers=outsider.headers).status_code == 404
    assert client.get(AUDIT).status_code == 401


def test_another_tenants_rows_never_appear(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    other = world.tenant("other")
    other_admin = world.person(other, Role.ADMIN)
    other_nurse = world.person(other, Role.PROFESSIONAL)
    theirs = client.post(
        "/api/v1/tenants/other/clients",
        json={"name": "Olga Other", "latitude": 51.5, "longitude": -0.14},
        headers=other_nurse.headers,
    ).json
    ours = client.post(
        f"{API}/clients",
        json={"name": "Edith Clark", "latitude": 51.5, "longitude": -0.14},
        headers=nurse.headers,
    ).json
    seen = trail(client, admin)
    assert seen and all(e["object_id"] != theirs["id"] for e in seen)
    assert ours["id"] in {e["object_id"] for e in seen}
    assert trail(client, admin, object_id=theirs["id"]) == []
    assert theirs["id"] in {
        e["object_id"] for e in trail(client, other_admin, "other", object_type="client")
    }
    # Our admin asking for the other tenant's trail: the same 404 as an unknown tenant.
    refused = client.get("/api/v1/tenants/other/audit", headers=admin.headers)
    unknown = client.get("/api/v1/tenants/nowhere/audit", headers=admin.headers)
    assert refused.status_code == unknown.status_code == 404


def test_filters_narrow_the_trail_and_bad_ones_are_422(
    client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    before = utcnow()
    edith = client.post(
        f"{API}/clients",
        json={"name": "Edith Clark", "latitude": 51.5, "longitude": -0.14},
        headers=nurse.headers,
    ).json
    client.get(f"{API}/clients/{edith['id']}", headers=admin.headers)
    after = utcnow()

    assert {e["action"] for e in trail(client, admin, object_type="client")} == {"create", "read"}
    assert [e["actor_membership_id"] for e in trail(client, admin, action="read")] == [
        member_id(admin)
    ]
    by_nurse = trail(client, admin, actor=member_id(nurse))
    assert by_nurse and {e["actor_membership_id"] for e in by_nurse} == {member_id(nurse)}
    window = trail(client, admin, since=before.isoformat(), until=after.isoformat())
    assert {e["object_type"] for e in window} == {"client", "client_professional"}
    assert trail(client, admin, until=before.isoformat(), object_type="client") == []
    paged = client.get(AUDIT, query_string={"page_size": 1}, headers=admin.headers)
    assert len(paged.json) == 1 and paged.headers["X-Pagination"]

    for bad, field in (
        ({"object_type": "spaceship"}, "object_type"),
        ({"actor": "not-an-id"}, "actor"),
        ({"since": after.isoformat(), "until": before.isoformat()}, "until"),
        ({"since": "yesterday"}, "since"),
    ):
        refused = client.get(AUDIT, query_string=bad, headers=admin.headers)
        assert refused.status_code == 422, bad
        assert field in str(refused.json["errors"]), refused.json


def test_the_app_role_cannot_change_or_remove_audit_rows(
    app: Flask, client: FlaskClient, borough: Any, nurse: Person, admin: Person
) -> None:
    client.post(
        f"{API}/clients",
        json={"name": "Edith Clark", "latitude": 51.5, "longitude": -0.14},
        headers=nurse.headers,
    )
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("append-only is enforced by PostgreSQL grants (CI's PostgreSQL leg)")
        for statement in (
            "UPDATE audit_entries SET action = 'forged'",
            "DELETE FROM audit_entries",
            "TRUNCATE audit_entries",
        ):
            with tenant_scope(borough.id):
                with pytest.raises(DBAPIError, match="permission denied"):
                    db.session.execute(text(statement))
                db.session.rollback()
        with tenant_scope(borough.id):
            # Adding and reading stay allowed: that is how the trail is written.
            count = db.session.execute(text("SELECT count(*) FROM audit_entries")).scalar()
            db.session.rollback()
    assert count and count == len(trail(client, admin))


def test_the_admins_page_filters_and_says_what_changed(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person, admin: Person
) -> None:
    edith = client.post(
        f"{API}/clients",
        json={"name": "Edith Clark", "latitude": 51.5, "longitude": -0.14},
        headers=nurse.headers,
    ).json

    def browser(person: Person) -> FlaskClient:
        web = app.test_client()
        with web.session_transaction() as session:
            session["account_id"] = str(person.account.id)
        return web

    page = browser(admin).get(f"/t/borough/audit?object_type=client&object_id={edith['id']}")
    assert page.status_code == 200
    assert "Audit trail" in page.text and "Edith Clark" in page.text
    assert f'href="/t/borough/audit?actor={member_id(nurse)}"' in page.text
    assert "/t/borough/audit" in browser(admin).get("/t/borough/").text  # in the menu
    refused = browser(admin).get("/t/borough/audit?until=nonsense")
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    assert (
        browser(world.person(borough, Role.COORDINATOR)).get("/t/borough/audit").status_code == 403
    )


def test_deletions_keep_what_was_deleted_and_a_campaigns_visits_are_no_change(
    client: FlaskClient, world: World, borough: Any, admin: Person
) -> None:
    nurse = world.person(borough, Role.PROFESSIONAL)
    member = client.get(f"{API}/members/{member_id(nurse)}", headers=admin.headers)
    joined = client.patch(
        f"{API}/members/{member_id(nurse)}",
        json={"teams": ["hospital-discharge"]},
        headers={**admin.headers, "If-Match": member.headers["ETag"]},
    )
    assert joined.status_code == 200, joined.json
    current = client.get(f"{API}/configuration", headers=admin.headers)
    document = {**current.json, "teams": []}
    dropped = client.put(
        f"{API}/configuration",
        json=document,
        headers={**admin.headers, "If-Match": current.headers["ETag"]},
    )
    assert dropped.status_code == 200, dropped.json
    [team] = trail(client, admin, object_type="team", action="delete")
    assert changes(team)["key"] == ["hospital-discharge", None]
    assert team["actor_membership_id"] == member_id(admin)
    # The member taken out of it (a bulk DELETE) is recorded row by row as well.
    [left] = trail(client, admin, object_type="membership_team", action="delete")
    assert left["object_id"].startswith(member_id(nurse))

    campaign = client.post(
        f"{API}/campaigns",
        json={"key": "drivers", "name": "Drivers", "roles": ["shopper"], "starts_on": "2026-01-01"},
        headers=admin.headers,
    )
    assert campaign.status_code == 201, campaign.json
    landing = client.get(f"{API}/campaigns/by-key/drivers/landing")
    assert landing.status_code == 200, landing.json
    entries = trail(client, admin, object_type="campaign")
    assert [e["action"] for e in entries] == ["create"]
    assert changes(entries[0])["name"] == [None, "Drivers"] and "visits" not in changes(entries[0])
