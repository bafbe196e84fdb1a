from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from nyby.core.db import Base, Timestamped, new_id


class Tenant(Timestamped, Base):
    """A local authority, health organisation or charity. Global: it is the scope itself."""

    __tablename__ = "tenants"
    __audited__ = True  # nyby.audit.trail records every change
    __audit_tenant__ = "id"  # its audit rows are its own

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    branding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dispatch_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A task's chat and failed contact (configuration.schemas.TaskSupportSchema).
    task_support: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Currency, limit per claim and mileage rate (nyby.expenses), as decimal text.
    expense_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Badge milestones and tiers, the leaderboard switch (nyby.recognition).
    recognition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The need-versus-provision map's H3 resolution (nyby.provision).
    need_provision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Sections of the tenant file whose own models arrive with later issues
    # (campaigns, success criteria): kept verbatim so export round-trips them.
    reserved_config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What a volunteer accepts when signing up (from the tenant file).
    volunteer_agreement: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class TenantScoped:
    """Every tenant-owned model: ``tenant_id`` leads its primary key.

    The ORM session filters and stamps it (see ``nyby.tenancy.context``) and, on
    PostgreSQL, row-level security enforces it again.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-10
        )


def tenant_fk(
    columns: list[str], table: str, *, ondelete: str | None = None
) -> ForeignKeyConstraint:
    """A foreign key between tenant tables: always through ``tenant_id`` as well."""
    return ForeignKeyConstraint(
        ["tenant_id", *columns],
        [f"{table}.tenant_id", f"{table}.id"],
        ondelete=ondelete,
    )
