"""task chat, failed contact and the escalation queue

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TENANT_TABLES = ("task_messages", "task_chat_reads", "escalations", "contact_attempts")
UTC = nyby.core.db.UTCDateTime(timezone=True)


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("task_support", sa.JSON(), nullable=False, server_default="{}")
        )
    op.create_table(
        "task_messages",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        _fk("task_messages", "task_id", "tasks", "CASCADE"),
        _fk("task_messages", "author_id", "memberships"),
        _tenant_fk("task_messages"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_task_messages")),
    )
    op.create_index(
        "ix_task_messages_task", "task_messages", ["tenant_id", "task_id", "created_at"]
    )
    op.create_table(
        "task_chat_reads",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_at", UTC, nullable=False),
        _fk("task_chat_reads", "task_id", "tasks", "CASCADE"),
        _fk("task_chat_reads", "membership_id", "memberships", "CASCADE"),
        _tenant_fk("task_chat_reads"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "task_id", "membership_id", name=op.f("pk_task_chat_reads")
        ),
    )
    op.create_index("ix_task_chat_reads_member", "task_chat_reads", ["tenant_id", "membership_id"])
    op.create_table(
        "escalations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", UTC, nullable=True),
        _fk("escalations", "task_id", "tasks", "CASCADE"),
        _fk("escalations", "resolved_by", "memberships"),
        _tenant_fk("escalations"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_escalations")),
    )
    open_only = sa.text("status = 'open'")
    op.create_index(
        "uq_escalations_one_open_per_task",
        "escalations",
        ["tenant_id", "task_id"],
        unique=True,
        postgresql_where=open_only,
        sqlite_where=open_only,
    )
    op.create_index("ix_escalations_queue", "escalations", ["tenant_id", "status", "opened_at"])
    op.create_table(
        "contact_attempts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("attempted_at", UTC, nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.Column("escalation_id", sa.Uuid(), nullable=True),
        _fk("contact_attempts", "task_id", "tasks", "CASCADE"),
        _fk("contact_attempts", "membership_id", "memberships"),
        _fk("contact_attempts", "escalation_id", "escalations"),
        _tenant_fk("contact_attempts"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_contact_attempts")),
    )
    op.create_index(
        "ix_contact_attempts_task", "contact_attempts", ["tenant_id", "task_id", "attempted_at"]
    )
    # The push tasks dispatch escalated before this revision join the queue, open while
    # their task is still open.
    op.execute(
        """
        INSERT INTO escalations (tenant_id, id, task_id, reason, status, opened_at,
                                 resolution_note)
        SELECT d.tenant_id, d.task_id, d.task_id, 'no_taker', 'open', d.escalated_at, ''
        FROM task_dispatches d JOIN tasks t ON t.tenant_id = d.tenant_id AND t.id = d.task_id
        WHERE d.escalated_at IS NOT NULL AND t.status = 'open'
        """
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    op.drop_table("contact_attempts")
    op.drop_table("escalations")
    op.drop_table("task_chat_reads")
    op.drop_table("task_messages")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("task_support")
