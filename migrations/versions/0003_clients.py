"""clients

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_TABLES = ("clients", "client_professionals")


def upgrade() -> None:
    op.create_table(
        "clients",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("area_cell", sa.String(length=16), nullable=False),
        sa.Column("street_cell", sa.String(length=16), nullable=False),
        sa.Column("hearing_impairment", sa.Boolean(), nullable=False),
        sa.Column("dementia", sa.Boolean(), nullable=False),
        sa.Column("interpreter_language", sa.String(length=35), nullable=True),
        sa.Column("mobility_needs", sa.Boolean(), nullable=False),
        sa.Column("pets", sa.Boolean(), nullable=False),
        sa.Column("key_safe", sa.Boolean(), nullable=False),
        sa.Column("lone_working_risk", sa.Boolean(), nullable=False),
        sa.Column("risk_assessment", sa.Text(), nullable=False),
        sa.Column("consent_given_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("consent_recorded_by", sa.Uuid(), nullable=True),
        sa.Column("consent_note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "consent_recorded_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_clients_tenant_id_consent_recorded_by_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_clients_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_clients")),
    )
    op.create_index("ix_clients_tenant_id_area_cell", "clients", ["tenant_id", "area_cell"])

    op.create_table(
        "client_professionals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_client_professionals_tenant_id_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_client_professionals_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_client_professionals_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "client_id", "membership_id", name=op.f("pk_client_professionals")
        ),
    )
    op.create_index(
        "ix_client_professionals_membership", "client_professionals", ["tenant_id", "membership_id"]
    )

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    op.drop_table("client_professionals")
    op.drop_table("clients")
