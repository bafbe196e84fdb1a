"""success criteria and their evaluations; when a member first went on duty; the posted-tasks index for reports

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TENANT_TABLES = ("success_criteria", "criterion_evaluations")

POSTED_TASK_COLUMNS = ["tenant_id", "created_at", "area_cell", "role_id", "status", "due_by"]


def upgrade() -> None:
    op.create_table(
        "success_criteria",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("comparison", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=True),
        sa.Column("area_cell", sa.String(length=16), nullable=True),
        sa.Column("at_risk_margin", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["volunteer_roles.tenant_id", "volunteer_roles.id"],
            name=op.f("fk_success_criteria_tenant_id_role_id_volunteer_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_success_criteria_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_success_criteria")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_success_criteria_tenant_id_key")),
    )
    op.create_table(
        "criterion_evaluations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("trend", sa.String(length=8), nullable=True),
        sa.Column("evaluated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "criterion_id"],
            ["success_criteria.tenant_id", "success_criteria.id"],
            name=op.f("fk_criterion_evaluations_tenant_id_criterion_id_success_criteria"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_criterion_evaluations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_criterion_evaluations")),
        sa.UniqueConstraint(
            "tenant_id",
            "criterion_id",
            "period_start",
            name=op.f("uq_criterion_evaluations_tenant_id_criterion_id_period_start"),
        ),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_on_duty_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Not recorded until now: those on duty today went on duty by their last change at
    # the latest (an upper bound); those off duty now are not known to have ever been.
    op.execute("UPDATE memberships SET first_on_duty_at = updated_at WHERE on_duty")
    # Reports read the tasks posted in a period from this index alone: the metrics by
    # role and status, need versus provision by area (0018) and whether it was met.
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_posted", POSTED_TASK_COLUMNS, unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_posted")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("first_on_duty_at")

    op.drop_table("criterion_evaluations")
    op.drop_table("success_criteria")
