"""The dispatch pool holds each person's quiet hours, so matching leaves those asleep out
in SQL: in the evening they crowded the front of the waiting order, never offered
anything, until a wave of 15 found nobody awake among the 100 it read

Revision ID: 0024
Revises: 0023
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# As nyby.dispatch.models has them (written out: a migration does not change with the code).
AREA = [
    "tenant_id",
    "role_id",
    "home_area_cell",
    "home_latitude",
    "home_longitude",
    "travel_radius_km",
    "on_duty_until",
    "qualified_until",
    "quiet_hours_start",
    "quiet_hours_end",
    "waiting_since",
    "membership_id",
]
WAITING = [
    "tenant_id",
    "role_id",
    "waiting_since",
    "membership_id",
    "on_duty_until",
    "qualified_until",
    "quiet_hours_start",
    "quiet_hours_end",
]
# As 0023 made them, for the downgrade.
AREA_BEFORE = [c for c in AREA if not c.startswith("quiet_hours")]
WAITING_BEFORE = [c for c in WAITING if not c.startswith("quiet_hours")]
COPY = """
UPDATE dispatch_pool SET
    quiet_hours_start = (SELECT m.quiet_hours_start FROM memberships m
        WHERE m.tenant_id = dispatch_pool.tenant_id AND m.id = dispatch_pool.membership_id),
    quiet_hours_end = (SELECT m.quiet_hours_end FROM memberships m
        WHERE m.tenant_id = dispatch_pool.tenant_id AND m.id = dispatch_pool.membership_id)
"""


def _indexes(area: list[str], waiting: list[str]) -> None:
    op.create_index("ix_dispatch_pool_area", "dispatch_pool", area)
    op.create_index("ix_dispatch_pool_waiting", "dispatch_pool", waiting)


def _drop_indexes() -> None:
    op.drop_index("ix_dispatch_pool_area", table_name="dispatch_pool")
    op.drop_index("ix_dispatch_pool_waiting", table_name="dispatch_pool")


def upgrade() -> None:
    _drop_indexes()
    with op.batch_alter_table("dispatch_pool", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_hours_start", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("quiet_hours_end", sa.Time(), nullable=True))
    op.execute(COPY)
    _indexes(AREA, WAITING)


def downgrade() -> None:
    _drop_indexes()
    with op.batch_alter_table("dispatch_pool", schema=None) as batch_op:
        batch_op.drop_column("quiet_hours_end")
        batch_op.drop_column("quiet_hours_start")
    _indexes(AREA_BEFORE, WAITING_BEFORE)
