"""The real channel backends, end to end against local stand-ins: notify() writes the
outbox row, the delivery job hands it to Amazon SES / Amazon SNS (a moto server) or to a
Web Push service (a small HTTP server here), and we read what arrived on the other side.

test_notification_channels.py covers preferences, fan-out and the outbox backends;
this file covers what only the real backends can show.
"""

from __future__ import annotations

import base64
import dataclasses
import email
import email.policy
import http.server
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import event, select, update

from nyby import create_app
from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.notifications import jobs as notification_jobs
from nyby.notifications.jobs import MAX_ATTEMPTS, deliver_mail, send_waiting_mail
from nyby.notifications.models import Notification, OutgoingMail, PushSubscription
from nyby.notifications.services import notify
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import Person, S3Endpoint, World, all_at_once, mails_to, run_jobs
from tests.tasking import TASKS, post_task
from tests.test_dispatch import helper, set_policy

SENDER = "Nyby <no-reply@nyby.example>"
OFFER: dict[str, Any] = {"title": "Weekly shop", "minutes": 45, "distance": 1.2, "timeout": 10}


# -- the app with real backends ------------------------------------------------------------


@pytest.fixture(scope="module")
def backends(app: Flask, s3: S3Endpoint) -> Flask:
    """The same database, with MAIL_BACKEND=ses, SMS_BACKEND=sns and PUSH_BACKEND=webpush.

    The session's moto server (``s3``) answers SES and SNS as well; SES refuses senders
    that are not verified, as the real one does, so the sender is verified first.
    """
    settings = dataclasses.replace(
        app.extensions["nyby.settings"],
        mail_backend="ses",
        sms_backend="sns",
        push_backend="webpush",
        mail_from=SENDER,
        aws_region=s3.region,
        ses_endpoint_url=s3.url,
        sns_endpoint_url=s3.url,
    )
    import boto3

    ses = boto3.client("ses", endpoint_url=s3.url, region_name=s3.region)
    ses.verify_email_identity(EmailAddress="no-reply@nyby.example")
    application = create_app(settings)
    application.config["TESTING"] = True
    return application


def ses_mails_to(region: str, address: str) -> list[EmailMessage]:
    """What moto's SES accepted for ``address`` (send_raw_email), oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
    return [
        email.message_from_string(message.raw_data, policy=email.policy.default)  # type: ignore[misc]
        for message in sent
        if address in getattr(message, "destinations", [])
    ]


def sns_texts_to(region: str, phone: str) -> list[str]:
    """What moto's SNS published to ``phone`` as SMS, oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    texts = sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages.values()
    return [text for number, text in texts if number == phone]


def _account(app: Flask, person: Person, **values: Any) -> None:
    with app.app_context():
        db.session.execute(update(Account).where(Account.id == person.account.id).values(**values))
        db.session.commit()


def _channels(client: FlaskClient, tenant: Tenant, person: Person, **groups: list[str]) -> None:
    url = f"/api/v1/tenants/{tenant.slug}/me/notification-settings"
    etag = client.get(url, headers=person.headers).headers["ETag"]
    body = {"offers": [], "updates": [], **groups}
    changed = client.put(url, json=body, headers={**person.headers, "If-Match": etag})
    assert changed.status_code == 200, changed.json


def _outbox(app: Flask, tenant: Tenant) -> list[OutgoingMail]:
    with app.app_context(), tenant_scope(tenant.id):
        return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.created_at)))


# -- SES and SNS -----------------------------------------------------------------------------


