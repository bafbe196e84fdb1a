"""The tenant's settings for what happens around a task once someone holds it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from nyby.configuration.schemas import TaskSupportSchema
from nyby.tenancy.models import Tenant


def task_support(tenant: Tenant) -> dict[str, Any]:
    """``task_support`` from the tenant file with every default filled in (a key this
    version does not know, left by a newer one, is ignored)."""
    return TaskSupportSchema().load(tenant.task_support or {}, unknown=ma.EXCLUDE)
