"""Jobs take ids, re-enter their tenant's scope, and sweeps fan out per tenant."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from nyby.auth.permissions import Role
from nyby.core.db import db, utcnow
from nyby.core.idempotency import IdempotencyRecord
from nyby.jobs import schedule
from nyby.jobs.queues import enqueue, tenant_job
from nyby.members.models import Membership
from nyby.tenancy.context import current_tenant_id, tenant_scope
from tests.conftest import World


@tenant_job
def _count_members() -> tuple[object, int]:
    return current_tenant_id(), db.session.scalar(select(func.count()).select_from(Membership)) or 0


def test_tenant_job_runs_inside_its_tenant(app: Flask, world: World) -> None:
    a, b = world.tenant(), world.tenant()
    world.person(a, Role.VOLUNTEER)
    world.person(b, Role.VOLUNTEER)
    world.person(b, Role.STAFF)
    with app.app_context():
        assert _count_members(str(a.id)) == (a.id, 1)
        assert _count_members(str(b.id)) == (b.id, 2)
        assert current_tenant_id() is None, "the scope ends with the job"


def test_purge_sweep_enqueues_one_job_per_tenant_and_forgets_old_keys(
    app: Flask, world: World
) -> None:
    a, b = world.tenant(), world.tenant()
    person_a, person_b = world.person(a, Role.ADMIN), world.person(b, Role.ADMIN)
    with app.app_context():
        for tenant, person in ((a, person_a), (b, person_b)):
            with tenant_scope(tenant.id):
                db.session.add_all(
                    [
                        IdempotencyRecord(
                            account_id=person.account.id,
                            key=f"{tenant.slug}-{age}",
                            request_hash="x",
                            created_at=utcnow() - timedelta(hours=age),
                        )
                        for age in (1, 30)
                    ]
                )
                db.session.commit()
        db.session.remove()
    queue = app.extensions["nyby.queue"]
    with app.app_context():
        sweep = schedule.SCHEDULE[0]
        assert sweep.name == "purge-idempotency-keys"
        sweep.job()
    if hasattr(queue, "rq"):
        # Production path: RQ got one job per tenant; run them as a worker would.
        jobs = queue.rq.jobs
        assert sorted(j.args[0] for j in jobs) == sorted([str(a.id), str(b.id)])
        with app.app_context():
            for job in jobs:
                job.perform()
                job.delete()
    else:
        queue.join()
    with app.app_context():
        for tenant in (a, b):
            with tenant_scope(tenant.id):
                keys = db.session.scalars(select(IdempotencyRecord.key)).all()
                assert keys == [f"{tenant.slug}-1"]


def test_in_process_queue_runs_jobs_in_order(app: Flask) -> None:
    if app.extensions["nyby.redis"] is not None:
        return
    seen: list[int] = []
    with app.app_context():
        for n in range(5):
            enqueue(seen.append, n)
    app.extensions["nyby.queue"].join()
    assert seen == [0, 1, 2, 3, 4]


def test_run_due_enqueues_each_sweep_once_per_interval(app: Flask) -> None:
    calls: list[str] = []
    claims: list[str] = []
    original = schedule.SCHEDULE
    schedule.SCHEDULE = [
        schedule.Periodic("probe", timedelta(minutes=5), lambda: calls.append("ran"))
    ]
    try:
        last: dict[str, float] = {}

        def claim(periodic: schedule.Periodic) -> bool:
            claims.append(periodic.name)
            return len(claims) == 1

        assert schedule.run_due(last, 1000.0, claim) == ["probe"]
        assert schedule.run_due(last, 1100.0, claim) == []  # not due yet
        assert schedule.run_due(last, 1400.0, claim) == []  # due, but another worker claimed it
        assert calls == ["ran"]
    finally:
        schedule.SCHEDULE = original


def test_a_transactions_jobs_go_out_together_after_commit_and_never_after_rollback(
    app: Flask, world: World
) -> None:
    """What one transaction enqueues reaches the queue in one call once it commits (RQ:
    one round trip, a long job keeping its own timeout); a rollback enqueues nothing."""
    from nyby.exports.jobs import run_export
    from nyby.jobs.queues import enqueue_after_commit

    tenant = world.tenant("borough")
    queue = app.extensions["nyby.queue"]
    calls: list[list[object]] = []
    real = queue.enqueue_many

    def counted(batch: list[object]) -> None:
        calls.append(batch)

    queue.enqueue_many = counted
    try:
        with app.app_context(), tenant_scope(tenant.id):
            db.session.scalar(select(func.count()).select_from(Membership))
            enqueue_after_commit(_count_members, str(tenant.id))
            db.session.rollback()
            enqueue_after_commit(_count_members, str(tenant.id))
            enqueue_after_commit(run_export, str(tenant.id), "an-export")
            assert calls == []  # nothing before the commit
            db.session.commit()
    finally:
        del queue.enqueue_many
    assert [[func for func, _ in batch] for batch in calls] == [[_count_members, run_export]]
    if hasattr(queue, "rq"):
        real(calls[0])
        timeouts = {job.func_name.rsplit(".", 1)[-1]: job.timeout for job in queue.rq.jobs}
        assert timeouts["run_export"] == run_export.job_timeout
        for job in queue.rq.jobs:
            job.delete()