def test_an_offer_reaches_each_volunteer_by_ses_mail_and_sns_text_in_their_language(
    app: Flask, backends: Flask, world: World, borough: Any, nurse: Person, s3: S3Endpoint
) -> None:
    set_policy(app, borough, wave_size=2)
    amy, ben = helper(app, world, borough, km=1), helper(app, world, borough, km=2)
    # As people type them (the sign-up form takes both); SNS wants E.164.
    _account(app, amy, locale="nb", phone="0047 912 34 567")
    _account(app, ben, phone="+44 (0)7700 900-456")
    client = backends.test_client()
    for person in (amy, ben):
        _channels(client, borough, person, offers=["email", "sms"])

    assert post_task(client, nurse, title="Weekly shop", estimated_minutes=45).status_code == 201
    run_jobs(backends)

    [norwegian] = ses_mails_to(s3.region, amy.account.email)
    assert norwegian["Subject"] == "Nytt oppdrag til deg" and norwegian["From"] == SENDER
    text = norwegian.get_content()
    assert "Nytt oppdrag til deg: «Weekly shop», omtrent 45 minutter, 1.0 km" in text
    [english] = ses_mails_to(s3.region, ben.account.email)
    assert english["Subject"] == "New task for you"
    assert "New task for you: “Weekly shop”, about 45 minutes, 2.0 km" in english.get_content()
    [norwegian_sms] = sns_texts_to(s3.region, "+4791234567")
    assert norwegian_sms.startswith("Nytt oppdrag til deg: «Weekly shop», omtrent 45 minutter")
    [english_sms] = sns_texts_to(s3.region, "+447700900456")
    assert english_sms.startswith("New task for you: “Weekly shop”, about 45 minutes")
    # Sent through AWS, not into the embedded outbox folder.
    assert mails_to(backends, amy.account.email) == []

    rows = _outbox(backends, borough)
    assert sorted(r.channel for r in rows) == ["email", "email", "sms", "sms"]
    assert all(r.sent_at is not None and r.attempts == 1 for r in rows)
    with backends.app_context():
        assert not any(deliver_mail(str(borough.id), str(r.id)) for r in rows), "sent once"
    assert len(ses_mails_to(s3.region, amy.account.email)) == 1
    assert len(sns_texts_to(s3.region, "+4791234567")) == 1


