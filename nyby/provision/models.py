from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nyby.core.db import Base
from nyby.tenancy.models import TenantScoped

# The snapshot's row for people qualified for at least one travelling role (a person
# holding two roles is counted once), beside one row per role key.
ANY_ROLE = "*"


class ProvisionCell(TenantScoped, Base):
    """How many people on duty and qualified live in an area cell, per role: a snapshot
    that ``provision.jobs.refresh_provision`` rewrites every few minutes.

    Counting them live reads every on-duty person's role and checks (400,000 of them at
    NHS Volunteer Responders scale: seconds); the map reads these few thousand rows.
    Keyed by role key, not id, so the any-role row needs no role (roles are only ever
    deactivated, never deleted).
    """

    __tablename__ = "provision_cells"

    area_cell: Mapped[str] = mapped_column(String(16), primary_key=True)
    role_key: Mapped[str] = mapped_column(String(63), primary_key=True)
    people: Mapped[int]
    refreshed_at: Mapped[datetime]
