"""audit trail: one append-only row per change to (or read of) an audited object

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.config import Settings
from nyby.tenancy.rls import append_only, drop_tenant_rls, enable_tenant_rls

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_membership_id", sa.Uuid(), nullable=True),
        sa.Column("actor_account_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("job", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_audit_entries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_at", ["tenant_id", "at"], unique=False)
        batch_op.create_index(
            "ix_audit_entries_object", ["tenant_id", "object_type", "object_id", "at"], unique=False
        )
        batch_op.create_index(
            "ix_audit_entries_actor", ["tenant_id", "actor_membership_id", "at"], unique=False
        )
    enable_tenant_rls("audit_entries")
    append_only("audit_entries", Settings.from_env().db_app_role)


def downgrade() -> None:
    drop_tenant_rls("audit_entries")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_actor")
        batch_op.drop_index("ix_audit_entries_object")
        batch_op.drop_index("ix_audit_entries_at")
    op.drop_table("audit_entries")