def test_a_message_ses_refuses_is_kept_and_retried_not_lost(
    app: Flask, backends: Flask, world: World, s3: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SES answers MessageRejected for an unverified sender: the row records SES's reason
    and waits for a retry; once the sender is verified, the sweep delivers it once."""
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    unverified = "Nyby <no-reply@unverified.example>"
    real = backends.extensions["nyby.settings"]
    monkeypatch.setitem(
        backends.extensions, "nyby.settings", dataclasses.replace(real, mail_from=unverified)
    )
    assert amy.membership is not None
    with backends.test_request_context(), tenant_scope(tenant.id):
        notify(amy.membership.id, "check_verified", check="DBS")
        db.session.commit()
    run_jobs(backends)
    [row] = _outbox(backends, tenant)
    assert row.sent_at is None and row.next_attempt_at is not None
    assert "MessageRejected" in row.last_error, "SES's reason is kept for the admins"
    assert ses_mails_to(s3.region, amy.account.email) == []

    import boto3

    ses = boto3.client("ses", endpoint_url=s3.url, region_name=s3.region)
    ses.verify_email_identity(EmailAddress="no-reply@unverified.example")
    with backends.app_context(), tenant_scope(tenant.id):
        db.session.execute(update(OutgoingMail).values(next_attempt_at=utcnow()))
        db.session.commit()
    with backends.app_context():
        assert send_waiting_mail(str(tenant.id)) == 1
    run_jobs(backends)
    [mail] = ses_mails_to(s3.region, amy.account.email)
    assert mail["From"] == unverified and "DBS" in mail.get_content()
    [row] = _outbox(backends, tenant)
    assert row.sent_at is not None and row.attempts == 2


# -- Web Push --------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Device:
    """A browser's side of a push subscription: the keys only it holds."""

    endpoint: str
    path: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        public = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": _b64(public), "auth": _b64(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)  # type: ignore[no-any-return]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """A stand-in for a browser vendor's push service: keeps each POST it receives."""

    origin: str
    received: list[Received] = field(default_factory=list)
    # What the service answers for a path (201 Created unless told otherwise).
    answers: dict[str, int] = field(default_factory=dict)

    def device(self) -> Device:
        path = f"/push/{uuid.uuid4().hex}"
        return Device(self.origin + path, path)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service: PushService

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append(Received(self.path, headers, body))
            self.send_response(service.answers.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            """Quiet: pytest shows failures, not every request."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service = PushService(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _subscribe(client: FlaskClient, tenant: Tenant, person: Person, device: Device) -> None:
    url = f"/api/v1/tenants/{tenant.slug}/me/push-subscriptions"
    created = client.post(url, json=device.subscription(), headers=person.headers)
    assert created.status_code == 201, created.json


def _offer(backends: Flask, tenant: Tenant, person: Person) -> None:
    assert person.membership is not None
    with backends.test_request_context(), tenant_scope(tenant.id):
        notify(person.membership.id, "task_offered", **OFFER)
        db.session.commit()


def _push_rows(backends: Flask, tenant: Tenant) -> list[OutgoingMail]:
    return [row for row in _outbox(backends, tenant) if row.channel == "push"]


def _devices(backends: Flask, tenant: Tenant) -> list[PushSubscription]:
    with backends.app_context(), tenant_scope(tenant.id):
        return list(db.session.scalars(select(PushSubscription)))


def _verify_vapid(authorization: str, public_key_b64: str) -> dict[str, Any]:
    """RFC 8292: ``vapid t=<JWT>, k=<key>``; the JWT must verify with the server's key."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    assert parts["k"] == public_key_b64
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64(public_key_b64))
    key = ECKey.import_key(
        point.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = jwt.decode(parts["t"], key, algorithms=["ES256"])
    assert token.header["alg"] == "ES256"
    return dict(token.claims)


def test_an_offer_goes_to_the_push_service_signed_and_encrypted_for_the_device(
    backends: Flask, world: World, push_service: PushService
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    client = backends.test_client()
    device = push_service.device()
    _subscribe(client, tenant, amy, device)
    _channels(client, tenant, amy, offers=["push"])

    _offer(backends, tenant, amy)
    run_jobs(backends)

    [request] = push_service.received
    assert push_service.origin + request.path == device.endpoint
    claims = _verify_vapid(
        request.headers["authorization"], backends.extensions["nyby.vapid_public_key"]
    )
    assert claims["aud"] == push_service.origin
    assert claims["sub"] == backends.extensions["nyby.settings"].vapid_subject
    assert utcnow().timestamp() < claims["exp"] <= utcnow().timestamp() + 24 * 3600
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    assert request.headers["urgency"] == "high"  # an offer: wake the phone
    assert device.endpoint.encode() not in request.body and b"Weekly shop" not in request.body
    payload = device.decrypt(request.body)
    assert payload["title"] == "New task for you"
    assert payload["body"].startswith(
        "New task for you: “Weekly shop”, about 45 minutes, 1.2 km from your home area."
    )
    [row] = _push_rows(backends, tenant)
    assert row.sent_at is not None and payload["body"] == row.body


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_forgotten_at_once_without_retries(
    backends: Flask, world: World, push_service: PushService, status: int
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    client = backends.test_client()
    gone, kept = push_service.device(), push_service.device()
    _subscribe(client, tenant, amy, gone)
    _subscribe(client, tenant, amy, kept)
    _channels(client, tenant, amy, offers=["push"])
    push_service.answers[gone.path] = status

    _offer(backends, tenant, amy)
    run_jobs(backends)

    assert sorted(r.path for r in push_service.received) == sorted([gone.path, kept.path])
    assert [d.endpoint for d in _devices(backends, tenant)] == [kept.endpoint]
    [dead] = [row for row in _push_rows(backends, tenant) if row.sent_at is None]
    assert dead.dead_at is not None and dead.attempts == 1 and dead.next_attempt_at is None
    assert str(status) in dead.last_error
    # Long overdue by now: the sweep would pick it up if it were only waiting.
    with backends.app_context(), tenant_scope(tenant.id):
        db.session.execute(update(OutgoingMail).values(created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    with backends.app_context():
        assert send_waiting_mail(str(tenant.id)) == 0
    # The next offer goes to the device that is left, and only there.
    _offer(backends, tenant, amy)
    run_jobs(backends)
    assert [r.path for r in push_service.received[2:]] == [kept.path]


def test_a_failing_push_service_is_retried_with_backoff_then_becomes_a_dead_letter(
    backends: Flask, world: World, push_service: PushService
) -> None:
    tenant = world.tenant()
    admin = world.person(tenant, Role.ADMIN)
    amy = world.person(tenant, Role.VOLUNTEER)
    client = backends.test_client()
    device = push_service.device()
    _subscribe(client, tenant, amy, device)
    _channels(client, tenant, amy, offers=["push"])
    push_service.answers[device.path] = 500

    _offer(backends, tenant, amy)
    run_jobs(backends)
    waits = []
    for attempt in range(1, MAX_ATTEMPTS):
        assert len(push_service.received) == attempt
        [row] = _push_rows(backends, tenant)
        assert row.dead_at is None and row.next_attempt_at is not None
        waits.append(round((row.next_attempt_at - utcnow()).total_seconds() / 60))
        with backends.app_context():
            assert send_waiting_mail(str(tenant.id)) == 0, "not before its backoff"
        with backends.app_context(), tenant_scope(tenant.id):
            db.session.execute(
                update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
        with backends.app_context():
            assert send_waiting_mail(str(tenant.id)) == 1
        run_jobs(backends)
    assert waits == [1, 5, 25, 125]
    assert len(push_service.received) == MAX_ATTEMPTS
    # Every attempt was a fresh, decryptable message (a new salt and key each time).
    assert len({r.body for r in push_service.received}) == MAX_ATTEMPTS
    assert {device.decrypt(r.body)["title"] for r in push_service.received} == {"New task for you"}

    [row] = _push_rows(backends, tenant)
    assert row.dead_at is not None and row.sent_at is None and row.attempts == MAX_ATTEMPTS
    with backends.app_context():
        assert send_waiting_mail(str(tenant.id)) == 0
    assert [d.endpoint for d in _devices(backends, tenant)] == [device.endpoint], "kept"
    listed = client.get(f"/api/v1/tenants/{tenant.slug}/dead-letters", headers=admin.headers)
    [letter] = listed.json
    assert letter["channel"] == "push" and letter["attempts"] == MAX_ATTEMPTS
    assert "500" in letter["last_error"]


# -- the "no tasks near you today" digest ------------------------------------------------------

TOKYO = ZoneInfo("Asia/Tokyo")


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO).astimezone(UTC)


def test_the_digest_waits_for_six_pm_in_the_tenants_zone_skips_busy_people_and_mails_once(
    app: Flask,
    backends: Flask,
    world: World,
    borough: Any,
    nurse: Person,
    s3: S3Endpoint,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Covered elsewhere: off-duty people get nothing, a second forced run tells nobody.
    Here: the hour is the tenant's own, an offer or a task today counts as busy, an
    ended duty or a deactivated membership counts as off, the scheduled (unforced) runs,
    and the mail it sends."""
    today = utcnow().astimezone(TOKYO).date()
    with app.app_context():
        db.session.execute(
            update(Tenant).where(Tenant.id == borough.id).values(timezone="Asia/Tokyo")
        )
        db.session.commit()
    set_policy(app, borough, wave_size=1)
    offered = helper(app, world, borough)
    client = backends.test_client()
    task = post_task(client, nurse).json
    run_jobs(backends)
    took = helper(app, world, borough)
    assert client.post(f"{TASKS}/{task['id']}/accept", headers=took.headers).status_code == 200
    idle = helper(app, world, borough)
    _account(app, idle, locale="nb")
    ended = helper(app, world, borough, on_duty_until=_local(today, 17))
    # Deactivated by a coordinator while on duty: no longer one of the tenant's volunteers.
    left = helper(app, world, borough, is_active=False, deactivated_at=utcnow())
    people = {"offered": offered, "took": took, "idle": idle, "ended": ended, "left": left}

    def digest_at(moment: datetime) -> set[str]:
        monkeypatch.setattr(notification_jobs, "utcnow", lambda: moment)
        with backends.app_context(), tenant_scope(borough.id):
            before = set(db.session.scalars(select(Notification.id)))
        with backends.app_context():
            notification_jobs.send_no_tasks_digest(str(borough.id))
        run_jobs(backends)
        with backends.app_context(), tenant_scope(borough.id):
            told = db.session.scalars(
                select(Notification.recipient_id).where(
                    Notification.kind == "no_tasks_today", Notification.id.not_in(before)
                )
            ).all()
        return {name for name, p in people.items() if p.membership and p.membership.id in told}

    assert digest_at(_local(today, 17, 59)) == set()
    # 18:00 UTC is already 03:00 tomorrow morning in Tokyo.
    assert digest_at(datetime.combine(today, time(18), tzinfo=UTC)) == set()
    assert digest_at(_local(today, 18)) == {"idle"}
    assert digest_at(_local(today, 23)) == set(), "once a day"
    assert digest_at(_local(today + timedelta(days=1), 18)) == {"offered", "took", "idle"}

    mails = ses_mails_to(s3.region, idle.account.email)
    assert [m["Subject"] for m in mails] == ["Ingen oppdrag nær deg i dag"] * 2
    assert "Det kom ingen oppdrag nær deg i dag." in mails[0].get_content()
    assert [m["Subject"] for m in ses_mails_to(s3.region, took.account.email)] == [
        "No tasks near you today"
    ]
    assert ses_mails_to(s3.region, ended.account.email) == []
    assert ses_mails_to(s3.region, left.account.email) == []


# -- two subscriptions of one device at once ------------------------------------------------------


def test_two_subscriptions_of_one_endpoint_at_once_leave_one_row_with_the_last_keys(
    app: Flask, client: FlaskClient, world: World
) -> None:
    tenant = world.tenant()
    amy = world.person(tenant, Role.VOLUNTEER)
    url = f"/api/v1/tenants/{tenant.slug}/me/push-subscriptions"
    # The order in which rows were written, as the database saw it: a flush that waited
    # on the other's insert (the unique constraint) only completes after that commits.
    written: list[tuple[str, str]] = []

    def record(_mapper: Any, _connection: Any, device: PushSubscription) -> None:
        written.append((device.p256dh, device.auth))

    for round_ in range(5):
        endpoint = f"https://push.example.org/{uuid.uuid4().hex}"
        bodies = [
            {"endpoint": endpoint, "keys": {"p256dh": f"key-{round_}-{n}", "auth": f"a{n}"}}
            for n in range(2)
        ]
        written.clear()
        event.listen(PushSubscription, "after_insert", record)
        event.listen(PushSubscription, "after_update", record)
        try:
            answers = all_at_once(
                [
                    lambda body=body: client.post(url, json=body, headers=amy.headers)  # type: ignore[misc]
                    for body in bodies
                ]
            )
        finally:
            event.remove(PushSubscription, "after_insert", record)
            event.remove(PushSubscription, "after_update", record)
        assert [a.status_code for a in answers] == [201, 201], [a.json for a in answers]
        assert answers[0].json["id"] == answers[1].json["id"]
        with app.app_context(), tenant_scope(tenant.id):
            [device] = db.session.scalars(
                select(PushSubscription).where(PushSubscription.endpoint == endpoint)
            ).all()
            keys = (device.p256dh, device.auth)
        sent = {(b["keys"]["p256dh"], b["keys"]["auth"]) for b in bodies}
        assert set(written) == sent, "both were written, neither half of the other"
        assert keys == written[-1]
