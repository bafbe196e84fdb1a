"""notification channels: per-person channels, push subscriptions, retries, dead letters

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TENANT_TABLES = ("push_subscriptions",)


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_push_subscriptions_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_push_subscriptions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "endpoint",
            name=op.f("uq_push_subscriptions_tenant_id_membership_id_endpoint"),
        ),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), nullable=False, server_default="email")
        )
        batch_op.add_column(
            sa.Column("next_attempt_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dead_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_outgoing_mail_dead", ["tenant_id", "dead_at"], unique=False)
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notification_channels", sa.JSON(), nullable=False, server_default="{}")
        )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("notification_channels")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_outgoing_mail_dead")
        batch_op.drop_column("dead_at")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("channel")
    op.drop_table("push_subscriptions")
