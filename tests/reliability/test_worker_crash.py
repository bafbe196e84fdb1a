"""A worker killed (kill -9) while it sends a mail: the message is delivered once.

A real ``nyby worker`` (RQ on Redis, SMTP to a real aiosmtpd server) picks up the mail
job; the SMTP server holds the first transaction after RCPT, before DATA, until the
test has killed the worker and the work-horse it forked for the job (RQ puts the horse
in a process group of its own, so killing the worker alone lets the horse finish: that
is one delivery too; here both die, as when a container or machine does). That attempt
never committed, so the outbox row is still unsent and nothing reached the server. RQ
does not run an abandoned job again; the outbox sweep (``send-waiting-mail``) is what
recovers it, through a second worker, and the server accepts the message exactly once.

Delivery is exactly once up to the SMTP server's final reply: a worker dying after the
server accepted DATA but before the row is marked sent would send again (at least once).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from nyby.core.db import db, utcnow
from nyby.jobs.schedule import SCHEDULE
from nyby.notifications.models import OutgoingMail
from nyby.notifications.services import send_mail
from nyby.tenancy.context import tenant_scope
from tests.conftest import Databases, World
from tests.workers import HAS_REDIS, NEEDS_REDIS, StartWorker, wait_for, workers

pytestmark = pytest.mark.skipif(not HAS_REDIS, reason=NEEDS_REDIS)


class HoldFirst:
    """An SMTP handler that holds the first transaction after RCPT until released,
    then refuses it; every later message is accepted and kept."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()
        self.accepted: list[Any] = []
        self._held = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if not self._held:
            self._held = True
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[int, HoldFirst]]:
    from aiosmtpd.controller import Controller

    handler = HoldFirst()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler
    finally:
        handler.release.set()
        controller.stop()


@pytest.fixture
def start_worker(
    databases: Databases, smtp: tuple[int, HoldFirst], tmp_path: Path
) -> Iterator[StartWorker]:
    """``nyby worker`` processes on the test database and Redis, mailing by SMTP."""
    with workers(
        databases, tmp_path, MAIL_BACKEND="smtp", SMTP_URL=f"smtp://127.0.0.1:{smtp[0]}"
    ) as start:
        yield start


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (RQ's work-horse), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _mail(app: Flask, tenant_id: Any) -> tuple[Any, int]:
    """The outbox row's (sent_at, attempts), as the database has them now."""
    with app.app_context(), tenant_scope(tenant_id):
        mail = db.session.scalars(select(OutgoingMail)).one()
        return mail.sent_at, mail.attempts


def test_a_mail_whose_worker_was_killed_is_delivered_once(
    app: Flask,
    world: World,
    smtp: tuple[int, HoldFirst],
    start_worker: StartWorker,
) -> None:
    _, server = smtp
    tenant = world.tenant()
    first = start_worker()
    with app.test_request_context(), tenant_scope(tenant.id):
        send_mail("gus@example.org", "test", "Your volunteering", "Hello and welcome.")
        db.session.commit()  # enqueued on Redis for the worker

    assert server.holding.wait(60), "the worker never started sending"
    horses = _children(first.pid)
    assert horses, "RQ sends from a forked work-horse"
    for pid in [first.pid, *horses]:
        os.kill(pid, signal.SIGKILL)
    first.wait(timeout=10)
    server.release.set()
    queue = app.extensions["nyby.queue"].rq
    # RQ left the job as started by a dead worker; it does not run it again by itself.
    abandoned = set(queue.started_job_registry.get_job_ids())
    assert len(abandoned) == 1 and not abandoned & set(queue.job_ids)

    assert _mail(app, tenant.id) == (None, 0), "the killed attempt committed nothing"
    assert server.accepted == []

    start_worker()
    with app.app_context(), tenant_scope(tenant.id):
        # The sweep leaves mail younger than five minutes to its own job.
        db.session.execute(update(OutgoingMail).values(created_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    [sweep] = [p for p in SCHEDULE if p.name == "send-waiting-mail"]
    with app.app_context():
        sweep.job()  # as the schedule does: send_waiting_mail per tenant, on Redis
    wait_for(lambda: _mail(app, tenant.id)[0] is not None, 60, "the mail to be sent")
    assert len(server.accepted) == 1
    assert server.accepted[0].rcpt_tos == ["gus@example.org"]
    assert b"Subject: Your volunteering" in server.accepted[0].content

    # Sweeping again, with the job long finished, sends nothing more.
    with app.app_context():
        sweep.job()

    def idle() -> bool:
        return queue.count == 0 and set(queue.started_job_registry.get_job_ids()) <= abandoned

    wait_for(idle, 30, "the second sweep to finish")
    time.sleep(1)
    assert len(server.accepted) == 1
