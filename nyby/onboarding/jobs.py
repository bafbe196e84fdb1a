"""Onboarding's periodic work: the daily check-expiry sweep, one job per tenant."""

from __future__ import annotations

from nyby.core.db import utcnow
from nyby.jobs.queues import tenant_job
from nyby.onboarding.checks import sweep_expiring_checks


@tenant_job
def sweep_check_expiry() -> dict[str, int]:
    """Warn 30 days before a check lapses; at expiry, suspend the roles that need it."""
    return sweep_expiring_checks(utcnow())
