"""tasks

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TENANT_TABLES = ("tasks", "task_declines", "task_events")


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("posted_by", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("estimated_minutes", sa.Integer(), nullable=False),
        sa.Column("earliest_start", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_by", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("what_to_bring", sa.Text(), nullable=False),
        sa.Column("payment_note", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("area_cell", sa.String(length=16), nullable=True),
        sa.Column("street_cell", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("minutes_spent", sa.Integer(), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.Column("closing_reason", sa.Text(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "assignee_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_tasks_tenant_id_assignee_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_tasks_tenant_id_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "posted_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_tasks_tenant_id_posted_by_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["volunteer_roles.tenant_id", "volunteer_roles.id"],
            name=op.f("fk_tasks_tenant_id_role_id_volunteer_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tasks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_tenant_id_assignee_id", "tasks", ["tenant_id", "assignee_id"])
    op.create_index(
        "ix_tasks_tenant_id_status_area_cell", "tasks", ["tenant_id", "status", "area_cell"]
    )

    op.create_table(
        "task_declines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_task_declines_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_task_declines_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_task_declines_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "task_id", "membership_id", name=op.f("pk_task_declines")
        ),
    )
    op.create_table(
        "task_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "actor_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_task_events_tenant_id_actor_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_task_events_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_task_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_task_events")),
    )
    op.create_index("ix_task_events_task", "task_events", ["tenant_id", "task_id", "at"])

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    op.drop_table("task_events")
    op.drop_table("task_declines")
    op.drop_table("tasks")
