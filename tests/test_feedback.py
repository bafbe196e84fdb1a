"""Feedback and thanks through the API: both sides rate a completed task once each (a
retried POST is one feedback), a coordinator sends a thumbs-up, and the volunteer and the
poster both see the task's timeline."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db
from nyby.feedback.models import TaskFeedback, Thanks
from nyby.notifications.models import Notification
from nyby.tenancy.context import tenant_scope
from tests.caring import API, completed_task, taken_task
from tests.conftest import Person, World, all_at_once
from tests.tasking import TASKS

MEMBERS = f"{API}/members"


def feedback_rows(app: Flask, tenant: Any) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(TaskFeedback)) or 0


def test_both_sides_leave_feedback_once_and_see_the_timeline(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = completed_task(app, client, world, borough, nurse)
    url = f"{TASKS}/{task['id']}/feedback"
    mine = client.post(url, json={"rating": 5, "comment": "Lovely lady, tea ready."},
                       headers=amy.headers)  # fmt: skip
    assert mine.status_code == 201, mine.json
    assert mine.json["side"] == "volunteer" and mine.json["author_name"] == amy.account.name
    # A retry of the same POST (a phone on a bad network) is the same feedback, not two.
    again = client.post(url, json={"rating": 5, "comment": "Lovely lady, tea ready."},
                        headers=amy.headers)  # fmt: skip
    assert again.status_code == 200 and again.json["id"] == mine.json["id"]
    changed = client.post(url, json={"rating": 1}, headers=amy.headers)
    assert changed.status_code == 409
    theirs = client.post(url, json={"rating": 4, "comment": "On time, thorough."},
                         headers=nurse.headers)  # fmt: skip
    assert theirs.status_code == 201 and theirs.json["side"] == "poster"
    assert feedback_rows(app, borough) == 2

    for person in (amy, nurse):
        both = client.get(url, headers=person.headers).json
        assert [(f["side"], f["rating"]) for f in both] == [("volunteer", 5), ("poster", 4)]
        timeline = client.get(f"{TASKS}/{task['id']}/timeline", headers=person.headers)
        assert timeline.status_code == 200
        kinds = [entry["kind"] for entry in timeline.json]
        assert kinds == ["posted", "accepted", "started", "completed", "feedback", "feedback"]
        assert timeline.json[1]["actor_name"] == amy.account.name
        assert timeline.json[-1]["rating"] == 4 and timeline.json[-1]["side"] == "poster"

    # Anyone else: not their task's history.
    bob = world.person(borough, Role.VOLUNTEER)
    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.get(f"{TASKS}/{task['id']}/timeline", headers=bob.headers).status_code == 404
    assert client.post(url, json={"rating": 3}, headers=bob.headers).status_code == 404
    # A coordinator sees it, but has no side to give feedback from.
    coordinator = world.person(borough, Role.COORDINATOR)
    assert client.get(url, headers=coordinator.headers).status_code == 200
    assert client.post(url, json={"rating": 3}, headers=coordinator.headers).status_code == 403


def test_feedback_waits_for_completion_and_takes_a_rating_of_one_to_five(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    url = f"{TASKS}/{task['id']}/feedback"
    assert client.post(url, json={"rating": 5}, headers=amy.headers).status_code == 409
    client.post(f"{TASKS}/{task['id']}/start", headers=amy.headers)
    client.post(f"{TASKS}/{task['id']}/complete", json={"minutes_spent": 10}, headers=amy.headers)
    for body in ({"rating": 0}, {"rating": 6}, {"rating": "5"}, {"comment": "no rating"}):
        answer = client.post(url, json=body, headers=amy.headers)
        assert answer.status_code == 422, body
        assert "rating" in answer.json["errors"]["json"]
    assert feedback_rows(app, borough) == 0


def test_identical_feedback_sent_twice_at_once_is_kept_once(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = completed_task(app, client, world, borough, nurse)
    url = f"{TASKS}/{task['id']}/feedback"

    def send() -> Any:
        return app.test_client().post(
            url, json={"rating": 4, "comment": "Fine"}, headers=amy.headers
        )

    answers = all_at_once([send, send, send])
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json["id"] for a in answers}) == 1
    assert feedback_rows(app, borough) == 1


def test_a_coordinator_sends_a_thumbs_up_and_the_volunteer_is_told(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = completed_task(app, client, world, borough, nurse)
    coordinator = world.person(borough, Role.COORDINATOR)
    assert amy.membership is not None
    url = f"{MEMBERS}/{amy.membership.id}/thanks"
    sent = client.post(url, json={"note": "Edith rang to say thank you!", "task_id": task["id"]},
                       headers=coordinator.headers)  # fmt: skip
    assert sent.status_code == 201, sent.json
    assert sent.json["task_title"] == task["title"]
    general = client.post(url, json={}, headers=coordinator.headers)
    assert general.status_code == 201 and general.json["task_id"] is None
    with app.app_context(), tenant_scope(borough.id):
        told = db.session.scalars(
            select(Notification).where(
                Notification.recipient_id == amy.membership.id,
                Notification.kind.like("thanks%"),
            )
        ).all()
    assert sorted(n.kind for n in told) == ["thanks", "thanks_for_task"]
    inbox = client.get(f"{API}/notifications", headers=amy.headers).json
    assert any(
        coordinator.account.name in n["message"] and "Edith rang" in n["message"] for n in inbox
    )
    # The volunteer sees their thanks; the thumbs-up shows on the task's timeline.
    own = client.get(url, headers=amy.headers).json
    assert [t["note"] for t in own] == ["", "Edith rang to say thank you!"]
    kinds = [
        e["kind"] for e in client.get(f"{TASKS}/{task['id']}/timeline", headers=amy.headers).json
    ]
    assert kinds[-1] == "thanks"
    # Only coordinators and admins send them; a volunteer cannot, nor to a non-volunteer.
    assert client.post(url, json={}, headers=amy.headers).status_code == 403
    assert nurse.membership is not None
    to_nurse = client.post(f"{MEMBERS}/{nurse.membership.id}/thanks", json={},
                           headers=coordinator.headers)  # fmt: skip
    assert to_nurse.status_code == 422
    # A task that is not theirs: refused, nothing stored.
    other_task, _bob = taken_task(app, client, world, borough, nurse)
    wrong = client.post(url, json={"task_id": other_task["id"]}, headers=coordinator.headers)
    assert wrong.status_code == 422 and "task_id" in wrong.json["errors"]
    with app.app_context(), tenant_scope(borough.id):
        assert db.session.scalar(select(func.count()).select_from(Thanks)) == 2


def test_another_tenants_feedback_timeline_and_thanks_are_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = completed_task(app, client, world, borough, nurse)
    other = world.tenant("elsewhere")
    their_admin = world.person(other, Role.ADMIN, Role.COORDINATOR)
    there = "/api/v1/tenants/elsewhere"
    assert amy.membership is not None
    for url in (
        f"{there}/tasks/{task['id']}/feedback",
        f"{there}/tasks/{task['id']}/timeline",
        f"{there}/members/{amy.membership.id}/thanks",
    ):
        assert client.get(url, headers=their_admin.headers).status_code == 404, url
    sent = client.post(f"{there}/members/{amy.membership.id}/thanks", json={},
                       headers=their_admin.headers)  # fmt: skip
    assert sent.status_code == 404
    assert (
        client.get(f"{TASKS}/{task['id']}/timeline", headers=their_admin.headers).status_code == 404
    )
