"""need versus provision: the provision snapshot and the tenant's map setting

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# As nyby.provision.models has them (written out: a migration does not change with the code).


def upgrade() -> None:
    op.create_table(
        "provision_cells",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("area_cell", sa.String(length=16), nullable=False),
        sa.Column("role_key", sa.String(length=63), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_provision_cells_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "area_cell", "role_key", name=op.f("pk_provision_cells")
        ),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("need_provision", sa.JSON(), nullable=False, server_default="{}")
        )
    enable_tenant_rls("provision_cells")


def downgrade() -> None:
    drop_tenant_rls("provision_cells")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("need_provision")
    op.drop_table("provision_cells")
