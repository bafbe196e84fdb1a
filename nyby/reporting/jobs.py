"""Reporting's periodic work: each tenant's success criteria measured into their history,
and its volunteers counted as each period ends."""

from __future__ import annotations

from nyby.core.db import db, utcnow
from nyby.jobs.queues import tenant_job
from nyby.reporting import services
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant


@tenant_job
def evaluate_success_criteria() -> int:
    """Every criterion over its current period and the one just before; idempotent, so
    a retried or doubled job writes the same rows."""
    tenant = db.session.get(Tenant, current_tenant_id())
    assert tenant is not None
    return services.evaluate_all(tenant, utcnow())


@tenant_job
def keep_volunteer_counts() -> int:
    """The volunteers at the last local midnight (and, the first time, each month's
    start in the last year), counted once and kept for Table 2; idempotent."""
    tenant = db.session.get(Tenant, current_tenant_id())
    assert tenant is not None
    return services.keep_volunteer_counts(tenant, utcnow())
