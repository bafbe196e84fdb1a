"""Push dispatch at NHS scale: the dispatch pool, who may be offered each role's tasks
(nyby.dispatch.pool keeps it), filled here from the tables it is derived from; the two
on-duty indexes of memberships that matching read before it go

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0023"
down_revision = "0022"
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
]
# The memberships' on-duty indexes as 0016 made them, for the downgrade.
MEMBERS_AREA = [
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
MEMBERS_WAITING = ["tenant_id", "waiting_since", "id", "is_active", "on_duty_until", "on_duty"]
# As nyby.dispatch.pool derives it: people on duty in the roles they were approved in,
# staff in the staff-only roles, each with every required check verified.
FILL = """
INSERT INTO dispatch_pool (tenant_id, role_id, membership_id, home_area_cell, home_latitude,
    home_longitude, travel_radius_km, waiting_since, on_duty_until, qualified_until)
SELECT m.tenant_id, r.id, m.id, m.home_area_cell, m.home_latitude, m.home_longitude,
    m.travel_radius_km, m.waiting_since, m.on_duty_until,
    (SELECT min(c.expires_at) FROM check_records c JOIN role_check_types t
        ON t.tenant_id = c.tenant_id AND t.check_type_id = c.check_type_id
     WHERE c.tenant_id = m.tenant_id AND c.membership_id = m.id AND t.role_id = r.id
        AND c.status = 'verified')
FROM memberships m JOIN volunteer_roles r ON r.tenant_id = m.tenant_id
WHERE m.on_duty AND m.is_active AND (m.is_volunteer OR m.is_staff) AND r.is_active
    AND CASE WHEN r.staff_only THEN m.is_staff ELSE EXISTS (
        SELECT 1 FROM role_assignments a WHERE a.tenant_id = m.tenant_id
            AND a.membership_id = m.id AND a.role_id = r.id AND a.status = 'approved') END
    AND NOT EXISTS (
        SELECT 1 FROM role_check_types t WHERE t.tenant_id = m.tenant_id AND t.role_id = r.id
        AND NOT EXISTS (
            SELECT 1 FROM check_records c WHERE c.tenant_id = m.tenant_id
                AND c.membership_id = m.id AND c.check_type_id = t.check_type_id
                AND c.status = 'verified'))
"""


def upgrade() -> None:
    op.create_table(
        "dispatch_pool",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("home_area_cell", sa.String(length=16), nullable=True),
        sa.Column("home_latitude", sa.Float(), nullable=True),
        sa.Column("home_longitude", sa.Float(), nullable=True),
        sa.Column("travel_radius_km", sa.Float(), nullable=True),
        sa.Column("waiting_since", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("on_duty_until", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("qualified_until", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_dispatch_pool_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["volunteer_roles.tenant_id", "volunteer_roles.id"],
            name=op.f("fk_dispatch_pool_tenant_id_role_id_volunteer_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dispatch_pool_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "role_id", "membership_id", name=op.f("pk_dispatch_pool")
        ),
    )
    op.create_index("ix_dispatch_pool_area", "dispatch_pool", AREA)
    op.create_index("ix_dispatch_pool_waiting", "dispatch_pool", WAITING)
    op.create_index("ix_dispatch_pool_member", "dispatch_pool", ["tenant_id", "membership_id"])
    op.execute(FILL)
    enable_tenant_rls("dispatch_pool")
    op.drop_index("ix_memberships_on_duty_waiting", table_name="memberships")
    op.drop_index("ix_memberships_on_duty_area", table_name="memberships")


def downgrade() -> None:
    for name, columns in (
        ("ix_memberships_on_duty_area", MEMBERS_AREA),
        ("ix_memberships_on_duty_waiting", MEMBERS_WAITING),
    ):
        op.create_index(
            name,
            "memberships",
            columns,
            postgresql_where=sa.text("on_duty"),
            sqlite_where=sa.text("on_duty"),
        )
    drop_tenant_rls("dispatch_pool")
    op.drop_table("dispatch_pool")
