"""Failed contact and the escalation queue through the API: three failed contacts
escalate a task and a coordinator reassigns it; the other actions; bad input; two
coordinators at once; the Nth attempt twice at once; another tenant's 404s; the pages."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db
from nyby.escalations.models import ContactAttempt, Escalation
from nyby.notifications.models import Notification
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World, all_at_once
from tests.tasking import TASKS, post_task, volunteer
from tests.test_task_chat import set_support, taken_task
from tests.test_web_tasks import csrf, signed_in

API = "/api/v1/tenants/borough"


def no_answer(client: FlaskClient, person: Person, task_id: str, method: str = "door") -> Any:
    return client.post(
        f"{TASKS}/{task_id}/contact-attempts",
        json={"method": method, "note": "Rang twice, curtains drawn"},
        headers=person.headers,
    )


def kinds(app: Flask, tenant: Tenant, person: Person) -> list[str]:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        return list(
            db.session.scalars(
                select(Notification.kind)
                .where(Notification.recipient_id == person.membership.id)
                .order_by(Notification.created_at)
            )
        )


def counts(app: Flask, tenant: Tenant) -> tuple[int, int]:
    """(contact attempts, escalations) stored."""
    with app.app_context(), tenant_scope(tenant.id):
        attempts = db.session.scalar(select(func.count()).select_from(ContactAttempt)) or 0
        escalations = db.session.scalar(
            select(func.count()).where(Escalation.reason == "failed_contact")
        )
        return attempts, escalations or 0


def escalated(app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person) -> Any:
    """A task Amy holds, escalated after three failed contacts; (task, amy, coordinator,
    escalation)."""
    coordinator = world.person(borough, Role.COORDINATOR)
    task, amy = taken_task(app, client, world, borough, nurse)
    for method in ("door", "phone", "door"):
        assert no_answer(client, amy, task["id"], method).status_code == 201
    [escalation] = [
        e
        for e in client.get(f"{API}/escalations", headers=coordinator.headers).json
        if e["reason"] == "failed_contact"
    ]
    return task, amy, coordinator, escalation


def test_three_failed_contacts_escalate_and_a_coordinator_reassigns(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    task, amy = taken_task(app, client, world, borough, nurse)
    ben = volunteer(app, world, borough)
    for method in ("door", "phone"):
        recorded = no_answer(client, amy, task["id"], method)
        assert recorded.status_code == 201, recorded.json
        assert recorded.json["escalation_id"] is None and recorded.json["person_name"]
    queue = client.get(f"{API}/escalations", headers=coordinator.headers).json
    assert [e for e in queue if e["reason"] == "failed_contact"] == []
    assert "contact_escalated" not in kinds(app, borough, coordinator)

    third = no_answer(client, amy, task["id"])
    assert third.status_code == 201 and third.json["escalation_id"] is not None
    assert kinds(app, borough, coordinator).count("contact_escalated") == 1
    [one] = [
        e
        for e in client.get(f"{API}/escalations", headers=coordinator.headers).json
        if e["reason"] == "failed_contact"
    ]
    assert one["status"] == "open" and one["failed_contacts"] == 3
    assert one["task"]["id"] == task["id"] and one["task"]["assignee_id"] == str(
        amy.membership.id  # type: ignore[union-attr]
    )
    # The history: every attempt, every change of status.
    detail = client.get(f"{API}/escalations/{one['id']}", headers=coordinator.headers).json
    assert [a["method"] for a in detail["attempts"]] == ["door", "phone", "door"]
    assert [e["to_status"] for e in detail["events"]] == ["open", "assigned"]
    # The holder and the poster see the attempts on the task too.
    for person in (amy, nurse):
        attempts = client.get(f"{TASKS}/{task['id']}/contact-attempts", headers=person.headers)
        assert len(attempts.json) == 3

    # Whom it may go to: Ben (qualified), not Amy (holds it).
    candidates = client.get(
        f"{API}/escalations/{one['id']}/candidates", headers=coordinator.headers
    ).json
    assert [c["membership_id"] for c in candidates] == [str(ben.membership.id)]  # type: ignore[union-attr]
    given = client.post(
        f"{API}/escalations/{one['id']}/reassign",
        json={"membership_id": str(ben.membership.id), "note": "Ben knows her"},  # type: ignore[union-attr]
        headers=coordinator.headers,
    )
    assert given.status_code == 200, given.json
    assert given.json["status"] == "resolved" and given.json["resolution"] == "reassigned"
    assert given.json["resolved_by"] == str(coordinator.membership.id)  # type: ignore[union-attr]
    now = client.get(f"{TASKS}/{task['id']}", headers=ben.headers).json
    assert now["status"] == "assigned" and now["assignee_id"] == str(ben.membership.id)  # type: ignore[union-attr]
    assert "task_given_to_you" in kinds(app, borough, ben)
    assert "task_given_to_other" in kinds(app, borough, amy)
    assert "task_reassigned" in kinds(app, borough, nurse)
    events = client.get(f"{TASKS}/{task['id']}/events", headers=nurse.headers).json
    assert events[-1]["to_status"] == "assigned" and events[-1]["note"] == "Ben knows her"
    # Amy no longer holds it: no more attempts from her, nor its chat.
    assert no_answer(client, amy, task["id"]).status_code == 404
    assert client.get(f"{TASKS}/{task['id']}/messages", headers=amy.headers).status_code == 404
    open_now = client.get(f"{API}/escalations", headers=coordinator.headers).json
    assert all(e["id"] != one["id"] for e in open_now)
    resolved = client.get(f"{API}/escalations?status=resolved", headers=coordinator.headers).json
    assert one["id"] in [e["id"] for e in resolved]
    # Ben's attempts count afresh.
    assert no_answer(client, ben, task["id"]).json["escalation_id"] is None


def test_bad_input_is_refused_and_nothing_stored(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    ben = volunteer(app, world, borough)
    # Someone who does not hold it: the task is not even visible to another volunteer.
    assert no_answer(client, ben, task["id"]).status_code == 404
    # The poster sees it but does not hold it.
    assert no_answer(client, nurse, task["id"]).status_code == 403
    # An open task, visible to a volunteer browsing: still not theirs.
    open_task = post_task(client, nurse, title="Prescription").json
    assert no_answer(client, ben, open_task["id"]).status_code == 403
    # A wrong method, or a time in the future: 422.
    wrong = client.post(
        f"{TASKS}/{task['id']}/contact-attempts", json={"method": "email"}, headers=amy.headers
    )
    assert wrong.status_code == 422 and "method" in wrong.json["errors"]["json"]
    future = client.post(
        f"{TASKS}/{task['id']}/contact-attempts",
        json={"method": "door", "attempted_at": "2099-01-01T10:00:00+00:00"},
        headers=amy.headers,
    )
    assert future.status_code == 422 and "attempted_at" in future.json["errors"]
    # A completed task cannot be escalated: 409.
    client.post(f"{TASKS}/{task['id']}/start", headers=amy.headers)
    client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"minutes_spent": 30, "outcome_note": "Fine"},
        headers=amy.headers,
    )
    done = no_answer(client, amy, task["id"])
    assert done.status_code == 409 and "completed" in done.json["detail"]
    assert counts(app, borough) == (0, 0)
    # Volunteers never see the queue.
    assert client.get(f"{API}/escalations", headers=amy.headers).status_code == 403


def test_reassigning_to_someone_unqualified_is_refused(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    _task, amy, coordinator, one = escalated(app, client, world, borough, nurse)
    unqualified = world.person(borough, Role.VOLUNTEER)
    for member_id in (unqualified.membership.id, amy.membership.id, uuid.uuid4()):  # type: ignore[union-attr]
        refused = client.post(
            f"{API}/escalations/{one['id']}/reassign",
            json={"membership_id": str(member_id)},
            headers=coordinator.headers,
        )
        assert refused.status_code == 422 and "membership_id" in refused.json["errors"]
    detail = client.get(f"{API}/escalations/{one['id']}", headers=coordinator.headers).json
    assert detail["status"] == "open"


def test_contacting_the_client_then_closing_as_unmet(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_support(app, borough, failed_contacts_to_escalate=1)
    task, amy = taken_task(app, client, world, borough, nurse)
    coordinator = world.person(borough, Role.COORDINATOR)
    assert no_answer(client, amy, task["id"]).json["escalation_id"] is not None
    [one] = [
        e
        for e in client.get(f"{API}/escalations", headers=coordinator.headers).json
        if e["reason"] == "failed_contact"
    ]
    url = f"{API}/escalations/{one['id']}"
    tried = client.post(
        f"{url}/contact-client",
        json={"method": "phone", "reached": False, "note": "Voicemail"},
        headers=coordinator.headers,
    )
    assert tried.status_code == 200 and tried.json["status"] == "open"
    assert tried.json["attempts"][-1]["note"] == "Voicemail"
    assert (
        client.post(
            f"{url}/contact-client",
            json={"method": "phone", "reached": True},
            headers=coordinator.headers,
        ).status_code
        == 422
    )  # a note is required
    reached = client.post(
        f"{url}/contact-client",
        json={"method": "phone", "reached": True, "note": "She was at her daughter's; fine."},
        headers=coordinator.headers,
    )
    assert reached.status_code == 200, reached.json
    assert reached.json["resolution"] == "client_contacted"
    assert client.get(f"{TASKS}/{task['id']}", headers=amy.headers).json["status"] == "assigned"
    # Resolved: nothing more to do there.
    again = client.post(f"{url}/close-unmet", json={"reason": "x"}, headers=coordinator.headers)
    assert again.status_code == 409

    # Next time nobody is reached, and it is closed as unmet; Amy is told.
    second = no_answer(client, amy, task["id"]).json["escalation_id"]
    assert second is not None and second != one["id"]
    closed = client.post(
        f"{API}/escalations/{second}/close-unmet",
        json={"reason": "Moved into care"},
        headers=coordinator.headers,
    )
    assert closed.status_code == 200, closed.json
    assert closed.json["resolution"] == "closed_unmet"
    task_now = client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json
    assert task_now["status"] == "unmet" and task_now["closing_reason"] == "Moved into care"
    assert "task_cancelled" in kinds(app, borough, amy)


def test_two_coordinators_resolving_at_once_give_one_outcome(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, _amy, coordinator, one = escalated(app, client, world, borough, nurse)
    other = world.person(borough, Role.COORDINATOR)
    ben = volunteer(app, world, borough)
    url = f"{API}/escalations/{one['id']}"

    def give() -> Any:
        return app.test_client().post(
            f"{url}/reassign",
            json={"membership_id": str(ben.membership.id)},  # type: ignore[union-attr]
            headers=coordinator.headers,
        )

    def close() -> Any:
        return app.test_client().post(
            f"{url}/close-unmet", json={"reason": "Nobody"}, headers=other.headers
        )

    answers = all_at_once([give, close])
    assert sorted(a.status_code for a in answers) == [200, 409], [a.json for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json
    status = client.get(f"{TASKS}/{task['id']}", headers=nurse.headers).json["status"]
    if winner["resolution"] == "reassigned":
        assert status == "assigned"
    else:
        assert winner["resolution"] == "closed_unmet" and status == "unmet"
    detail = client.get(url, headers=coordinator.headers).json
    assert detail["resolution"] == winner["resolution"]
    events = client.get(f"{TASKS}/{task['id']}/events", headers=nurse.headers).json
    assert len(events) == 3  # open, assigned, and exactly one more


def test_the_nth_attempt_recorded_twice_at_once_escalates_once(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    coordinator = world.person(borough, Role.COORDINATOR)
    task, amy = taken_task(app, client, world, borough, nurse)
    for _ in range(2):
        no_answer(client, amy, task["id"])

    def third() -> Any:
        return app.test_client().post(
            f"{TASKS}/{task['id']}/contact-attempts",
            json={"method": "phone"},
            headers=amy.headers,
        )

    answers = all_at_once([third, third])
    assert [a.status_code for a in answers] == [201, 201]
    assert counts(app, borough) == (4, 1)
    assert kinds(app, borough, coordinator).count("contact_escalated") == 1
    with app.app_context(), tenant_scope(borough.id):
        linked = db.session.scalar(
            select(func.count()).where(ContactAttempt.escalation_id.is_not(None))
        )
    assert linked == 4


def test_another_tenants_escalations_are_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy, coordinator, one = escalated(app, client, world, borough, nurse)
    world.tenant("elsewhere")
    stranger = world.person(world.tenant("other-place"), Role.COORDINATOR, Role.ADMIN)
    base = "/api/v1/tenants/other-place"
    for url in (
        f"{base}/escalations/{one['id']}",
        f"{base}/escalations/{one['id']}/candidates",
        f"{base}/tasks/{task['id']}/contact-attempts",
    ):
        assert client.get(url, headers=stranger.headers).status_code == 404, url
    for action, body in (
        ("reassign", {"membership_id": str(amy.membership.id)}),  # type: ignore[union-attr]
        ("contact-client", {"method": "phone", "reached": True, "note": "hi"}),
        ("close-unmet", {"reason": "x"}),
    ):
        response = client.post(
            f"{base}/escalations/{one['id']}/{action}", json=body, headers=stranger.headers
        )
        assert response.status_code == 404, action
    assert client.get(f"{base}/escalations", headers=stranger.headers).json == []
    # And borough's own coordinator with the other tenant's slug: 404.
    assert client.get(f"{base}/escalations", headers=coordinator.headers).status_code == 404
    detail = client.get(f"{API}/escalations/{one['id']}", headers=coordinator.headers).json
    assert detail["status"] == "open"


def test_the_pages_chat_record_a_failed_contact_and_reassign(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_support(app, borough, failed_contacts_to_escalate=1)
    task, amy = taken_task(app, client, world, borough, nurse)
    ben = volunteer(app, world, borough)
    page_url = f"/t/borough/tasks/{task['id']}"
    browser = signed_in(app, amy)
    page = browser.get(page_url)
    assert "Chat about this task" in page.text and "I could not reach them" in page.text
    token = csrf(page.text)
    # A phone number is refused next to the field, with what was typed kept.
    refused = browser.post(
        f"{page_url}/messages", data={"csrf_token": token, "body": "Text me: 07700 900123"}
    )
    assert refused.status_code == 422
    assert "not shared in the chat" in refused.text and "Text me: 07700 900123" in refused.text
    sent = browser.post(
        f"{page_url}/messages",
        data={"csrf_token": token, "body": "Nobody home, I'll try later"},
        follow_redirects=True,
    )
    assert "Message sent." in sent.text and "Nobody home, I&#39;ll try later" in sent.text
    # The nurse's menu counts it; opening the task reads it.
    nurse_pages = signed_in(app, nurse)
    assert "Messages (1 unread)" in nurse_pages.get("/t/borough/messages").text
    assert "Nobody home" in nurse_pages.get(page_url).text
    assert "Messages (1 unread)" not in nurse_pages.get("/t/borough/messages").text
    recorded = browser.post(
        f"{page_url}/contact-attempts",
        data={"csrf_token": token, "method": "door", "note": "No answer"},
        follow_redirects=True,
    )
    assert "Recorded." in recorded.text and "no answer at the door" in recorded.text

    coordinator = world.person(borough, Role.COORDINATOR)
    pages = signed_in(app, coordinator)
    queue = pages.get("/t/borough/escalations")
    assert queue.status_code == 200 and "The client could not be reached" in queue.text
    one = client.get(f"{API}/escalations", headers=coordinator.headers).json
    [escalation] = [e for e in one if e["reason"] == "failed_contact"]
    detail = pages.get(f"/t/borough/escalations/{escalation['id']}")
    assert detail.status_code == 200 and "Give the task to someone" in detail.text
    assert "No answer" in detail.text
    # A contact without a note: shown next to the field.
    missing = pages.post(
        f"/t/borough/escalations/{escalation['id']}/contact-client",
        data={"csrf_token": csrf(detail.text), "method": "phone", "reached": "true"},
    )
    assert missing.status_code == 422 and "Please fill this in." in missing.text
    given = pages.post(
        f"/t/borough/escalations/{escalation['id']}/reassign",
        data={"csrf_token": csrf(detail.text), "membership_id": str(ben.membership.id)},  # type: ignore[union-attr]
        follow_redirects=True,
    )
    assert "The task is given to them" in given.text and "Given to someone else" in given.text
    assert signed_in(app, amy).get("/t/borough/escalations").status_code == 403
