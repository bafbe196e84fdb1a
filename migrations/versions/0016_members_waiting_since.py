"""members wait for an offer since their last one (or since they joined): matching's pool in index order

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# As nyby.members.models has them (written out: a migration does not change with the code).
AREA_COLUMNS = [
    "tenant_id",
    "home_area_cell",
    "home_latitude",
    "home_longitude",
    "travel_radius_km",
    "is_active",
    "on_duty_until",
    "waiting_since",
    "id",
    "on_duty",
]
WAITING_COLUMNS = ["tenant_id", "waiting_since", "id", "is_active", "on_duty_until", "on_duty"]


def upgrade() -> None:
    op.add_column(
        "memberships",
        sa.Column("waiting_since", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.execute(
        "UPDATE memberships SET waiting_since = coalesce(("
        " SELECT max(offers.offered_at) FROM offers"
        " WHERE offers.tenant_id = memberships.tenant_id"
        " AND offers.membership_id = memberships.id), created_at)"
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.alter_column(
            "waiting_since",
            existing_type=nyby.core.db.UTCDateTime(timezone=True),
            nullable=False,
        )
    # The area index becomes a covering one: matching reads nearby people from it alone.
    op.drop_index("ix_memberships_on_duty_area", table_name="memberships")
    op.create_index(
        "ix_memberships_on_duty_area",
        "memberships",
        AREA_COLUMNS,
        postgresql_where=sa.text("on_duty"),
        sqlite_where=sa.text("on_duty"),
    )
    op.create_index(
        "ix_memberships_on_duty_waiting",
        "memberships",
        WAITING_COLUMNS,
        postgresql_where=sa.text("on_duty"),
        sqlite_where=sa.text("on_duty"),
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_on_duty_waiting", table_name="memberships")
    op.drop_index("ix_memberships_on_duty_area", table_name="memberships")
    op.create_index(
        "ix_memberships_on_duty_area",
        "memberships",
        ["tenant_id", "home_area_cell"],
        postgresql_where=sa.text("on_duty"),
        sqlite_where=sa.text("on_duty"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("waiting_since")
