"""Mail: one interface, three backends (a local outbox folder, SMTP, or Amazon SES).

Domain code never sends directly: ``notifications.services.send_mail`` writes the
message to the database in the caller's transaction and a job hands it to the backend
after the commit (a transactional outbox), so a rolled-back change mails nobody.
"""

from __future__ import annotations

import smtplib
import ssl
import tempfile
import uuid
from abc import ABC, abstractmethod
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app

from nyby.config import Settings
from nyby.core.db import utcnow


class Mailer(ABC):
    name: str

    @abstractmethod
    def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise."""


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="nyby")
    message.set_content(body)
    return message


class OutboxMailer(Mailer):
    """Embedded default: each message is an .eml file in a folder (read it, or open it in
    any mail program). Nothing leaves the machine."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
        # Written aside and renamed, so a reader never sees half a message.
        with tempfile.NamedTemporaryFile("wb", dir=self.folder, delete=False) as handle:
            handle.write(bytes(message))
        Path(handle.name).replace(self.folder / name)


class SmtpMailer(Mailer):
    name = "smtp"

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, context=context, timeout=30)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=30)
        with smtp:
            if not self.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


class SesMailer(Mailer):
    """Amazon SES: the whole MIME message goes as is (``send_raw_email``)."""

    name = "ses"

    def __init__(self, region: str | None, endpoint_url: str | None = None) -> None:
        import boto3

        self.client = boto3.client("ses", region_name=region, endpoint_url=endpoint_url)

    def send(self, message: EmailMessage) -> None:
        self.client.send_raw_email(
            Source=str(message["From"]),
            Destinations=[str(message["To"])],
            RawMessage={"Data": bytes(message)},
        )


def make_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "ses":
        return SesMailer(settings.aws_region, settings.ses_endpoint_url)
    if settings.mail_backend == "smtp":
        if not settings.smtp_url:
            raise RuntimeError("MAIL_BACKEND=smtp needs SMTP_URL")
        return SmtpMailer(settings.smtp_url)
    return OutboxMailer(settings.outbox_dir)


def init_mail(app: Flask, settings: Settings) -> None:
    app.extensions["nyby.mailer"] = make_mailer(settings)


def current_mailer() -> Mailer:
    return current_app.extensions["nyby.mailer"]  # type: ignore[no-any-return]
