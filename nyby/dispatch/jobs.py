"""Dispatch jobs: one wave of one task, and the sweep that finds every wave that is due."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.core.db import db, utcnow
from nyby.dispatch import waves
from nyby.dispatch.models import TaskDispatch
from nyby.jobs.queues import enqueue, tenant_job
from nyby.tenancy.context import current_tenant_id


@tenant_job
def dispatch_wave(task_id: str) -> int:
    """Send the task's next wave if it is due (a duplicate or retried job does nothing)."""
    return waves.run_wave(uuid.UUID(task_id))


@tenant_job
def send_due_waves() -> int:
    """Every wave whose time has come (periodic): ``next_wave_at`` is the outbox, so a
    task posted while Redis was down, or whose job a dead worker lost, still goes out."""
    due = db.session.scalars(
        select(TaskDispatch.task_id)
        .where(TaskDispatch.next_wave_at <= utcnow())
        .order_by(TaskDispatch.next_wave_at)
    ).all()
    tenant_id = str(current_tenant_id())
    for task_id in due:
        enqueue(dispatch_wave, tenant_id, str(task_id))
    return len(due)
