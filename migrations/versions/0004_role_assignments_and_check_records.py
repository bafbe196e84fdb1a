"""role assignments and check records

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TENANT_TABLES = ("role_assignments", "check_records")


def upgrade() -> None:
    op.create_table(
        "check_records",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("check_type_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("verified_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "check_type_id"],
            ["check_types.tenant_id", "check_types.id"],
            name=op.f("fk_check_records_tenant_id_check_type_id_check_types"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_check_records_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_check_records_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_check_records")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "check_type_id",
            name=op.f("uq_check_records_tenant_id_membership_id_check_type_id"),
        ),
    )
    op.create_table(
        "role_assignments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_role_assignments_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["volunteer_roles.tenant_id", "volunteer_roles.id"],
            name=op.f("fk_role_assignments_tenant_id_role_id_volunteer_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_role_assignments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_role_assignments")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "role_id",
            name=op.f("uq_role_assignments_tenant_id_membership_id_role_id"),
        ),
    )

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    op.drop_table("check_records")
    op.drop_table("role_assignments")
