"""Channels besides the inbox: preferences, fan-out, backends, retries, dead letters, digest."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.integrations.mail import OutboxMailer
from nyby.members.models import Membership
from nyby.notifications.jobs import MAX_ATTEMPTS, deliver_mail, send_no_tasks_digest
from nyby.notifications.models import Notification, OutgoingMail, PushSubscription
from nyby.notifications.services import notify
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, World, run_jobs
from tests.test_web_tasks import csrf, signed_in

SUB = {"endpoint": "https://push.example.org/abc", "keys": {"p256dh": "BPk", "auth": "xyz"}}


def _url(tenant: Tenant, path: str) -> str:
    return f"/api/v1/tenants/{tenant.slug}{path}"


def _outbox(app: Flask, suffix: str) -> list[str]:
    folder = app.extensions["nyby.settings"].outbox_dir
    return [p.read_text() for p in sorted(folder.glob(f"*{suffix}"))] if folder.exists() else []


def _set(client: FlaskClient, tenant: Tenant, person: Person, body: dict[str, Any]) -> Any:
    url = _url(tenant, "/me/notification-settings")
    etag = client.get(url, headers=person.headers).headers["ETag"]
    return client.put(url, json=body, headers={**person.headers, "If-Match": etag})


def test_settings_default_then_replace_and_bad_input_is_422(
    client: FlaskClient, world: World
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    got = client.get(_url(tenant, "/me/notification-settings"), headers=amy.headers).json
    assert got["offers"] == ["push", "email"] and got["updates"] == ["email"]
    assert got["vapid_public_key"]
    assert _set(client, tenant, amy, {"offers": ["sms"], "updates": []}).json["offers"] == ["sms"]
    bad = _set(client, tenant, amy, {"offers": ["pigeon"], "updates": []})
    assert bad.status_code == 422 and "offers" in bad.json["errors"]["json"]
    stale = client.put(
        _url(tenant, "/me/notification-settings"),
        json={"offers": [], "updates": []},
        headers={**amy.headers, "If-Match": '"old"'},
    )
    assert stale.status_code == 412
    assert client.get(_url(tenant, "/me/notification-settings"), headers=amy.headers).json[
        "offers"
    ] == ["sms"]


def test_another_tenants_settings_and_devices_answer_404(client: FlaskClient, world: World) -> None:
    tenant, other = world.tenant(), world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    bo = world.person(other, Role.VOLUNTEER)
    created = client.post(_url(other, "/me/push-subscriptions"), json=SUB, headers=bo.headers)
    assert created.status_code == 201
    assert (
        client.get(_url(other, "/me/notification-settings"), headers=amy.headers).status_code == 404
    )
    gone = client.delete(
        _url(tenant, f"/me/push-subscriptions/{created.json['id']}"), headers=amy.headers
    )
    assert gone.status_code == 404


def test_a_device_subscribes_once_and_bad_subscriptions_are_422(
    app: Flask, client: FlaskClient, world: World
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    url = _url(tenant, "/me/push-subscriptions")
    first = client.post(url, json=SUB, headers=amy.headers)
    again = client.post(
        url, json={**SUB, "keys": {"p256dh": "new", "auth": "k"}}, headers=amy.headers
    )
    assert first.json["id"] == again.json["id"]
    assert client.post(url, json={"endpoint": "ftp://x"}, headers=amy.headers).status_code == 422
    with app.app_context(), tenant_scope(tenant.id):
        [device] = db.session.scalars(select(PushSubscription)).all()
        assert device.p256dh == "new"
    assert client.delete(f"{url}/{first.json['id']}", headers=amy.headers).status_code == 204


def test_an_offer_fans_out_to_each_chosen_channel_in_the_readers_language(
    app: Flask, client: FlaskClient, world: World
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    with app.app_context():
        account = db.session.merge(amy.account)
        account.phone = "+447700900123"
        account.locale = "nb"
        db.session.commit()
    client.post(_url(tenant, "/me/push-subscriptions"), json=SUB, headers=amy.headers)
    _set(client, tenant, amy, {"offers": ["push", "sms", "email"], "updates": []})
    assert amy.membership is not None
    with app.test_request_context(), tenant_scope(tenant.id):
        params = {"title": "Shopping", "minutes": 45, "distance": 1.2, "timeout": 15}
        notify(amy.membership.id, "task_offered", **params)
        notify(amy.membership.id, "check_verified", check="DBS")  # updates: none chosen
        # Withdrawn: only the device, where the offer still shows; no mail, no text.
        notify(amy.membership.id, "offer_taken", title="Shopping")
        db.session.commit()
    run_jobs(app)
    with app.app_context(), tenant_scope(tenant.id):
        rows = db.session.scalars(select(OutgoingMail)).all()
        by_kind = sorted((r.kind, r.channel) for r in rows)
        assert by_kind == [
            ("offer_taken", "push"),
            ("task_offered", "email"),
            ("task_offered", "push"),
            ("task_offered", "sms"),
        ]
        assert all(r.sent_at is not None for r in rows)
        assert len(db.session.scalars(select(Notification)).all()) == 3, "the inbox gets all"
    [sms] = _outbox(app, ".sms.txt")
    assert "+447700900123" in sms and "Shopping" in sms and "45" in sms
    offer, withdrawn = sorted(
        (json.loads(p) for p in _outbox(app, ".push.json")), key=lambda p: p["payload"]["title"]
    )
    assert offer["endpoint"] == SUB["endpoint"] and "Shopping" in offer["payload"]["body"]
    assert offer["payload"]["title"] == "Nytt oppdrag til deg" and offer["urgent"]
    assert withdrawn["payload"]["title"] == "Tilbudet er trukket tilbake"


def _failing(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    class Down(OutboxMailer):
        def send(self, message: EmailMessage) -> None:
            raise ConnectionRefusedError("mail server down")

    real = app.extensions["nyby.mailer"]
    monkeypatch.setitem(app.extensions, "nyby.mailer", Down(real.folder))


def test_failures_back_off_then_die_and_an_admin_retries_them(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = world.tenant()
    admin = world.person(tenant, Role.ADMIN)
    real = app.extensions["nyby.mailer"]
    _failing(app, monkeypatch)
    with app.test_request_context(), tenant_scope(tenant.id):
        from nyby.notifications.services import send_mail

        message_id = str(send_mail("dl-retry@example.org", "test", "Hello", "Body").id)
        db.session.commit()
    run_jobs(app)
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        with app.app_context(), tenant_scope(tenant.id):
            message = db.session.get(OutgoingMail, (tenant.id, uuid.UUID(message_id)))
            assert message is not None and message.next_attempt_at is not None
            waits.append(round((message.next_attempt_at - utcnow()).total_seconds() / 60))
            message.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
        with app.app_context():
            deliver_mail(str(tenant.id), message_id)
    assert waits == [1, 5, 25, 125]
    browser = signed_in(app, admin)
    page = browser.get(f"/t/{tenant.slug}/dead-letters")
    assert page.status_code == 200 and "dl-retry@example.org" in page.text
    listed = app.test_client().get(_url(tenant, "/dead-letters"), headers=admin.headers)
    assert [row["to_address"] for row in listed.json] == ["dl-retry@example.org"]
    monkeypatch.setitem(app.extensions, "nyby.mailer", real)
    retried = browser.post(
        f"/t/{tenant.slug}/dead-letters/{message_id}/retry", data={"csrf_token": csrf(page.text)}
    )
    assert retried.status_code == 303
    run_jobs(app)
    with app.app_context(), tenant_scope(tenant.id):
        [message] = db.session.scalars(select(OutgoingMail)).all()
        assert message.sent_at is not None and message.dead_at is None
    assert "dl-retry@example.org" not in browser.get(f"/t/{tenant.slug}/dead-letters").text


def test_dead_letters_are_for_admins_only(client: FlaskClient, world: World) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    assert client.get(_url(tenant, "/dead-letters"), headers=amy.headers).status_code == 403


def test_the_quiet_day_digest_goes_once_a_day_to_on_duty_people_without_offers(
    app: Flask, world: World
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    bo = world.person(tenant, Role.VOLUNTEER)
    with app.app_context(), tenant_scope(tenant.id):
        for person in (amy,):
            assert person.membership is not None
            member = db.session.merge(person.membership)
            member.on_duty = True
        db.session.commit()
    with app.test_request_context():
        assert send_no_tasks_digest(str(tenant.id), True) == 1
    with app.test_request_context():
        assert send_no_tasks_digest(str(tenant.id), True) == 0, "once a day"
    with app.app_context(), tenant_scope(tenant.id):
        [notice] = db.session.scalars(select(Notification)).all()
        assert amy.membership is not None and bo.membership is not None
        assert notice.recipient_id == amy.membership.id and notice.kind == "no_tasks_today"


def test_the_quiet_day_digest_waits_out_quiet_hours(app: Flask, world: World) -> None:
    tenant = world.tenant()
    cal = world.person(tenant, Role.VOLUNTEER)
    local = utcnow().astimezone(ZoneInfo(tenant.timezone))
    with app.app_context(), tenant_scope(tenant.id):
        assert cal.membership is not None
        member = db.session.merge(cal.membership)
        member.on_duty = True
        member.quiet_hours_start = (local - timedelta(hours=1)).time().replace(microsecond=0)
        member.quiet_hours_end = (local + timedelta(hours=1)).time().replace(microsecond=0)
        db.session.commit()
    with app.test_request_context():
        assert send_no_tasks_digest(str(tenant.id), True) == 0
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(Notification)).all() == []
        member = db.session.get_one(Membership, (tenant.id, cal.membership.id))
        member.quiet_hours_start = member.quiet_hours_end = None
        db.session.commit()
    with app.test_request_context():
        assert send_no_tasks_digest(str(tenant.id), True) == 1, "told once they are over"
