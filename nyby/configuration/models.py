"""What a tenant configures: checks, task categories, teams and volunteer roles.

Rows are keyed by a slug (``key``) that is unique per tenant, because the tenant file
refers to them by key and ``apply`` upserts by key; the UUID is the public id.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nyby.core.db import Base, Timestamped, new_id
from nyby.tenancy.models import TenantScoped, tenant_fk


class CheckKind(StrEnum):
    IDENTITY = "identity"
    DBS_BASIC = "dbs_basic"
    DBS_ENHANCED = "dbs_enhanced"
    DRIVING_LICENCE = "driving_licence"
    TRAINING = "training"
    REFERENCE = "reference"
    OTHER = "other"


class Evidence(StrEnum):
    """What a coordinator records when a check is passed."""

    NONE = "none"
    DOCUMENT = "document"
    NUMBER = "number"


class DispatchMode(StrEnum):
    PULL = "pull"  # volunteers browse open tasks near them
    PUSH = "push"  # the platform offers each task in waves
    BOTH = "both"


class CheckType(TenantScoped, Timestamped, Base):
    """A check a volunteer must pass before taking a role (ID, DBS, training...)."""

    __tablename__ = "check_types"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(String(16), default=Evidence.NONE.value)
    # None: passed once, never expires (an identity check, say).
    validity_months: Mapped[int | None]
    # A training check passed online: {"introduction", "pass_mark", "questions": [{"question",
    # "options", "answer"}]} from the tenant file. None: no online module.
    training: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Order in the tenant file, so export keeps the order the council chose.
    position: Mapped[int] = mapped_column(default=0)


class TaskCategory(TenantScoped, Timestamped, Base):
    """A kind of task (shopping, medicines...): how needs are grouped and reported."""

    __tablename__ = "task_categories"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class Team(TenantScoped, Timestamped, Base):
    """A team of the tenant's staff (adult social care, hospital discharge...).

    Members belong to teams, and a role may be posted only by some teams. A team
    dropped from the tenant file is deleted with its member links: nothing else
    refers to a team, so there is no history to keep.
    """

    __tablename__ = "teams"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)


class VolunteerRole(TenantScoped, Timestamped, Base):
    """A role people sign up for, with the checks it needs and the tasks it takes."""

    __tablename__ = "volunteer_roles"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # shown at sign-up
    guidance: Mapped[str] = mapped_column(Text, default="")  # shown once approved
    dispatch_mode: Mapped[str] = mapped_column(String(8), default=DispatchMode.BOTH.value)
    staff_only: Mapped[bool] = mapped_column(default=False)
    # Phone or video check-ins: no travel, so no distance limit when matching.
    remote: Mapped[bool] = mapped_column(default=False)
    min_age: Mapped[int | None]
    # Tasks will reference roles, so a role dropped from the file is deactivated, not deleted.
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    version_id: Mapped[int] = mapped_column(default=1)

    # Read-only views of the link rows; services write RoleCheckType/RoleCategory
    # themselves, so no two relationships ever write the shared tenant_id column.
    check_types: Mapped[list[CheckType]] = relationship(
        secondary="role_check_types",
        primaryjoin=lambda: and_(
            VolunteerRole.tenant_id == RoleCheckType.tenant_id,
            VolunteerRole.id == RoleCheckType.role_id,
        ),
        secondaryjoin=lambda: and_(
            CheckType.tenant_id == RoleCheckType.tenant_id,
            CheckType.id == RoleCheckType.check_type_id,
        ),
        order_by=lambda: (CheckType.position, CheckType.key),
        viewonly=True,
    )
    categories: Mapped[list[TaskCategory]] = relationship(
        secondary="role_categories",
        primaryjoin=lambda: and_(
            VolunteerRole.tenant_id == RoleCategory.tenant_id,
            VolunteerRole.id == RoleCategory.role_id,
        ),
        secondaryjoin=lambda: and_(
            TaskCategory.tenant_id == RoleCategory.tenant_id,
            TaskCategory.id == RoleCategory.category_id,
        ),
        order_by=lambda: (TaskCategory.position, TaskCategory.key),
        viewonly=True,
    )
    # Empty: anyone who may post tasks may post in this role (see configuration.posting).
    posted_by_teams: Mapped[list[Team]] = relationship(
        secondary="role_posting_teams",
        primaryjoin=lambda: and_(
            VolunteerRole.tenant_id == RolePostingTeam.tenant_id,
            VolunteerRole.id == RolePostingTeam.role_id,
        ),
        secondaryjoin=lambda: and_(
            Team.tenant_id == RolePostingTeam.tenant_id,
            Team.id == RolePostingTeam.team_id,
        ),
        order_by=lambda: (Team.position, Team.key),
        viewonly=True,
    )

    __mapper_args__ = {"version_id_col": version_id}


class RoleCheckType(TenantScoped, Base):
    """A check that a role requires."""

    __tablename__ = "role_check_types"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        # Roles are only ever deactivated; a check type in use must not be deleted
        # (NO ACTION, so deleting a whole tenant still cascades cleanly).
        tenant_fk(["role_id"], "volunteer_roles", ondelete="CASCADE"),
        tenant_fk(["check_type_id"], "check_types"),
        Index("ix_role_check_types_check_type", "tenant_id", "check_type_id"),
    )

    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    check_type_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class RoleCategory(TenantScoped, Base):
    """A task category that a role takes."""

    __tablename__ = "role_categories"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        tenant_fk(["role_id"], "volunteer_roles", ondelete="CASCADE"),
        tenant_fk(["category_id"], "task_categories"),
        Index("ix_role_categories_category", "tenant_id", "category_id"),
    )

    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    category_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class RolePostingTeam(TenantScoped, Base):
    """A team whose members may post tasks in a role."""

    __tablename__ = "role_posting_teams"
    __audited__ = True  # nyby.audit.trail records every change
    __table_args__ = (
        # NO ACTION on the team: apply refuses to drop a team a deactivated role names.
        tenant_fk(["role_id"], "volunteer_roles", ondelete="CASCADE"),
        tenant_fk(["team_id"], "teams"),
        Index("ix_role_posting_teams_team", "tenant_id", "team_id"),
    )

    role_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
