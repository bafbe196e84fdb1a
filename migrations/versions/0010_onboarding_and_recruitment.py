"""onboarding: sign-up, evidence, campaigns, passport, invitations, mail outbox

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import nyby.core.db
from nyby.tenancy.rls import drop_tenant_rls, enable_tenant_rls

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "campaigns",
    "campaign_roles",
    "outgoing_mail",
    "invitations",
    "passport_checks",
    "passport_consents",
)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("target_group", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("target_sign_ups", sa.Integer(), nullable=True),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_campaigns_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_campaigns_tenant_id_key")),
    )
    op.create_table(
        "outgoing_mail",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_outgoing_mail_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_outgoing_mail")),
    )
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.create_index("ix_outgoing_mail_unsent", ["tenant_id", "sent_at"], unique=False)

    op.create_table(
        "campaign_roles",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "campaign_id"],
            ["campaigns.tenant_id", "campaigns.id"],
            name=op.f("fk_campaign_roles_tenant_id_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["volunteer_roles.tenant_id", "volunteer_roles.id"],
            name=op.f("fk_campaign_roles_tenant_id_role_id_volunteer_roles"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_campaign_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "campaign_id", "role_id", name=op.f("pk_campaign_roles")
        ),
    )
    with op.batch_alter_table("campaign_roles", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_roles_role", ["tenant_id", "role_id"], unique=False)

    op.create_table(
        "invitations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("role_keys", sa.JSON(), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "invited_by"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_invitations_tenant_id_invited_by_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_invitations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invitations")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_invitations_tenant_id_token_hash")
        ),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index("ix_invitations_email", ["tenant_id", "email"], unique=False)

    op.create_table(
        "passport_checks",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("from_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("from_tenant_name", sa.String(length=200), nullable=False),
        sa.Column("check_kind", sa.String(length=32), nullable=False),
        sa.Column("check_name", sa.String(length=200), nullable=False),
        sa.Column("verified_by_name", sa.String(length=200), nullable=False),
        sa.Column("verified_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_passport_checks_from_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_passport_checks_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_passport_checks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_passport_checks")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "from_tenant_id",
            "check_kind",
            name=op.f("uq_passport_checks_tenant_id_membership_id_from_tenant_id_check_kind"),
        ),
    )
    op.create_table(
        "passport_consents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("to_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("given_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", nyby.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_passport_consents_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_passport_consents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_passport_consents_to_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_passport_consents")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "to_tenant_id",
            name=op.f("uq_passport_consents_tenant_id_membership_id_to_tenant_id"),
        ),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("date_of_birth", sa.Date(), nullable=True))

    with op.batch_alter_table("check_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("submitted_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("evidence_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("evidence_file_name", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("evidence_content_type", sa.String(length=100), nullable=True)
        )
        batch_op.add_column(sa.Column("evidence_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("evidence_number", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("expiry_warned_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("check_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("training", sa.JSON(), nullable=True))

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "agreement_accepted_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("availability", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("skills", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("guardian_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("guardian_email", sa.String(length=254), nullable=True))
        batch_op.add_column(
            sa.Column("guardian_consent_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("first_approved_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_memberships_campaign", ["tenant_id", "campaign_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_memberships_tenant_id_campaign_id_campaigns"),
            "campaigns",
            ["tenant_id", "campaign_id"],
            ["tenant_id", "id"],
        )

    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_by", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", nyby.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("volunteer_agreement", sa.Text(), nullable=False, server_default="")
        )

    # Accounts made before sign-up existed were made by admins or the CLI: trusted.
    op.execute("UPDATE accounts SET email_verified_at = created_at WHERE email_verified_at IS NULL")

    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        drop_tenant_rls(table)
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("volunteer_agreement")

    with op.batch_alter_table("role_assignments", schema=None) as batch_op:
        batch_op.drop_column("reason")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")

    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_memberships_tenant_id_campaign_id_campaigns"), type_="foreignkey"
        )
        batch_op.drop_index("ix_memberships_campaign")
        batch_op.drop_column("first_approved_at")
        batch_op.drop_column("guardian_consent_at")
        batch_op.drop_column("guardian_email")
        batch_op.drop_column("guardian_name")
        batch_op.drop_column("languages")
        batch_op.drop_column("skills")
        batch_op.drop_column("availability")
        batch_op.drop_column("agreement_accepted_at")
        batch_op.drop_column("campaign_id")

    with op.batch_alter_table("check_types", schema=None) as batch_op:
        batch_op.drop_column("training")

    with op.batch_alter_table("check_records", schema=None) as batch_op:
        batch_op.drop_column("expiry_warned_at")
        batch_op.drop_column("evidence_number")
        batch_op.drop_column("evidence_size")
        batch_op.drop_column("evidence_content_type")
        batch_op.drop_column("evidence_file_name")
        batch_op.drop_column("evidence_key")
        batch_op.drop_column("submitted_at")
        batch_op.drop_column("source")
        batch_op.drop_column("reason")
        batch_op.drop_column("verified_by")

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("date_of_birth")
        batch_op.drop_column("email_verified_at")

    op.drop_table("passport_consents")
    op.drop_table("passport_checks")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_invitations_email")

    op.drop_table("invitations")
    with op.batch_alter_table("campaign_roles", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_roles_role")

    op.drop_table("campaign_roles")
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_outgoing_mail_unsent")

    op.drop_table("outgoing_mail")
    op.drop_table("campaigns")
