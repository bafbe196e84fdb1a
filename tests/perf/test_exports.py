"""An admin's export of a month's tasks at scale: the whole job, batch by batch.

Run on SQLite, then on PostgreSQL (``DATABASE_URL`` and ``REDIS_URL`` set):

    .venv/bin/python -m pytest tests/perf/test_exports.py -o addopts="" -p no:cacheprovider \\
        --benchmark-only --benchmark-columns=median,iqr,rounds --benchmark-group-by=group

One tenant with 240,000 tasks posted evenly over twelve months (20,000 a month), seeded
once with bulk ``insert()``. Measured in the same run: the export job for one month
(claim, count, every batch read, written and committed as progress, the file stored and
the export marked done) and for all twelve, against a plain ``COUNT(*)`` of the tenant's
tasks. What matters is that the time grows with the rows exported, not with their
square: each batch is one keyset query (``id > last``, primary-key order), so the
month costs about a twelfth of the year.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from nyby.auth.permissions import Role
from nyby.clients.models import Client
from nyby.configuration import services as configuration
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db
from nyby.exports.jobs import run_export
from nyby.exports.models import Export
from nyby.geo import Place
from nyby.tasks.models import Task
from nyby.tenancy.context import tenant_scope
from tests.conftest import World, wipe
from tests.perf.seeding import vacuum
from tests.seed import configuration_document

TASKS = 240_000
START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
CHUNK = 10_000


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """The module's tenant stays seeded from one benchmark to the next."""
    yield


@pytest.fixture(scope="module")
def county(app: Flask, owner_engine: Engine) -> Any:
    world = World(app)
    tenant = world.tenant("county")
    with app.app_context():
        configuration.apply(db.session(), configuration_document(tenant))
        db.session.commit()
    admin = world.person(tenant, Role.ADMIN)
    assert admin.membership is not None
    with app.app_context(), tenant_scope(tenant.id):
        role_id = db.session.scalars(select(VolunteerRole.id)).one()
        client = Client(name="Edith Clark", **Place(52.63, -1.13).columns())
        db.session.add(client)
        db.session.flush()
        minutes = 365 * 24 * 60 / TASKS
        for first in range(0, TASKS, CHUNK):
            rows = []
            for n in range(first, min(first + CHUNK, TASKS)):
                posted = START + timedelta(minutes=n * minutes)
                rows.append(
                    {
                        "tenant_id": tenant.id,
                        "id": uuid.uuid4(),
                        "client_id": client.id,
                        "role_id": role_id,
                        "posted_by": admin.membership.id,
                        "title": "Weekly shop",
                        "description": "",
                        "estimated_minutes": 60,
                        "urgency": "routine",
                        "what_to_bring": "",
                        "payment_note": "",
                        "address": "",
                        "earliest_start": posted,
                        "due_by": posted + timedelta(days=1),
                        "status": "completed" if n % 5 else "expired",
                        "outcome_note": "",
                        "closing_reason": "",
                        "version_id": 1,
                        "created_at": posted,
                        "updated_at": posted,
                        "area_cell": "87195da49ffffff",
                    }
                )
            db.session.execute(insert(Task), rows)
        db.session.commit()
    vacuum(owner_engine)
    yield tenant, admin
    wipe(app, owner_engine)


def _export(app: Flask, tenant: Any, admin: Any, parameters: dict[str, Any]) -> int:
    with app.app_context(), tenant_scope(tenant.id):
        export = Export(kind="tasks", parameters=parameters, requested_by=admin.membership.id)
        db.session.add(export)
        db.session.commit()
        export_id = export.id
    with app.app_context():
        assert run_export(str(tenant.id), str(export_id)) is True
    with app.app_context(), tenant_scope(tenant.id):
        done = db.session.scalar(select(Export.rows_done).where(Export.id == export_id))
    return int(done or 0)


@pytest.mark.benchmark(group="export")
def test_count_of_every_task(benchmark: Any, app: Flask, county: Any) -> None:
    tenant, _ = county

    def count() -> int:
        with app.app_context(), tenant_scope(tenant.id):
            return int(db.session.scalar(select(func.count()).select_from(Task)) or 0)

    assert benchmark.pedantic(count, rounds=5, warmup_rounds=1) == TASKS


@pytest.mark.benchmark(group="export")
def test_export_of_a_month(benchmark: Any, app: Flask, county: Any) -> None:
    tenant, admin = county
    month = {"from": "2025-06-01", "to": "2025-06-30"}
    rows = benchmark.pedantic(lambda: _export(app, tenant, admin, month), rounds=3)
    assert 19_000 < rows < 21_000


@pytest.mark.benchmark(group="export")
def test_export_of_a_year(benchmark: Any, app: Flask, county: Any) -> None:
    tenant, admin = county
    assert benchmark.pedantic(lambda: _export(app, tenant, admin, {}), rounds=1) == TASKS
