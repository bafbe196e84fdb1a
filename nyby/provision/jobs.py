from __future__ import annotations

from nyby.jobs.queues import tenant_job
from nyby.provision import services


@tenant_job
def refresh_provision() -> int:
    """The tenant's snapshot of people on duty and qualified per area (every few minutes)."""
    return services.refresh_provision()
