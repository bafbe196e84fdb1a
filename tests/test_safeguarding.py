"""Safeguarding concerns through the API: raised from a task or a client, they reach
only the tenant's safeguarding leads, whose notes and outcome the raiser never sees."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db
from nyby.notifications.models import Notification, OutgoingMail
from nyby.safeguarding.models import SafeguardingConcern
from nyby.tenancy.context import tenant_scope
from tests.caring import API, make_lead, taken_task
from tests.conftest import Person, World, run_jobs
from tests.tasking import post_task

CONCERNS = f"{API}/concerns"
WORDS = "Bruises on her arms again; she said her nephew 'borrows' her bank card."


def concerns_stored(app: Flask, tenant: Any) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(SafeguardingConcern)) or 0


def notices(app: Flask, tenant: Any, person: Person) -> list[Notification]:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        return list(
            db.session.scalars(
                select(Notification).where(Notification.recipient_id == person.membership.id)
            )
        )


def test_a_concern_from_a_task_reaches_only_the_leads(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    lead = world.person(borough, Role.COORDINATOR)
    make_lead(app, borough, lead)
    other_coordinator = world.person(borough, Role.COORDINATOR)
    admin = world.person(borough, Role.ADMIN)
    # Leads choose their channels like anyone: this one gets email too (the default).
    raised = client.post(
        CONCERNS,
        json={"task_id": task["id"], "category": "financial", "description": WORDS},
        headers=amy.headers,
    )
    assert raised.status_code == 201, raised.json
    concern = raised.json
    assert concern["status"] == "open"
    assert concern["client_id"] == task["client_id"]  # about the task's client
    assert "outcome" not in concern  # the raiser's view

    # The lead is told at once, with a link, and never the concern's words.
    [told] = notices(app, borough, lead)
    assert told.kind == "concern_raised"
    assert told.params["link"].endswith(f"/t/borough/concerns/{concern['id']}")
    inbox = client.get(f"{API}/notifications", headers=lead.headers).json
    assert WORDS not in str(inbox) and "bank card" not in str(inbox)
    run_jobs(app)
    with app.app_context(), tenant_scope(borough.id):
        mails = db.session.scalars(
            select(OutgoingMail).where(OutgoingMail.kind == "concern_raised")
        ).all()
    assert [m.to_address for m in mails] == [lead.account.email]
    assert "bank card" not in mails[0].body and concern["id"] in mails[0].body
    # Nobody else is told, and for nobody else does it exist.
    for person in (other_coordinator, admin, nurse):
        assert all(not n.kind.startswith("concern") for n in notices(app, borough, person))
        seen = client.get(f"{CONCERNS}/{concern['id']}", headers=person.headers)
        assert seen.status_code == 404, seen.json
        assert client.get(CONCERNS, headers=person.headers).json == []
        notes = client.get(f"{CONCERNS}/{concern['id']}/notes", headers=person.headers)
        assert notes.status_code == 404

    # The lead reads it whole, with who raised it and about whom.
    read = client.get(f"{CONCERNS}/{concern['id']}", headers=lead.headers)
    assert read.status_code == 200
    assert read.json["description"] == WORDS
    assert read.json["raised_by_name"] == amy.account.name
    assert read.json["client_name"] == "Edith Clark"
    assert [c["id"] for c in client.get(CONCERNS, headers=lead.headers).json] == [concern["id"]]

    # The lead works on it: a note, then referred, then closed with an outcome.
    note = client.post(
        f"{CONCERNS}/{concern['id']}/notes",
        json={"body": "Called adult social care duty desk."},
        headers=lead.headers,
    )
    assert note.status_code == 201
    etag = client.get(f"{CONCERNS}/{concern['id']}", headers=lead.headers).headers["ETag"]
    referred = client.patch(
        f"{CONCERNS}/{concern['id']}",
        json={"status": "referred"},
        headers={**lead.headers, "If-Match": etag},
    )
    assert referred.status_code == 200 and referred.json["status"] == "referred"
    no_outcome = client.patch(
        f"{CONCERNS}/{concern['id']}",
        json={"status": "closed"},
        headers={**lead.headers, "If-Match": referred.headers["ETag"]},
    )
    assert no_outcome.status_code == 422
    assert "outcome" in no_outcome.json["errors"]
    closed = client.patch(
        f"{CONCERNS}/{concern['id']}",
        json={"status": "closed", "outcome": "Section 42 enquiry opened by the council."},
        headers={**lead.headers, "If-Match": referred.headers["ETag"]},
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["status_changed_by_name"] == lead.account.name

    # The raiser sees the status and that there is news, not the notes or outcome.
    mine = client.get(f"{CONCERNS}/{concern['id']}", headers=amy.headers).json
    assert mine["status"] == "closed"
    assert "outcome" not in mine and "Section 42" not in str(mine)
    assert {n.kind for n in notices(app, borough, amy)} >= {"concern_updated"}
    assert client.get(f"{CONCERNS}/{concern['id']}/notes", headers=amy.headers).status_code == 403
    refused = client.patch(
        f"{CONCERNS}/{concern['id']}",
        json={"status": "open"},
        headers={**amy.headers, "If-Match": "*"},
    )
    assert refused.status_code == 403
    assert [c["id"] for c in client.get(CONCERNS, headers=amy.headers).json] == [concern["id"]]


def test_a_concern_about_a_client_and_the_lead_flag_set_by_an_admin(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    admin = world.person(borough, Role.ADMIN)
    coordinator = world.person(borough, Role.COORDINATOR)
    assert coordinator.membership is not None
    member_url = f"{API}/members/{coordinator.membership.id}"
    etag = client.get(member_url, headers=admin.headers).headers["ETag"]
    # Only admins name leads.
    assert (
        client.patch(
            member_url,
            json={"is_safeguarding_lead": True},
            headers={**coordinator.headers, "If-Match": etag},
        ).status_code
        == 403
    )
    named = client.patch(
        member_url, json={"is_safeguarding_lead": True}, headers={**admin.headers, "If-Match": etag}
    )
    assert named.status_code == 200 and named.json["is_safeguarding_lead"] is True
    task = post_task(client, nurse).json
    raised = client.post(
        CONCERNS,
        json={
            "client_id": task["client_id"],
            "category": "self_neglect",
            "description": "No food in the house.",
            "occurred_at": "2025-03-01T10:00:00+00:00",
        },
        headers=nurse.headers,
    )
    assert raised.status_code == 201, raised.json
    told = [n.kind for n in notices(app, borough, coordinator) if n.kind.startswith("concern")]
    assert told == ["concern_raised"]
    assert client.get(CONCERNS, headers=coordinator.headers).json[0]["task_id"] is None


def test_with_no_lead_the_concern_is_kept_and_the_admins_are_asked_to_name_one(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    admin = world.person(borough, Role.ADMIN)
    task = post_task(client, nurse).json
    raised = client.post(
        CONCERNS,
        json={"task_id": task["id"], "category": "neglect", "description": "Cold house."},
        headers=nurse.headers,
    )
    assert raised.status_code == 201
    told = [n.kind for n in notices(app, borough, admin) if n.kind.startswith("concern")]
    assert told == ["concern_no_lead"]
    # Admins are not leads by being admins: they still cannot read it.
    assert client.get(f"{CONCERNS}/{raised.json['id']}", headers=admin.headers).status_code == 404


def test_bad_concerns_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task = post_task(client, nurse).json
    stranger = world.person(borough, Role.VOLUNTEER)
    cases = [
        ({"category": "neglect", "description": "x"}, nurse, 422),  # about nobody
        (
            {"task_id": task["id"], "client_id": task["client_id"], "category": "neglect",
             "description": "x"},
            nurse,
            422,
        ),
        ({"task_id": task["id"], "category": "gossip", "description": "x"}, nurse, 422),
        ({"task_id": task["id"], "category": "neglect", "description": ""}, nurse, 422),
        (
            {"task_id": task["id"], "category": "neglect", "description": "x",
             "occurred_at": "2999-01-01T00:00:00+00:00"},
            nurse,
            422,
        ),
        # A volunteer may not raise one about a client's record they cannot see...
        ({"client_id": task["client_id"], "category": "neglect", "description": "x"}, stranger,
         404),
    ]  # fmt: skip
    for body, who, status in cases:
        answer = client.post(CONCERNS, json=body, headers=who.headers)
        assert answer.status_code == status, (body, answer.json)
        assert answer.json["status"] == status
    assert concerns_stored(app, borough) == 0


def test_another_tenants_concern_is_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    lead = world.person(borough, Role.COORDINATOR)
    make_lead(app, borough, lead)
    task = post_task(client, nurse).json
    concern = client.post(
        CONCERNS,
        json={"task_id": task["id"], "category": "neglect", "description": "Cold house."},
        headers=nurse.headers,
    ).json
    other = world.tenant("elsewhere")
    their_lead = world.person(other, Role.ADMIN, Role.COORDINATOR)
    make_lead(app, other, their_lead)
    there = f"/api/v1/tenants/elsewhere/concerns/{concern['id']}"
    assert client.get(there, headers=their_lead.headers).status_code == 404
    assert client.get(f"{there}/notes", headers=their_lead.headers).status_code == 404
    assert client.get("/api/v1/tenants/elsewhere/concerns", headers=their_lead.headers).json == []
    # Nor through this tenant's address: they are not a member here.
    here = client.get(f"{CONCERNS}/{concern['id']}", headers=their_lead.headers)
    assert here.status_code == 404


def test_the_audit_trail_records_a_concern_without_its_words(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    """Admins read the audit trail but not concerns: the trail says who raised, noted and
    closed it and that its words changed, never the words themselves."""
    task, amy = taken_task(app, client, world, borough, nurse)
    lead = world.person(borough, Role.COORDINATOR)
    make_lead(app, borough, lead)
    admin = world.person(borough, Role.ADMIN)
    concern = client.post(
        CONCERNS,
        json={"task_id": task["id"], "category": "financial", "description": WORDS},
        headers=amy.headers,
    ).json
    url = f"{CONCERNS}/{concern['id']}"
    note = client.post(f"{url}/notes", json={"body": "Rang her nephew's bank."},
                       headers=lead.headers)  # fmt: skip
    assert note.status_code == 201
    etag = client.get(url, headers=lead.headers).headers["ETag"]
    closed = client.patch(
        url,
        json={"status": "closed", "outcome": "Bank card cancelled with her."},
        headers={**lead.headers, "If-Match": etag},
    )
    assert closed.status_code == 200, closed.json

    def trail(object_type: str) -> list[dict[str, Any]]:
        answer = client.get(
            f"{API}/audit", query_string={"object_type": object_type}, headers=admin.headers
        )
        assert answer.status_code == 200
        return answer.json  # type: ignore[no-any-return]

    concern_rows, note_rows = trail("safeguarding_concern"), trail("concern_note")
    shown = str(concern_rows) + str(note_rows)
    for words in ("bank card", "Bruises", "nephew", "cancelled"):
        assert words not in shown, words
    updated, created = concern_rows
    fields = {c["field"]: [c["before"], c["after"]] for c in created["changes"]}
    assert fields["description"] == [None, "(withheld)"]
    assert fields["category"] == [None, "financial"]  # what is not withheld stays readable
    assert created["actor_membership_id"] == str(amy.membership.id)  # type: ignore[union-attr]
    fields = {c["field"]: [c["before"], c["after"]] for c in updated["changes"]}
    assert fields["status"] == ["open", "closed"]
    assert fields["outcome"] == ["", "(withheld)"]
    assert updated["actor_membership_id"] == str(lead.membership.id)  # type: ignore[union-attr]
    [noted] = note_rows
    assert {c["field"]: c["after"] for c in noted["changes"]}["body"] == "(withheld)"
    # The admins' page says the same.
    web = app.test_client()
    with web.session_transaction() as session:
        session["account_id"] = str(admin.account.id)
    page = web.get("/t/borough/audit?object_type=safeguarding_concern")
    assert page.status_code == 200 and "(withheld)" in page.text
    assert "bank card" not in page.text.lower() and "cancelled" not in page.text
    # The lead still reads them whole.
    assert client.get(url, headers=lead.headers).json["outcome"] == "Bank card cancelled with her."
