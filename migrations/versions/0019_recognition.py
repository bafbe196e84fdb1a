"""recognition: badges, opt-outs, issued activity records, the tenant's recognition settings

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TENANT_TABLES = ("badges", "recognition_opt_outs", "activity_records")


def _member_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "member_id"],
        ["memberships.tenant_id", "memberships.id"],
        name=op.f(f"fk_{table}_tenant_id_member_id_memberships"),
        ondelete="CASCADE",
    )


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "badges",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("milestone", sa.String(length=20), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("awarded_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        _member_fk("badges"),
        _tenant_fk("badges"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_badges")),
        sa.UniqueConstraint(
            "tenant_id",
            "member_id",
            "milestone",
            "tier",
            name=op.f("uq_badges_tenant_id_member_id_milestone_tier"),
        ),
    )
    op.create_table(
        "recognition_opt_outs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("opted_out_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        _member_fk("recognition_opt_outs"),
        _tenant_fk("recognition_opt_outs"),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_recognition_opt_outs")),
    )
    op.create_table(
        "activity_records",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("issued_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        _member_fk("activity_records"),
        _tenant_fk("activity_records"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_activity_records")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_activity_records_tenant_id_code")),
    )
    with op.batch_alter_table("activity_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_records_member", ["tenant_id", "member_id", "issued_at"], unique=False
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recognition", sa.JSON(), nullable=False, server_default="{}")
        )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("recognition")
    with op.batch_alter_table("activity_records", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_records_member")
    op.drop_table("activity_records")
    op.drop_table("recognition_opt_outs")
    op.drop_table("badges")
