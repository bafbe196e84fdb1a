"""covering indexes for Table 2 at NHS scale: approved roles by member, and what reports count of a member

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# As nyby.onboarding.models has it (written out: a migration does not change with the code).
APPROVED_COLUMNS = ["tenant_id", "membership_id", "status", "approved_at", "role_id"]
COUNTED_COLUMNS = [
    "tenant_id",
    "id",
    "is_volunteer",
    "created_at",
    "is_active",
    "deactivated_at",
    "first_on_duty_at",
    "home_area_cell",
]


def upgrade() -> None:
    op.create_index("ix_role_assignments_member_status", "role_assignments", APPROVED_COLUMNS)
    op.create_index("ix_memberships_counted", "memberships", COUNTED_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_memberships_counted", table_name="memberships")
    op.drop_index("ix_role_assignments_member_status", table_name="role_assignments")
