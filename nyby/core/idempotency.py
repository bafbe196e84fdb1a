"""Idempotency-Key for POSTs: a retry from a phone on a bad network never acts twice.

The key is claimed by inserting a row in the request's own transaction, so the
unique constraint decides between concurrent duplicates and a request that fails
rolls its claim back (the client may simply retry). The response is stored in the
same transaction as the change it reports.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import Response, g, request
from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base, db, new_id, utcnow
from nyby.core.errors import Conflict, DomainError, Unprocessable
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import TenantScoped

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[!-~]{1,255}")
KEPT_FOR = timedelta(hours=24)
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")
FORM_TYPES = {"multipart/form-data", "application/x-www-form-urlencoded"}


class IdempotencyRecord(TenantScoped, Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "key"),
        Index("ix_idempotency_records_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvalidKey(DomainError):
    status = 400
    title = "Invalid Idempotency-Key"


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}?{request.query_string.decode()}\n".encode())
    if request.mimetype not in FORM_TYPES:
        digest.update(request.get_data(cache=True))
        return digest.hexdigest()
    # A form (a file upload) by what it says, not its bytes: a retry encodes it with
    # another multipart boundary. (And the pipeline has parsed it already, so the raw
    # body is no longer there to read.)
    digest.update(json.dumps(sorted(request.form.items(multi=True))).encode())
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        digest.update(json.dumps(["file", name, upload.filename]).encode())
        while chunk := upload.stream.read(64 * 1024):
            digest.update(chunk)
        upload.stream.seek(0)
    return digest.hexdigest()


def claim() -> Response | None:
    """Before the view: replay a finished duplicate, or claim the key for this request."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None or current_tenant_id() is None:
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidKey("The Idempotency-Key must be 1 to 255 visible ASCII characters.")
    if g.get("actor") is None:
        # A public route (sign-up) called by someone who is not a member: keys are kept
        # per member, and such a route's own rules refuse a repeat (one account per email).
        return None
    account_id = g.actor.account.id
    request_hash = _request_hash()
    record = IdempotencyRecord(account_id=account_id, key=key, request_hash=request_hash)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        existing = db.session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key
            )
        )
        assert existing is not None
        return _replay(existing, request_hash)
    g.idempotency_record = record
    return None


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise Unprocessable(
            "This Idempotency-Key was already used for a different request.",
            errors={"Idempotency-Key": ["Used before with another request body."]},
        )
    if record.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.")
    response = Response(record.response_body, status=record.status_code)
    for name, value in record.response_headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember(response: Response) -> None:
    """After a successful view: store what to replay, in the same transaction."""
    record: IdempotencyRecord | None = g.pop("idempotency_record", None)
    if record is None:
        return
    record.status_code = response.status_code
    record.response_body = response.get_data(as_text=True)
    record.response_headers = {
        name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
    }
    db.session.flush()


def purge_expired() -> int:
    """Forget keys older than a day (run per tenant by the periodic job)."""
    result = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - KEPT_FOR)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def describe_header() -> dict[str, Any]:
    return {
        "in": "header",
        "name": HEADER,
        "required": False,
        "description": "Send the same key again to retry safely: the first response is "
        "replayed and nothing is created twice.",
        "schema": {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$"},
    }
