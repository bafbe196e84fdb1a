"""repeat series, task categories, home areas, in-app notifications

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TENANT_TABLES = ("task_series", "notifications")


def upgrade() -> None:
    op.create_table(
        "task_series",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("posted_by", sa.Uuid(), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("first_start", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("estimated_minutes", sa.Integer(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("what_to_bring", sa.Text(), nullable=False),
        sa.Column("payment_note", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("area_cell", sa.String(length=16), nullable=True),
        sa.Column("street_cell", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=True),
        sa.Column("generated_until", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"],
            ["task_categories.tenant_id", "task_categories.id"],
            name=op.f("fk_task_series_tenant_id_category_id_task_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_task_series_tenant_id_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "holder_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_task_series_tenant_id_holder_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "posted_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_task_series_tenant_id_posted_by_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["volunteer_roles.tenant_id", "volunteer_roles.id"],
            name=op.f("fk_task_series_tenant_id_role_id_volunteer_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_task_series_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_task_series")),
    )
    with op.batch_alter_table("task_series", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_series_tenant_id_status", ["tenant_id", "status"], unique=False
        )

    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "recipient_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_notifications_tenant_id_recipient_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_notifications_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_notifications_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_recipient", ["tenant_id", "recipient_id", "created_at"], unique=False
        )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("home_longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("home_area_cell", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("travel_radius_km", sa.Float(), nullable=True))

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("series_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("reserved_until", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_tasks_tenant_id_client_id", ["tenant_id", "client_id"], unique=False
        )
        batch_op.drop_index("ix_tasks_tenant_id_assignee_id")
        batch_op.create_index(
            "ix_tasks_tenant_id_assignee_id_status",
            ["tenant_id", "assignee_id", "status"],
            unique=False,
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_tasks_tenant_id_series_id_earliest_start"),
            ["tenant_id", "series_id", "earliest_start"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_tenant_id_category_id_task_categories"),
            "task_categories",
            ["tenant_id", "category_id"],
            ["tenant_id", "id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_tenant_id_series_id_task_series"),
            "task_series",
            ["tenant_id", "series_id"],
            ["tenant_id", "id"],
        )

    op.create_index(
        "ix_task_declines_membership", "task_declines", ["tenant_id", "membership_id", "task_id"]
    )

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    op.drop_index("ix_task_declines_membership", table_name="task_declines")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tasks_tenant_id_series_id_task_series"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_tasks_tenant_id_category_id_task_categories"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_tasks_tenant_id_series_id_earliest_start"), type_="unique"
        )
        batch_op.drop_index("ix_tasks_tenant_id_client_id")
        batch_op.drop_index("ix_tasks_tenant_id_assignee_id_status")
        batch_op.create_index(
            "ix_tasks_tenant_id_assignee_id", ["tenant_id", "assignee_id"], unique=False
        )
        batch_op.drop_column("reserved_until")
        batch_op.drop_column("series_id")
        batch_op.drop_column("category_id")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("travel_radius_km")
        batch_op.drop_column("home_area_cell")
        batch_op.drop_column("home_longitude")
        batch_op.drop_column("home_latitude")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_recipient")

    op.drop_table("notifications")
    with op.batch_alter_table("task_series", schema=None) as batch_op:
        batch_op.drop_index("ix_task_series_tenant_id_status")

    op.drop_table("task_series")
