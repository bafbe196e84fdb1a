"""Awarding badges: hourly for every tenant, and for one person when they complete a task."""

from __future__ import annotations

import uuid

from nyby.core.db import db
from nyby.jobs.queues import enqueue_after_commit, tenant_job
from nyby.recognition import services
from nyby.tenancy.context import current_tenant_id
from nyby.tenancy.models import Tenant


@tenant_job
def award_badges(member_id: str | None = None) -> int:
    """Award every badge now earned (one member's, or the whole tenant's). Idempotent:
    a badge is one row per member, milestone and tier, so a rerun awards nothing twice."""
    tenant = db.session.get(Tenant, current_tenant_id())
    assert tenant is not None
    return services.award(tenant, [uuid.UUID(member_id)] if member_id else None)


def after_completion(member_id: uuid.UUID) -> None:
    """Once a completed task commits, look at its helper's badges (never if it rolls back;
    the hourly sweep catches a job lost with Redis)."""
    enqueue_after_commit(award_badges, str(current_tenant_id()), str(member_id))
