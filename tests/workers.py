"""Real ``nyby worker`` processes for tests (RQ on the test Redis, the test database).

Only where ``REDIS_URL`` is set (CI's PostgreSQL leg): without Redis the app runs its
jobs on the in-process queue, and there is no worker process to start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from tests.conftest import Databases

NYBY = Path(sys.executable).parent / "nyby"
HAS_REDIS = bool(os.environ.get("REDIS_URL"))
NEEDS_REDIS = "needs a real Redis for worker processes: set REDIS_URL (CI's PostgreSQL leg does)"

StartWorker = Callable[[], subprocess.Popen[bytes]]


@contextmanager
def workers(databases: Databases, folder: Path, **env: str) -> Iterator[StartWorker]:
    """A way to start ``nyby worker`` processes (``env``: settings of theirs, as
    ``MAIL_BACKEND``); every one still running is stopped at the end."""
    environment = {
        **os.environ,
        "DATABASE_URL": databases.app_url,
        "MIGRATION_DATABASE_URL": databases.owner_url,
        "NYBY_DATA_DIR": str(folder),
        "SECRET_KEY": "test-secret",
        **env,
    }
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        log = (folder / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [str(NYBY), "worker"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")
        time.sleep(0.05)


def drained(app: Flask, seconds: float = 60) -> None:
    """Wait until the worker has run every job, including the jobs those jobs queued."""
    queue = app.extensions["nyby.queue"].rq

    def idle() -> bool:
        return queue.count == 0 and queue.started_job_registry.count == 0

    for _ in range(2):  # idle twice in a row: a finishing job may just have queued one
        wait_for(idle, seconds, "the worker to run every queued job")
        time.sleep(0.2)
    failed = queue.failed_job_registry.get_job_ids()
    assert not failed, "jobs failed in the worker:\n" + "\n".join(
        f"{job.id} {job.func_name}: {job.exc_info}"
        for job in queue.job_class.fetch_many(failed, connection=queue.connection)
        if job is not None
    )
