"""A task's chat through the API: who takes part, unread counts, notices, contact
details kept out, closing after the task ends, files, and another tenant's 404s."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from nyby.auth.permissions import Role
from nyby.chat.models import TaskMessage
from nyby.chat.services import carries_contact_details
from nyby.configuration.services import InvalidConfiguration, load_document
from nyby.core.db import db, utcnow
from nyby.notifications.models import Notification
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World
from tests.samples import EXE, PNG
from tests.seed import configuration_document
from tests.tasking import TASKS, post_task, volunteer

API = "/api/v1/tenants/borough"


def taken_task(app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person) -> Any:
    """A task the nurse posted and Amy holds; returns (task, amy)."""
    task = post_task(client, nurse).json
    amy = volunteer(app, world, borough)
    taken = client.post(f"{TASKS}/{task['id']}/accept", headers=amy.headers)
    assert taken.status_code == 200, taken.json
    return task, amy


def say(client: FlaskClient, person: Person, task_id: str, body: str) -> Any:
    return client.post(f"{TASKS}/{task_id}/messages", json={"body": body}, headers=person.headers)


def chat_notices(app: Flask, tenant: Tenant, person: Person) -> int:
    assert person.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        return (
            db.session.scalar(
                select(func.count()).where(
                    Notification.recipient_id == person.membership.id,
                    Notification.kind == "chat_message",
                )
            )
            or 0
        )


def stored_messages(app: Flask, tenant: Tenant) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalar(select(func.count()).select_from(TaskMessage)) or 0


def set_support(app: Flask, tenant: Tenant, **settings: Any) -> None:
    with app.app_context():
        row = db.session.get(Tenant, tenant.id)
        assert row is not None
        row.task_support = settings
        db.session.commit()


def test_a_volunteer_chats_with_the_poster_and_nobody_else_reads_it(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    sent = say(client, amy, task["id"], "Shall I get the semi-skimmed milk?")
    assert sent.status_code == 201, sent.json
    message = sent.json
    assert message["author_name"] == "Test Person" and message["author_is"] == "holder"
    assert message["mine"] is True
    # Nothing about the author but a display name.
    assert amy.account.email not in json.dumps(message)
    assert "email" not in message and "phone" not in message

    # The poster is told, once per unread run, and sees it unread.
    assert chat_notices(app, borough, nurse) == 1
    say(client, amy, task["id"], "And the tea?")
    assert chat_notices(app, borough, nurse) == 1
    state = client.get(f"{TASKS}/{task['id']}/chat", headers=nurse.headers).json
    assert state == {"task_id": task["id"], "open": True, "closes_at": None, "unread": 2}
    assert client.get(f"{API}/me/chats/unread", headers=nurse.headers).json == {
        "messages": 2,
        "chats": 1,
    }
    [chat] = client.get(f"{API}/me/chats", headers=nurse.headers).json
    assert chat["task_id"] == task["id"] and chat["unread"] == 2

    # Newest first, paginated.
    page = client.get(f"{TASKS}/{task['id']}/messages?page_size=1", headers=nurse.headers)
    assert page.status_code == 200
    assert [m["body"] for m in page.json] == ["And the tea?"]
    assert json.loads(page.headers["X-Pagination"])["total"] == 2
    assert page.json[0]["mine"] is False

    # Reading clears the count; the reply notifies Amy, who then has one unread.
    assert client.post(f"{TASKS}/{task['id']}/chat/read", headers=nurse.headers).json["unread"] == 0
    assert client.get(f"{API}/me/chats", headers=nurse.headers).json == []
    assert say(client, nurse, task["id"], "Yes please, and tea.").status_code == 201
    assert chat_notices(app, borough, amy) == 1
    assert client.get(f"{TASKS}/{task['id']}/chat", headers=amy.headers).json["unread"] == 1

    # Another volunteer, even a qualified one, cannot read or write it.
    ben = volunteer(app, world, borough)
    for response in (
        client.get(f"{TASKS}/{task['id']}/messages", headers=ben.headers),
        client.get(f"{TASKS}/{task['id']}/chat", headers=ben.headers),
        say(client, ben, task["id"], "Hello?"),
        client.get(f"{API}/messages/{message['id']}", headers=ben.headers),
    ):
        assert response.status_code == 404, response.json
    assert client.get(f"{API}/me/chats/unread", headers=ben.headers).json["messages"] == 0
    assert stored_messages(app, borough) == 3

    # A coordinator takes part in every chat; once they open it, they are told too.
    coordinator = world.person(borough, Role.COORDINATOR)
    assert len(client.get(f"{TASKS}/{task['id']}/messages", headers=coordinator.headers).json) == 3
    client.post(f"{TASKS}/{task['id']}/chat/read", headers=coordinator.headers)
    say(client, amy, task["id"], "On my way.")
    assert chat_notices(app, borough, coordinator) == 1
    # A professional who did not post it is not part of it.
    other_nurse = world.person(borough, Role.PROFESSIONAL)
    assert (
        client.get(f"{TASKS}/{task['id']}/messages", headers=other_nurse.headers).status_code == 404
    )


def test_contact_details_are_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    for body in (
        "Call me on 07700 900123",
        "My number is +47 912 34 567",
        "Write to amy.helper@example.org",
    ):
        refused = say(client, amy, task["id"], body)
        assert refused.status_code == 422, body
        assert "not shared in the chat" in refused.json["errors"]["body"][0]
    assert say(client, amy, task["id"], "   ").status_code == 422
    assert stored_messages(app, borough) == 0
    assert chat_notices(app, borough, nurse) == 0
    # Dates, times and prices are not phone numbers.
    assert say(client, amy, task["id"], "On 2030-03-01 at 10:30, about £12.50.").status_code == 201


def test_contact_details_detection() -> None:
    assert carries_contact_details("ring 020 7946 0958")
    assert carries_contact_details("(0161) 496-0000")
    assert not carries_contact_details("Due 01.03.2030 at 09.15, flat 12, 3 bags")
    assert not carries_contact_details("Bus 123 then the 45")


def test_the_chat_closes_some_days_after_the_task_ends(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_support(app, borough, chat_closes_after_days=2)
    task, amy = taken_task(app, client, world, borough, nurse)
    client.post(f"{TASKS}/{task['id']}/start", headers=amy.headers)
    done = client.post(
        f"{TASKS}/{task['id']}/complete",
        json={"minutes_spent": 40, "outcome_note": "All done"},
        headers=amy.headers,
    )
    assert done.status_code == 200
    # Still open just after: a thank-you is welcome.
    assert say(client, nurse, task["id"], "Thank you!").status_code == 201
    state = client.get(f"{TASKS}/{task['id']}/chat", headers=amy.headers).json
    assert state["open"] is True and state["closes_at"] is not None
    with app.app_context(), tenant_scope(borough.id):
        db.session.execute(
            update(Task)
            .where(Task.id == uuid.UUID(task["id"]))
            .values(completed_at=utcnow() - timedelta(days=2, minutes=1))
        )
        db.session.commit()
    refused = say(client, amy, task["id"], "You're welcome")
    assert refused.status_code == 409 and "chat closed" in refused.json["detail"]
    assert stored_messages(app, borough) == 1
    assert client.get(f"{TASKS}/{task['id']}/chat", headers=amy.headers).json["open"] is False
    # Still readable.
    assert len(client.get(f"{TASKS}/{task['id']}/messages", headers=amy.headers).json) == 1


def test_files_in_the_chat_go_through_storage_with_the_tenants_limits(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    set_support(app, borough, chat_attachment_max_mb=1)
    task, amy = taken_task(app, client, world, borough, nurse)

    def send(data: bytes, name: str) -> Any:
        return client.post(
            f"{TASKS}/{task['id']}/messages",
            data={"body": "The receipt", "file": (io.BytesIO(data), name)},
            headers=amy.headers,
            content_type="multipart/form-data",
        )

    sent = send(PNG, "receipt.png")
    assert sent.status_code == 201, sent.json
    assert sent.json["attachment"]["content_type"] == "image/png"
    assert "download_url" not in sent.json["attachment"]
    detail = client.get(f"{API}/messages/{sent.json['id']}", headers=nurse.headers)
    assert detail.status_code == 200
    downloaded = client.get(detail.json["attachment"]["download_url"])
    assert downloaded.status_code == 200 and downloaded.data == PNG
    assert send(EXE, "receipt.jpg").status_code == 422
    too_big = send(PNG + bytes(1024 * 1024), "big.png")
    assert too_big.status_code == 413
    assert stored_messages(app, borough) == 1


def test_another_tenants_chat_is_404(
    app: Flask, client: FlaskClient, world: World, borough: Any, nurse: Person
) -> None:
    task, amy = taken_task(app, client, world, borough, nurse)
    message = say(client, amy, task["id"], "Hello").json
    other = world.tenant("elsewhere")
    stranger = world.person(other, Role.COORDINATOR, Role.ADMIN)
    base = "/api/v1/tenants/elsewhere"
    for url in (
        f"{base}/tasks/{task['id']}/messages",
        f"{base}/tasks/{task['id']}/chat",
        f"{base}/messages/{message['id']}",
    ):
        assert client.get(url, headers=stranger.headers).status_code == 404, url
    posted = client.post(
        f"{base}/tasks/{task['id']}/messages", json={"body": "hi"}, headers=stranger.headers
    )
    assert posted.status_code == 404
    # Her own tenant's URL with her token is not another tenant's door either.
    assert client.get(f"{TASKS}/{task['id']}/messages", headers=stranger.headers).status_code == 404
    assert client.get(f"{base}/me/chats", headers=stranger.headers).json == []


def test_the_settings_live_in_the_tenant_configuration(borough: Any) -> None:
    document = configuration_document(borough)
    assert load_document(document)["task_support"] == {
        "chat_closes_after_days": 7,
        "chat_attachment_max_mb": 5,
        "failed_contacts_to_escalate": 3,
    }
    document["task_support"] = {"failed_contacts_to_escalate": 0}
    try:
        load_document(document)
    except InvalidConfiguration as error:
        assert "task_support" in error.errors
    else:
        raise AssertionError("0 failed contacts is refused")


def test_the_configuration_api_reads_and_writes_the_settings(
    client: FlaskClient, world: World, borough: Any
) -> None:
    admin = world.person(borough, Role.ADMIN)
    read = client.get(f"{API}/configuration", headers=admin.headers)
    document = read.json
    document["task_support"] = {"chat_closes_after_days": 3, "failed_contacts_to_escalate": 2}
    saved = client.put(
        f"{API}/configuration",
        json=document,
        headers={**admin.headers, "If-Match": read.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.json
    again = client.get(f"{API}/configuration", headers=admin.headers).json
    assert again["task_support"] == {
        "chat_closes_after_days": 3,
        "chat_attachment_max_mb": 5,
        "failed_contacts_to_escalate": 2,
    }
