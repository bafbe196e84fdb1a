"""Periodic work, declared as data. The worker enqueues each sweep when it is due."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from nyby.core import idempotency
from nyby.core.db import db
from nyby.dispatch.jobs import send_due_waves
from nyby.exports.jobs import send_queued_exports
from nyby.jobs.queues import enqueue, tenant_job
from nyby.notifications.jobs import send_no_tasks_digest, send_waiting_mail
from nyby.onboarding.jobs import sweep_check_expiry
from nyby.provision.jobs import refresh_provision
from nyby.provision.services import REFRESH_EVERY
from nyby.recognition.jobs import award_badges
from nyby.reporting.jobs import evaluate_success_criteria, keep_volunteer_counts
from nyby.tasks.series import generate_series_occurrences
from nyby.tasks.services import expire_overdue_tasks
from nyby.tenancy.models import Tenant


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    job: Callable[..., object]


@tenant_job
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


def for_each_tenant(job: Callable[..., object]) -> Callable[[], int]:
    """A platform-wide sweep: one job per tenant, never one unscoped job."""

    def sweep() -> int:
        tenant_ids = db.session.scalars(select(Tenant.id).order_by(Tenant.slug)).all()
        db.session.remove()
        for tenant_id in tenant_ids:
            enqueue(job, str(tenant_id))
        return len(tenant_ids)

    sweep.__name__ = f"sweep_{getattr(job, '__name__', 'job')}"
    return sweep


SCHEDULE = [
    Periodic("purge-idempotency-keys", timedelta(hours=1), for_each_tenant(purge_idempotency_keys)),
    Periodic("expire-overdue-tasks", timedelta(minutes=5), for_each_tenant(expire_overdue_tasks)),
    Periodic(
        "generate-series-occurrences",
        timedelta(hours=1),
        for_each_tenant(generate_series_occurrences),
    ),
    # Retries are due 1, 5, 25 ... minutes after a failure, so the sweep runs each minute.
    Periodic("send-waiting-mail", timedelta(minutes=1), for_each_tenant(send_waiting_mail)),
    # Hourly, but it acts once a local day, after 18:00 (idempotent).
    Periodic("no-tasks-digest", timedelta(hours=1), for_each_tenant(send_no_tasks_digest)),
    Periodic("sweep-check-expiry", timedelta(hours=24), for_each_tenant(sweep_check_expiry)),
    # Waves are due by the minute; each due task's wave is its own (idempotent) job.
    Periodic("send-due-waves", timedelta(minutes=1), for_each_tenant(send_due_waves)),
    # Years active and badges missed by a lost job; completing a task awards at once.
    Periodic("award-badges", timedelta(hours=1), for_each_tenant(award_badges)),
    # Who is on duty and qualified per area, for the need-versus-provision map.
    Periodic("refresh-provision", REFRESH_EVERY, for_each_tenant(refresh_provision)),
    # Exports asked for while Redis was down, or left by a dead worker.
    Periodic("send-queued-exports", timedelta(minutes=1), for_each_tenant(send_queued_exports)),
    # Re-measures the current period (and the one just ended) in place: idempotent.
    Periodic(
        "evaluate-success-criteria",
        timedelta(hours=1),
        for_each_tenant(evaluate_success_criteria),
    ),
    # Volunteers as they stood at each local midnight, counted once soon after it and
    # kept: Table 2 of an ended period reads them (idempotent).
    Periodic("keep-volunteer-counts", timedelta(hours=1), for_each_tenant(keep_volunteer_counts)),
]


def run_due(last_run: dict[str, float], now: float, claim: Callable[[Periodic], bool]) -> list[str]:
    """Enqueue every periodic sweep that is due; ``claim`` stops two workers doing it twice."""
    started = []
    for periodic in SCHEDULE:
        if now - last_run.get(periodic.name, 0.0) < periodic.every.total_seconds():
            continue
        last_run[periodic.name] = now
        if claim(periodic):
            periodic.job()
            started.append(periodic.name)
    return started
