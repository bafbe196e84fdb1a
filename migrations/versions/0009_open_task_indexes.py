"""browsing open tasks reads two covering partial indexes, not the table

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FILTERS = ["due_by", "earliest_start", "reserved_until", "client_id", "category_id", "id"]
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_tenant_id_status_area_cell")
        batch_op.create_index(
            "ix_tasks_open_by_area",
            ["tenant_id", "area_cell", "role_id", *FILTERS, "latitude", "longitude"],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )
        batch_op.create_index(
            "ix_tasks_open_by_role",
            ["tenant_id", "role_id", *FILTERS],
            unique=False,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_open_by_role")
        batch_op.drop_index("ix_tasks_open_by_area")
        batch_op.create_index(
            "ix_tasks_tenant_id_status_area_cell",
            ["tenant_id", "status", "area_cell"],
            unique=False,
        )
