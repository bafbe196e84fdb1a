"""What a unit of work comes from: a request (its id) or a job (its name).

Every request gets an id: the caller's ``X-Request-ID`` when it is a plain token (a
proxy or a phone may send one), else a new one. It is echoed in the response, kept on
every log record (``%(request_id)s``) and on every audit row, so a person's report of
"it failed at 10:02" can be followed from the access log to the audit trail.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
# Letters, digits and a few separators only: the id goes into logs and headers as is.
_SAFE = re.compile(r"[A-Za-z0-9._:-]{8,64}")

_job: ContextVar[str | None] = ContextVar("nyby_job", default=None)


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def current_job() -> str | None:
    return _job.get()


@contextmanager
def running_job(name: str) -> Iterator[None]:
    """Name the job whose unit of work this is (``@tenant_job`` does it)."""
    token = _job.set(name)
    try:
        yield
    finally:
        _job.reset(token)


def _assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _SAFE.fullmatch(given) else uuid.uuid4().hex


def _echo(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


_base_factory = logging.getLogRecordFactory()


def _record_with_origin(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = current_request_id() or current_job() or "-"
    return record


def init_origin(app: Flask) -> None:
    """Runs before everything else in the pipeline, so even a 401 carries its id."""
    app.before_request(_assign)
    app.after_request(_echo)
    logging.setLogRecordFactory(_record_with_origin)
