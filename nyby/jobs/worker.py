"""`nyby worker`: an RQ worker plus the periodic schedule, or the schedule alone."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time

import rq
from flask import Flask
from sqlalchemy.orm import configure_mappers

from nyby.jobs.schedule import Periodic, run_due

log = logging.getLogger(__name__)
TICK_SECONDS = 30


def _claimer(app: Flask):  # type: ignore[no-untyped-def]
    client = app.extensions.get("nyby.redis")

    def claim(periodic: Periodic) -> bool:
        if client is None:
            return True
        # One worker of many enqueues each sweep per interval.
        ttl = max(int(periodic.every.total_seconds()) - 1, 1)
        return bool(client.set(f"nyby:periodic:{periodic.name}", "1", nx=True, ex=ttl))

    return claim


def run_scheduler(app: Flask, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    last_run: dict[str, float] = {}
    claim = _claimer(app)
    while not stop.is_set():
        try:
            with app.app_context():
                for name in run_due(last_run, time.time(), claim):
                    log.info("periodic job enqueued: %s", name)
        except Exception:
            log.exception("periodic schedule failed; trying again next tick")
        stop.wait(TICK_SECONDS)


def _schedule_while_parent_lives(app: Flask, parent: int) -> None:
    """The schedule, in a process of its own that ends when the worker is gone."""
    stop = threading.Event()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        stop.set()

    threading.Thread(target=watch, daemon=True, name="nyby-parent-watch").start()
    run_scheduler(app, stop)


def run_worker(app: Flask) -> None:
    client = app.extensions.get("nyby.redis")
    if client is None:
        log.info("no REDIS_URL: periodic jobs run in this process (nyby serve does the same)")
        run_scheduler(app)
        return
    # Not a thread of this process: RQ forks a work-horse per job, and a horse forked
    # while the schedule's thread held a lock (the database pool's, logging's) would
    # wait for it forever, its job hanging until RQ's timeout.
    schedule = multiprocessing.get_context("fork").Process(
        target=_schedule_while_parent_lives,
        args=(app, os.getpid()),
        name="nyby-scheduler",
        daemon=True,
    )
    schedule.start()
    # Done once here, not in every forked work-horse: the mappers (about 40 % of a short
    # job's time when each horse configured them for itself).
    configure_mappers()
    try:
        with app.app_context():
            rq.Worker(["default"], connection=client).work(with_scheduler=True)
    finally:
        schedule.terminate()
