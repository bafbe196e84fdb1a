"""Mail goes through the outbox: written with the change, sent once after the commit."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from nyby.core.db import db, utcnow
from nyby.integrations.mail import OutboxMailer, SmtpMailer, build_message
from nyby.notifications.jobs import deliver_mail, send_waiting_mail
from nyby.notifications.models import OutgoingMail
from nyby.notifications.services import send_mail
from nyby.tenancy.context import tenant_scope
from tests.conftest import World, mails_to, run_jobs


def _write(app: Flask, tenant_id: Any, to: str, *, commit: bool = True) -> str:
    with app.test_request_context(), tenant_scope(tenant_id):
        mail = send_mail(to, "test", "Your volunteering", "Hello and welcome.")
        mail_id = str(mail.id)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
    return mail_id


def test_a_committed_mail_is_delivered_once(app: Flask, world: World) -> None:
    tenant = world.tenant()
    mail_id = _write(app, tenant.id, "ada@example.org")
    run_jobs(app)
    [message] = mails_to(app, "ada@example.org")
    assert message["Subject"] == "Your volunteering"
    assert message.get_content().strip() == "Hello and welcome."
    with app.app_context():
        assert deliver_mail(str(tenant.id), mail_id) is False, "a retried job sends nothing"
    assert len(mails_to(app, "ada@example.org")) == 1


def test_a_rolled_back_change_mails_nobody(app: Flask, world: World) -> None:
    tenant = world.tenant()
    _write(app, tenant.id, "bo@example.org", commit=False)
    run_jobs(app)
    assert mails_to(app, "bo@example.org") == []
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(OutgoingMail)).all() == []


def test_a_failed_send_is_kept_and_retried_by_the_sweep(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = world.tenant()

    class Down(OutboxMailer):
        def send(self, message: EmailMessage) -> None:
            raise ConnectionRefusedError("mail server down")

    real = app.extensions["nyby.mailer"]
    monkeypatch.setitem(app.extensions, "nyby.mailer", Down(real.folder))
    _write(app, tenant.id, "cy@example.org")
    run_jobs(app)
    with app.app_context(), tenant_scope(tenant.id):
        mail = db.session.scalars(select(OutgoingMail)).one()
        assert mail.sent_at is None and "mail server down" in mail.last_error
        assert mail.next_attempt_at is not None, "retried after a backoff"
    monkeypatch.setitem(app.extensions, "nyby.mailer", real)
    with app.app_context():
        assert send_waiting_mail(str(tenant.id)) == 0, "not due yet"
    with app.app_context(), tenant_scope(tenant.id):
        mail = db.session.scalars(select(OutgoingMail)).one()
        mail.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    with app.app_context():
        assert send_waiting_mail(str(tenant.id)) == 1
    run_jobs(app)
    assert len(mails_to(app, "cy@example.org")) == 1
    with app.app_context():
        assert send_waiting_mail(str(tenant.id)) == 0


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Any]]]:
    """A real SMTP server (aiosmtpd) on a free localhost port, keeping what it receives."""
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Keep:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def test_smtp_backend_delivers_to_a_real_server(smtp_server: tuple[int, list[Any]]) -> None:
    port, received = smtp_server
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}")
    mailer.send(build_message("nyby <no-reply@example.org>", "dee@example.org", "Hi", "Hello"))
    [envelope] = received
    assert envelope.rcpt_tos == ["dee@example.org"]
    assert b"Subject: Hi" in envelope.content
