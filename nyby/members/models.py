from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nyby.auth.models import Account
from nyby.auth.permissions import Role
from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped


class Membership(TenantScoped, Timestamped, Base):
    """A person's place in one tenant, with the platform roles they hold there.

    Roles are flags rather than rows: the vocabulary is fixed, and "the tenant's
    coordinators" must stay a cheap indexed query at a 650,000-volunteer tenant.
    """

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("tenant_id", "account_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    deactivated_at: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    is_professional: Mapped[bool] = mapped_column(default=False)
    is_staff: Mapped[bool] = mapped_column(default=False)
    is_volunteer: Mapped[bool] = mapped_column(default=False)
    version_id: Mapped[int] = mapped_column(default=1)

    account: Mapped[Account] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for role in Role if getattr(self, f"is_{role.value}"))

    @roles.setter
    def roles(self, roles: frozenset[Role] | set[Role] | list[Role]) -> None:
        wanted = {Role(r) for r in roles}
        for role in Role:
            setattr(self, f"is_{role.value}", role in wanted)
