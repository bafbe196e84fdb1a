"""push dispatch: on duty, offers, task dispatch state

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TENANT_TABLES = ("task_dispatches", "offers")


def upgrade() -> None:
    op.create_table(
        "offers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("offered_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_offers_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_offers_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_offers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_offers")),
        sa.UniqueConstraint(
            "tenant_id",
            "task_id",
            "membership_id",
            name=op.f("uq_offers_tenant_id_task_id_membership_id"),
        ),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_offers_member", ["tenant_id", "membership_id", "offered_at"], unique=False
        )
        batch_op.create_index(
            "ix_offers_task_status", ["tenant_id", "task_id", "status"], unique=False
        )

    op.create_table(
        "task_dispatches",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("waves_sent", sa.Integer(), nullable=False),
        sa.Column("radius_km", sa.Float(), nullable=True),
        sa.Column("next_wave_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_task_dispatches_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_task_dispatches_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "task_id", name=op.f("pk_task_dispatches")),
    )
    with op.batch_alter_table("task_dispatches", schema=None) as batch_op:
        batch_op.create_index("ix_task_dispatches_due", ["tenant_id", "next_wave_at"], unique=False)

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("on_duty", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("on_duty_until", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("preferred_roles", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("max_alerts_per_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quiet_hours_start", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("quiet_hours_end", sa.Time(), nullable=True))
        batch_op.create_index(
            "ix_memberships_on_duty_area",
            ["tenant_id", "home_area_cell"],
            unique=False,
            postgresql_where=sa.text("on_duty"),
            sqlite_where=sa.text("on_duty"),
        )

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_memberships_on_duty_area",
            postgresql_where=sa.text("on_duty"),
            sqlite_where=sa.text("on_duty"),
        )
        batch_op.drop_column("quiet_hours_end")
        batch_op.drop_column("quiet_hours_start")
        batch_op.drop_column("max_alerts_per_day")
        batch_op.drop_column("preferred_roles")
        batch_op.drop_column("on_duty_until")
        batch_op.drop_column("on_duty")

    with op.batch_alter_table("task_dispatches", schema=None) as batch_op:
        batch_op.drop_index("ix_task_dispatches_due")

    op.drop_table("task_dispatches")
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_task_status")
        batch_op.drop_index("ix_offers_member")

    op.drop_table("offers")
