"""Where jobs go: RQ on Redis, or (embedded default) a worker thread in this process.

Jobs are plain functions taking ids only; tenant jobs also take ``tenant_id`` and
re-enter that tenant's scope (``tenant_job``). A platform-wide sweep enqueues one
job per tenant instead of running unscoped.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

import redis
import rq
from flask import Flask, current_app

from nyby.core.db import db
from nyby.core.origin import running_job
from nyby.tenancy.context import tenant_scope

log = logging.getLogger(__name__)


class InProcessQueue:
    """One background thread running jobs in order, inside an app context."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue_many(self, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        for call in calls:
            self._jobs.put(call)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="nyby-jobs", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            func, args = self._jobs.get()
            try:
                with self._app.app_context():
                    func(*args)
            except Exception:
                log.exception("job %s failed", getattr(func, "__name__", func))
            finally:
                self._jobs.task_done()

    def join(self) -> None:
        """Wait until every queued job has run (tests, shutdown)."""
        self._jobs.join()


class RedisQueue:
    def __init__(self, client: redis.Redis) -> None:
        self.rq = rq.Queue("default", connection=client)

    def enqueue_many(self, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> None:
        """One round trip to Redis for them all (a wave's offers and their deliveries). A
        job that may run long (an export) says so with a ``job_timeout`` attribute."""
        self.rq.enqueue_many(
            [
                rq.Queue.prepare_data(func, args, timeout=getattr(func, "job_timeout", None))
                for func, args in calls
            ]
        )

    def join(self) -> None:
        """Nothing to wait for here: RQ workers are other processes."""


def init_queue(app: Flask, client: redis.Redis | None) -> None:
    app.extensions["nyby.queue"] = RedisQueue(client) if client else InProcessQueue(app)


def enqueue(func: Callable[..., Any], *args: Any) -> None:
    current_app.extensions["nyby.queue"].enqueue_many([(func, args)])


_AFTER_COMMIT = "nyby.jobs_after_commit"


def enqueue_after_commit(func: Callable[..., Any], *args: Any) -> None:
    """Enqueue ``func(*args)`` once the current transaction commits, never if it rolls
    back. A transaction's jobs go to the queue together, in one call."""
    session = db.session()
    pending = session.info.get(_AFTER_COMMIT)
    if pending is None:
        pending = session.info[_AFTER_COMMIT] = []

        def send() -> None:
            calls = session.info.pop(_AFTER_COMMIT, [])
            current_app.extensions["nyby.queue"].enqueue_many(calls)

        db.on_commit(send)
        db.on_rollback(lambda: session.info.pop(_AFTER_COMMIT, None))
    pending.append((func, args))


def tenant_job(func: Callable[..., Any]) -> Callable[..., Any]:
    """A job for one tenant: ``job(tenant_id, *ids)`` runs in that tenant's scope.

    Its unit of work commits once at the end, or rolls back if it fails.
    """

    @wraps(func)
    def run(tenant_id: str, *args: Any) -> Any:
        try:
            with (
                running_job(func.__name__),
                tenant_scope(uuid.UUID(str(tenant_id))),
                db.unit_of_work(),
            ):
                return func(*args)
        finally:
            db.session.remove()

    return run
