"""safeguarding concerns, expenses, feedback and thanks

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "safeguarding_concerns",
    "concern_notes",
    "expense_claims",
    "task_feedback",
    "thanks",
)


def upgrade() -> None:
    op.create_table(
        "expense_claims",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("claimant_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("rate_per_km", sa.String(length=16), nullable=True),
        sa.Column("receipt_key", sa.String(length=300), nullable=True),
        sa.Column("receipt_file_name", sa.String(length=200), nullable=True),
        sa.Column("receipt_content_type", sa.String(length=100), nullable=True),
        sa.Column("receipt_size_bytes", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "claimant_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_expense_claims_tenant_id_claimant_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "decided_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_expense_claims_tenant_id_decided_by_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_expense_claims_tenant_id_task_id_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_expense_claims_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_expense_claims")),
    )
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.create_index(
            "ix_expense_claims_claimant", ["tenant_id", "claimant_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_expense_claims_decided", ["tenant_id", "status", "decided_at"], unique=False
        )
        batch_op.create_index(
            "ix_expense_claims_status", ["tenant_id", "status", "created_at"], unique=False
        )
        batch_op.create_index("ix_expense_claims_task", ["tenant_id", "task_id"], unique=False)

    op.create_table(
        "safeguarding_concerns",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("raised_by", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("occurred_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("status_changed_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_changed_by", sa.Uuid(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["clients.tenant_id", "clients.id"],
            name=op.f("fk_safeguarding_concerns_tenant_id_client_id_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "raised_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_safeguarding_concerns_tenant_id_raised_by_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "status_changed_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_safeguarding_concerns_tenant_id_status_changed_by_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_safeguarding_concerns_tenant_id_task_id_tasks"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_safeguarding_concerns_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_safeguarding_concerns")),
    )
    with op.batch_alter_table("safeguarding_concerns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_safeguarding_concerns_raised_by",
            ["tenant_id", "raised_by", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_safeguarding_concerns_status", ["tenant_id", "status", "created_at"], unique=False
        )

    op.create_table(
        "task_feedback",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_task_feedback_rating_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "author_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_task_feedback_tenant_id_author_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_task_feedback_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_task_feedback_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_task_feedback")),
        sa.UniqueConstraint(
            "tenant_id", "task_id", "side", name=op.f("uq_task_feedback_tenant_id_task_id_side")
        ),
    )
    op.create_table(
        "thanks",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "recipient_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_thanks_tenant_id_recipient_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "sender_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_thanks_tenant_id_sender_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "task_id"],
            ["tasks.tenant_id", "tasks.id"],
            name=op.f("fk_thanks_tenant_id_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_thanks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_thanks")),
    )
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_thanks_recipient", ["tenant_id", "recipient_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_thanks_task", ["tenant_id", "task_id"], unique=False)

    op.create_table(
        "concern_notes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("concern_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "author_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_concern_notes_tenant_id_author_id_memberships"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "concern_id"],
            ["safeguarding_concerns.tenant_id", "safeguarding_concerns.id"],
            name=op.f("fk_concern_notes_tenant_id_concern_id_safeguarding_concerns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_concern_notes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_concern_notes")),
    )
    with op.batch_alter_table("concern_notes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_concern_notes_concern", ["tenant_id", "concern_id", "created_at"], unique=False
        )

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "is_safeguarding_lead", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_index(
            "ix_memberships_safeguarding_leads",
            ["tenant_id"],
            unique=False,
            postgresql_where=sa.text("is_safeguarding_lead"),
            sqlite_where=sa.text("is_safeguarding_lead"),
        )

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expense_policy", sa.JSON(), nullable=False, server_default="{}")
        )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("expense_policy")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_memberships_safeguarding_leads",
            postgresql_where=sa.text("is_safeguarding_lead"),
            sqlite_where=sa.text("is_safeguarding_lead"),
        )
        batch_op.drop_column("is_safeguarding_lead")

    with op.batch_alter_table("concern_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_concern_notes_concern")

    op.drop_table("concern_notes")
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.drop_index("ix_thanks_task")
        batch_op.drop_index("ix_thanks_recipient")

    op.drop_table("thanks")
    op.drop_table("task_feedback")
    with op.batch_alter_table("safeguarding_concerns", schema=None) as batch_op:
        batch_op.drop_index("ix_safeguarding_concerns_status")
        batch_op.drop_index("ix_safeguarding_concerns_raised_by")

    op.drop_table("safeguarding_concerns")
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_expense_claims_task")
        batch_op.drop_index("ix_expense_claims_status")
        batch_op.drop_index("ix_expense_claims_decided")
        batch_op.drop_index("ix_expense_claims_claimant")

    op.drop_table("expense_claims")
