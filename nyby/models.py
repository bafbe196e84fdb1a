"""Every mapped class, imported once so the metadata is complete (Alembic, tests)."""

from __future__ import annotations

from nyby.audit import trail  # noqa: F401  (the audit hooks, on every session)
from nyby.audit.models import AuditEntry
from nyby.auth.models import Account, RefreshToken
from nyby.campaigns.models import Campaign, CampaignRole
from nyby.chat.models import TaskChatRead, TaskMessage
from nyby.clients.models import Client, ClientProfessional
from nyby.configuration.models import (
    CheckType,
    RoleCategory,
    RoleCheckType,
    RolePostingTeam,
    TaskCategory,
    Team,
    VolunteerRole,
)
from nyby.core.db import Base
from nyby.core.idempotency import IdempotencyRecord
from nyby.dispatch import pool  # noqa: F401  (keeps the dispatch pool, on every session)
from nyby.dispatch.models import Offer, PoolEntry, TaskDispatch
from nyby.escalations.models import ContactAttempt, Escalation
from nyby.expenses.models import ExpenseClaim
from nyby.exports.models import Export
from nyby.feedback.models import TaskFeedback, Thanks
from nyby.members.models import Invitation, Membership, MembershipTeam
from nyby.notifications.models import Notification, OutgoingMail, PushSubscription
from nyby.onboarding.models import CheckRecord, PassportCheck, PassportConsent, RoleAssignment
from nyby.provision.models import ProvisionCell
from nyby.recognition.models import ActivityRecord, Badge, RecognitionOptOut
from nyby.reporting.models import CriterionEvaluation, SuccessCriterion
from nyby.safeguarding.models import ConcernNote, SafeguardingConcern
from nyby.tasks.models import Task, TaskAttachment, TaskDecline, TaskEvent, TaskSeries
from nyby.tenancy.models import Tenant

metadata = Base.metadata

# Global on purpose: everything else is tenant-owned (an architecture test checks).
GLOBAL_MODELS = (Tenant, Account, RefreshToken)

__all__ = [
    "GLOBAL_MODELS",
    "Account",
    "ActivityRecord",
    "AuditEntry",
    "Badge",
    "Campaign",
    "CampaignRole",
    "CheckRecord",
    "CheckType",
    "Client",
    "ClientProfessional",
    "ConcernNote",
    "ContactAttempt",
    "CriterionEvaluation",
    "Escalation",
    "ExpenseClaim",
    "Export",
    "IdempotencyRecord",
    "Invitation",
    "Membership",
    "MembershipTeam",
    "Notification",
    "Offer",
    "OutgoingMail",
    "PassportCheck",
    "PassportConsent",
    "PoolEntry",
    "ProvisionCell",
    "PushSubscription",
    "RecognitionOptOut",
    "RefreshToken",
    "RoleAssignment",
    "RoleCategory",
    "RoleCheckType",
    "RolePostingTeam",
    "SafeguardingConcern",
    "SuccessCriterion",
    "Task",
    "TaskAttachment",
    "TaskCategory",
    "TaskChatRead",
    "TaskDecline",
    "TaskDispatch",
    "TaskEvent",
    "TaskFeedback",
    "TaskMessage",
    "TaskSeries",
    "Team",
    "Tenant",
    "Thanks",
    "VolunteerRole",
    "metadata",
]
