"""SMS: one interface, two backends (a local outbox folder, or Amazon SNS).

Like mail, domain code never sends directly: ``notifications.services`` writes an
outbox row in the caller's transaction and a job hands it to the backend after commit.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

from flask import Flask, current_app

from nyby.config import Settings
from nyby.core.db import utcnow


def e164(phone: str) -> str:
    """The number as SNS takes it: +, country code, digits. The sign-up form accepts
    what people type ("+44 (0)7700 900-123", "0047 912 34 567"), and SNS refuses all
    of that. A national number without its country code stays as typed: SNS refuses it
    and the dead letter shows the admins why."""
    digits = re.sub(r"\(0\)|[\s().-]", "", phone)
    return "+" + digits[2:] if digits.startswith("00") else digits


class SmsSender(ABC):
    name: str

    @abstractmethod
    def send(self, phone: str, text: str) -> None:
        """Deliver one text message or raise."""


class OutboxSms(SmsSender):
    """Embedded default: each text is a .sms.txt file in the outbox folder."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, phone: str, text: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.sms.txt"
        with tempfile.NamedTemporaryFile("w", dir=self.folder, delete=False) as handle:
            handle.write(f"To: {phone}\n\n{text}\n")
        Path(handle.name).replace(self.folder / name)


class SnsSms(SmsSender):
    """Amazon SNS direct publish to a phone number, as a transactional message (the
    kind SNS delivers even to numbers that opted out of promotional texts)."""

    name = "sns"

    def __init__(self, region: str | None, endpoint_url: str | None = None) -> None:
        import boto3

        self.client = boto3.client("sns", region_name=region, endpoint_url=endpoint_url)

    def send(self, phone: str, text: str) -> None:
        self.client.publish(
            PhoneNumber=e164(phone),
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
            },
        )


def make_sms_sender(settings: Settings) -> SmsSender:
    if settings.sms_backend == "sns":
        return SnsSms(settings.aws_region, settings.sns_endpoint_url)
    return OutboxSms(settings.outbox_dir)


def init_sms(app: Flask, settings: Settings) -> None:
    app.extensions["nyby.sms"] = make_sms_sender(settings)


def current_sms() -> SmsSender:
    return current_app.extensions["nyby.sms"]  # type: ignore[no-any-return]
