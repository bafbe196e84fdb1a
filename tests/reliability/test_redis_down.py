"""Redis down while push tasks are posted: posting still works and nothing is lost.

The database is the outbox (``TaskDispatch.next_wave_at``, ``OutgoingMail.sent_at``);
the job enqueued after the commit is only a shortcut. When Redis refuses it the
request has already committed, so it answers 201, and the periodic sweeps send what
is due once Redis is back.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from nyby.core.db import db, utcnow
from nyby.dispatch.models import Offer, TaskDispatch
from nyby.jobs.queues import RedisQueue
from nyby.jobs.schedule import SCHEDULE
from nyby.notifications.models import OutgoingMail
from nyby.notifications.services import send_mail
from nyby.tenancy.context import tenant_scope
from tests.conftest import Person, World, mails_to, run_jobs
from tests.tasking import post_task
from tests.test_dispatch import OFFERS, helper, set_policy

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs a real Redis: set REDIS_URL (CI's PostgreSQL leg does)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_down(app: Flask, monkeypatch: pytest.MonkeyPatch) -> RedisQueue:
    """The app's queue on a Redis address where nothing listens; undone after the test.

    Returns the real queue, to bring Redis "back" with."""
    real = app.extensions["nyby.queue"]
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{_free_port()}/0", socket_connect_timeout=1)
    with pytest.raises(redis.ConnectionError):
        dead.ping()
    monkeypatch.setitem(app.extensions, "nyby.queue", RedisQueue(dead))
    return real  # type: ignore[no-any-return]


def _run_sweep(app: Flask, name: str) -> None:
    """The periodic sweep as the worker's schedule runs it: one job per tenant."""
    [periodic] = [p for p in SCHEDULE if p.name == name]
    with app.app_context():
        periodic.job()
    run_jobs(app)


def test_push_tasks_posted_while_redis_is_down_go_out_when_it_is_back(
    app: Flask,
    client: FlaskClient,
    world: World,
    borough: Any,
    nurse: Person,
    redis_down: RedisQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_policy(app, borough, wave_size=3, radius_km=5)
    helpers = [helper(app, world, borough, km) for km in (0.5, 1.0, 1.5)]

    titles = ["Shop for Edith", "Prescription pick-up", "Post a parcel"]
    posted = [post_task(client, nurse, title=title) for title in titles]
    assert [response.status_code for response in posted] == [201, 201, 201]
    task_ids = {response.json["id"] for response in posted}

    # Nothing went out yet, but every task's first wave is recorded as due.
    assert redis_down.rq.count == 0
    for person in helpers:
        assert client.get(OFFERS, headers=person.headers).json == []
    with app.app_context(), tenant_scope(borough.id):
        due = db.session.scalars(
            select(TaskDispatch).where(TaskDispatch.next_wave_at <= utcnow())
        ).all()
        assert {str(row.task_id) for row in due} == task_ids

    monkeypatch.setitem(app.extensions, "nyby.queue", redis_down)  # Redis is back
    _run_sweep(app, "send-due-waves")

    for person in helpers:
        offers = client.get(OFFERS, headers=person.headers).json
        assert sorted(offer["task"]["title"] for offer in offers) == sorted(titles)
        assert {offer["wave"] for offer in offers} == {1}
        notices = client.get("/api/v1/tenants/borough/notifications", headers=person.headers).json
        assert len([n for n in notices if n["kind"] == "task_offered"]) == 3
    # A second sweep (or a late duplicate job) offers nothing twice.
    _run_sweep(app, "send-due-waves")
    with app.app_context(), tenant_scope(borough.id):
        assert len(db.session.scalars(select(Offer)).all()) == 9


def test_mail_written_while_redis_is_down_is_sent_once_by_the_sweep(
    app: Flask, world: World, redis_down: RedisQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = world.tenant()
    with app.test_request_context(), tenant_scope(tenant.id):
        send_mail("fay@example.org", "test", "Welcome", "Hello and welcome.")
        db.session.commit()  # the enqueue after it fails, and is only logged
    monkeypatch.setitem(app.extensions, "nyby.queue", redis_down)
    run_jobs(app)
    assert mails_to(app, "fay@example.org") == []

    with app.app_context(), tenant_scope(tenant.id):
        # The sweep leaves mail younger than five minutes to its own job.
        db.session.execute(update(OutgoingMail).values(created_at=utcnow() - timedelta(minutes=10)))
        db.session.commit()
    _run_sweep(app, "send-waiting-mail")
    assert len(mails_to(app, "fay@example.org")) == 1
    _run_sweep(app, "send-waiting-mail")
    assert len(mails_to(app, "fay@example.org")) == 1
