"""Reporting's periodic work: each tenant's success criteria measured into their history."""

from __future__ import annotations

from nyby.core.db import db, utcnow
from nyby.jobs.queues import tenant_job
from nyby.reporting.services import evaluate_all
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant


@tenant_job
def evaluate_success_criteria() -> int:
    """Every criterion over its current period and the one just before; idempotent, so
    a retried or doubled job writes the same rows."""
    tenant = db.session.get(Tenant, current_tenant_id())
    assert tenant is not None
    return evaluate_all(tenant, utcnow())
