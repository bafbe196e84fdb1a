"""Web Push: one interface, two backends (a local outbox folder, or the real push
services, VAPID-signed and encrypted with pywebpush).

The VAPID key pair identifies this server to the browsers' push services; the public
half is what the web app subscribes with. Unset, a pair is generated once into the data
folder (like the JWT signing key), so subscriptions survive a restart.
"""

from __future__ import annotations

import base64
import json
import tempfile
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from flask import Flask, current_app
from py_vapid import Vapid

from nyby.config import Settings, create_once
from nyby.core.db import utcnow


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


class SubscriptionGone(Exception):
    """The push service says this subscription no longer exists (404/410): forget it."""


class PushSender(ABC):
    name: str

    @abstractmethod
    def send(self, target: PushTarget, payload: dict[str, Any], urgent: bool = False) -> None:
        """Deliver one notification or raise (SubscriptionGone when it never can).
        ``urgent``: an offer, which a phone should wake for even when saving battery."""


class OutboxPush(PushSender):
    """Embedded default: each payload is a .push.json file in the outbox folder."""

    name = "outbox"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, target: PushTarget, payload: dict[str, Any], urgent: bool = False) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.push.json"
        with tempfile.NamedTemporaryFile("w", dir=self.folder, delete=False) as handle:
            json.dump({"endpoint": target.endpoint, "payload": payload, "urgent": urgent}, handle)
        Path(handle.name).replace(self.folder / name)


class WebPush(PushSender):
    name = "webpush"

    def __init__(self, vapid: Vapid, subject: str) -> None:
        self.vapid = vapid
        self.subject = subject

    def send(self, target: PushTarget, payload: dict[str, Any], urgent: bool = False) -> None:
        from pywebpush import WebPushException, webpush

        try:
            webpush(
                {
                    "endpoint": target.endpoint,
                    "keys": {"p256dh": target.p256dh, "auth": target.auth},
                },
                json.dumps(payload),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},
                ttl=3600,
                headers={"Urgency": "high" if urgent else "normal"},
                timeout=30,
            )
        except WebPushException as error:
            status = getattr(error.response, "status_code", None)
            if status in (404, 410):
                raise SubscriptionGone(str(error)) from error
            raise


def load_vapid(settings: Settings) -> Vapid:
    if settings.vapid_private_key:
        key = settings.vapid_private_key.strip()
        return Vapid.from_pem(key.encode()) if key.startswith("-----") else Vapid.from_string(key)

    def generate() -> bytes:
        vapid = Vapid()
        vapid.generate_keys()
        return bytes(vapid.private_pem())

    return Vapid.from_pem(create_once(Path(settings.data_dir) / "vapid-private-key.pem", generate))


def public_key_b64(vapid: Vapid) -> str:
    """The applicationServerKey browsers subscribe with (base64url, no padding)."""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_push_sender(settings: Settings, vapid: Vapid) -> PushSender:
    if settings.push_backend == "webpush":
        return WebPush(vapid, settings.vapid_subject)
    return OutboxPush(settings.outbox_dir)


def init_push(app: Flask, settings: Settings) -> None:
    vapid = load_vapid(settings)
    app.extensions["nyby.vapid_public_key"] = public_key_b64(vapid)
    app.extensions["nyby.push"] = make_push_sender(settings, vapid)


def current_push() -> PushSender:
    return current_app.extensions["nyby.push"]  # type: ignore[no-any-return]


def vapid_public_key() -> str:
    return current_app.extensions["nyby.vapid_public_key"]  # type: ignore[no-any-return]
