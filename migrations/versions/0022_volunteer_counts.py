"""Table 2 at NHS scale: volunteers kept as counted at each period's end, and the
tasks' posted index covers the minutes spent (the task counts read the index alone)

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# As nyby.tasks.models has them (written out: a migration does not change with the code).
POSTED_BEFORE = ["tenant_id", "created_at", "area_cell", "role_id", "status", "due_by"]
POSTED_AFTER = [*POSTED_BEFORE, "minutes_spent"]


def upgrade() -> None:
    op.create_table(
        "volunteer_counts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("role_key", sa.String(length=63), nullable=False),
        sa.Column("approved", sa.Integer(), nullable=False),
        sa.Column("went_on_duty", sa.Integer(), nullable=False),
        sa.Column("counted_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_volunteer_counts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "at", "role_key", name=op.f("pk_volunteer_counts")),
    )
    enable_tenant_rls("volunteer_counts")
    _posted_index(POSTED_AFTER)


def downgrade() -> None:
    _posted_index(POSTED_BEFORE)
    drop_tenant_rls("volunteer_counts")
    op.drop_table("volunteer_counts")


def _posted_index(columns: list[str]) -> None:
    op.drop_index("ix_tasks_posted", table_name="tasks")
    op.create_index("ix_tasks_posted", "tasks", columns)
