"""One of every tenant-owned object, for the isolation probe.

A new tenant-scoped model must be added here: test_isolation_probe fails until it is,
so the probe covers every model without anyone remembering to list its endpoints.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from nyby.auth.permissions import Role
from nyby.campaigns.models import Campaign, CampaignRole
from nyby.chat.models import TaskChatRead, TaskMessage
from nyby.clients.models import Client, ClientProfessional
from nyby.configuration import services as configuration
from nyby.configuration.models import CheckType, Team, VolunteerRole
from nyby.core.db import db, new_id, utcnow
from nyby.core.idempotency import IdempotencyRecord
from nyby.dispatch.models import Offer, TaskDispatch
from nyby.escalations.models import ContactAttempt, Escalation
from nyby.expenses.models import ExpenseClaim
from nyby.exports.models import Export
from nyby.feedback.models import TaskFeedback, Thanks
from nyby.geo import Place
from nyby.integrations.storage import tenant_files
from nyby.members.models import Invitation, Membership, MembershipTeam
from nyby.notifications.models import Notification, OutgoingMail, PushSubscription
from nyby.onboarding.models import (
    CheckRecord,
    PassportCheck,
    PassportConsent,
    RoleAssignment,
)
from nyby.provision.models import ProvisionCell
from nyby.recognition.models import ActivityRecord, Badge, RecognitionOptOut
from nyby.reporting.models import CriterionEvaluation, SuccessCriterion, VolunteerCount
from nyby.safeguarding.models import ConcernNote, SafeguardingConcern
from nyby.tasks.models import Task, TaskAttachment, TaskDecline, TaskEvent, TaskSeries
from nyby.tenancy.context import tenant_scope
from nyby.tenancy.models import Tenant
from tests.conftest import World
from tests.samples import PNG


def configuration_document(tenant: Tenant) -> dict[str, Any]:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "kind": "charity",
        "locale": "en",
        "timezone": "Europe/London",
        "check_types": [
            {
                "key": "dbs-basic",
                "name": "Basic DBS",
                "kind": "dbs_basic",
                "evidence": "number",
                "validity_months": 36,
            },
        ],
        "categories": [{"key": "shopping", "name": "Shopping"}],
        "teams": [{"key": "hospital-discharge", "name": "Hospital discharge"}],
        "roles": [
            {
                "key": "shopper",
                "name": "Shopper",
                "description": "Buys and delivers food.",
                "checks": ["dbs-basic"],
                "categories": ["shopping"],
            },
        ],
    }


def seed_tenant(world: World, tenant: Tenant) -> None:
    for role in Role:
        world.person(tenant, role)
    someone = world.person(tenant, Role.VOLUNTEER)
    nurse = world.person(tenant, Role.PROFESSIONAL)
    document = configuration_document(tenant)
    document["roles"][0]["posted_by_teams"] = ["hospital-discharge"]
    # A check with an online module, so GET /me/checks/{id}/training finds one.
    document["check_types"].append(
        {
            "key": "safeguarding",
            "name": "Safeguarding training",
            "kind": "training",
            "training": {
                "pass_mark": 1,
                "questions": [
                    {"question": "Who do you call?", "options": ["999", "No one"], "answer": 0}
                ],
            },
        }
    )
    document["roles"][0]["checks"].append("safeguarding")
    document["success_criteria"] = [
        {"key": "completion", "name": "Completed", "metric": "completion_rate", "target": 0.8}
    ]
    with world.app.app_context():
        configuration.apply(db.session(), document)
        db.session.commit()
        with tenant_scope(tenant.id):
            db.session.add(
                IdempotencyRecord(account_id=someone.account.id, key="seed", request_hash="-")
            )
            place = Place(51.5014, -0.1419)
            client = Client(name="Edith Example", **place.columns())
            db.session.add(client)
            db.session.flush()
            assert nurse.membership is not None
            db.session.add(
                ClientProfessional(client_id=client.id, membership_id=nurse.membership.id)
            )
            assert someone.membership is not None
            role = db.session.scalars(select(VolunteerRole)).one()
            check = db.session.scalars(select(CheckType).where(CheckType.key == "dbs-basic")).one()
            training = db.session.scalars(
                select(CheckType).where(CheckType.key == "safeguarding")
            ).one()
            team = db.session.scalars(select(Team)).one()
            db.session.add(MembershipTeam(membership_id=nurse.membership.id, team_id=team.id))
            db.session.add_all(
                [
                    RoleAssignment(
                        membership_id=someone.membership.id, role_id=role.id, status="approved"
                    ),
                    CheckRecord(
                        membership_id=someone.membership.id,
                        check_type_id=check.id,
                        status="verified",
                        verified_at=utcnow(),
                        submitted_at=utcnow(),
                        evidence_number="123456789012",
                    ),
                    CheckRecord(
                        membership_id=someone.membership.id,
                        check_type_id=training.id,
                        status="verified",
                        verified_at=utcnow(),
                    ),
                ]
            )
            # On duty, so the dispatch pool holds them (nyby.dispatch.pool derives it).
            member = db.session.get_one(Membership, (tenant.id, someone.membership.id))
            member.on_duty = True
            member.home_latitude, member.home_longitude = place.latitude, place.longitude
            member.home_area_cell = place.area_cell
            criterion = db.session.scalars(select(SuccessCriterion)).one()
            db.session.add(
                CriterionEvaluation(
                    criterion_id=criterion.id,
                    period_start=utcnow() - timedelta(days=1),
                    period_end=utcnow(),
                    value=1.0,
                    target=0.8,
                    status="met",
                )
            )
            # Table 2's volunteers as the keep job counted them at a midnight.
            db.session.add(
                VolunteerCount(
                    at=utcnow() - timedelta(days=1),
                    role_key=role.key,
                    approved=1,
                    went_on_duty=0,
                    counted_at=utcnow(),
                )
            )
            campaign = Campaign(key="drivers", name="Drivers wanted", starts_on=date(2026, 1, 1))
            db.session.add(campaign)
            db.session.flush()
            someone.membership.campaign_id = campaign.id
            db.session.add_all(
                [
                    CampaignRole(campaign_id=campaign.id, role_id=role.id),
                    Invitation(
                        email="new.staff@example.org",
                        name="New Staff",
                        roles=["staff"],
                        invited_by=nurse.membership.id,
                        token_hash=new_id().hex,
                        expires_at=utcnow() + timedelta(days=7),
                    ),
                    OutgoingMail(
                        to_address="someone@example.org", kind="seed", subject="Hi", body="Hello"
                    ),
                    PushSubscription(
                        membership_id=someone.membership.id,
                        endpoint="https://push.example.org/seed",
                        p256dh="key",
                        auth="auth",
                    ),
                    # Shared with itself: enough for the probe, which looks from elsewhere.
                    PassportConsent(
                        membership_id=someone.membership.id,
                        to_tenant_id=tenant.id,
                        given_at=utcnow(),
                    ),
                    PassportCheck(
                        membership_id=someone.membership.id,
                        from_tenant_id=tenant.id,
                        from_tenant_name=tenant.name,
                        check_kind="dbs_basic",
                        check_name="Basic DBS",
                        verified_by_name="A Coordinator",
                        verified_at=utcnow(),
                    ),
                ]
            )
            series = TaskSeries(
                client_id=client.id,
                role_id=role.id,
                posted_by=nurse.membership.id,
                rrule="FREQ=WEEKLY",
                first_start=utcnow(),
                window_minutes=48 * 60,
                title="Weekly shop",
                estimated_minutes=60,
                **place.columns(),
            )
            db.session.add(series)
            db.session.flush()
            task = Task(
                client_id=client.id,
                role_id=role.id,
                series_id=series.id,
                posted_by=nurse.membership.id,
                title="Weekly shop",
                estimated_minutes=60,
                earliest_start=utcnow(),
                due_by=utcnow() + timedelta(days=2),
                **place.columns(),
            )
            db.session.add(task)
            db.session.flush()
            db.session.add_all(
                [
                    TaskEvent(task_id=task.id, actor_id=nurse.membership.id, to_status="open"),
                    TaskDecline(task_id=task.id, membership_id=someone.membership.id),
                    TaskDispatch(task_id=task.id, waves_sent=1),
                    Offer(
                        task_id=task.id,
                        membership_id=someone.membership.id,
                        wave=1,
                        score=1.0,
                        offered_at=utcnow(),
                        expires_at=utcnow() + timedelta(minutes=10),
                    ),
                    Notification(
                        recipient_id=nurse.membership.id, kind="task_taken", task_id=task.id
                    ),
                ]
            )
            # Every admin is a safeguarding lead here, so the probe's admin of tenant A
            # finds A's concern (and is refused B's).
            for admin in db.session.scalars(select(Membership).where(Membership.is_admin)):
                admin.is_safeguarding_lead = True
            concern = SafeguardingConcern(
                raised_by=someone.membership.id,
                task_id=task.id,
                client_id=client.id,
                category="neglect",
                description="The house was cold and there was no food.",
            )
            db.session.add(concern)
            db.session.flush()
            files = tenant_files()
            receipt_id = new_id()
            receipt_key = files.key("tasks", task.id, "expenses", receipt_id)
            files.put(receipt_key, PNG, "image/png")
            db.session.add_all(
                [
                    ConcernNote(
                        concern_id=concern.id,
                        author_id=nurse.membership.id,
                        body="Called the duty desk.",
                    ),
                    ExpenseClaim(
                        id=receipt_id,
                        task_id=task.id,
                        claimant_id=someone.membership.id,
                        category="shopping",
                        amount_minor=1250,
                        currency="GBP",
                        receipt_key=receipt_key,
                        receipt_file_name="receipt.png",
                        receipt_content_type="image/png",
                        receipt_size_bytes=len(PNG),
                    ),
                    Export(kind="tasks", parameters={}, requested_by=nurse.membership.id),
                    TaskFeedback(
                        task_id=task.id, author_id=nurse.membership.id, side="poster", rating=5
                    ),
                    Thanks(
                        recipient_id=someone.membership.id,
                        sender_id=nurse.membership.id,
                        task_id=task.id,
                        note="Thank you!",
                    ),
                ]
            )
            attachment_id = new_id()
            key = files.key("tasks", task.id, "attachments", attachment_id)
            files.put(key, PNG, "image/png")
            db.session.add(
                TaskAttachment(
                    id=attachment_id,
                    task_id=task.id,
                    uploaded_by=nurse.membership.id,
                    file_name="shopping-list.png",
                    content_type="image/png",
                    size_bytes=len(PNG),
                    storage_key=key,
                )
            )
            # The need-versus-provision snapshot: its one cell (people on duty there).
            db.session.add(
                ProvisionCell(
                    area_cell=place.area_cell, role_key=role.key, people=1, refreshed_at=utcnow()
                )
            )
            # The chat, with a file, and a failed contact that escalated.
            message_id = new_id()
            message_key = files.key("tasks", task.id, "messages", message_id)
            files.put(message_key, PNG, "image/png")
            escalation = Escalation(task_id=task.id, reason="failed_contact")
            db.session.add_all(
                [
                    TaskMessage(
                        id=message_id,
                        task_id=task.id,
                        author_id=nurse.membership.id,
                        body="The key is with the neighbour.",
                        file_name="note.png",
                        content_type="image/png",
                        size_bytes=len(PNG),
                        storage_key=message_key,
                    ),
                    TaskChatRead(task_id=task.id, membership_id=nurse.membership.id),
                    escalation,
                ]
            )
            # A badge, an issued activity record (both someone's) and the nurse's opt-out.
            db.session.add_all(
                [
                    Badge(
                        member_id=someone.membership.id,
                        milestone="tasks_completed",
                        tier="bronze",
                        threshold=1,
                        value=1,
                    ),
                    ActivityRecord(
                        member_id=someone.membership.id,
                        code=new_id().hex,
                        figures=seeded_figures(tenant),
                    ),
                    RecognitionOptOut(member_id=nurse.membership.id),
                ]
            )
            db.session.flush()
            db.session.add(
                ContactAttempt(
                    task_id=task.id,
                    membership_id=someone.membership.id,
                    method="door",
                    attempted_at=utcnow(),
                    escalation_id=escalation.id,
                )
            )
            db.session.commit()


def seeded_figures(tenant: Tenant) -> dict[str, Any]:
    """An issued activity record's figures, as recognition.services.figures makes them."""
    return {
        "name": "Someone",
        "tenant": tenant.name,
        "member_since": "2026-01-01",
        "tasks_completed": 1,
        "hours": 1.0,
        "clients_helped": 1,
        "first_task_on": "2026-02-01",
        "last_task_on": "2026-02-01",
        "by_role": [{"role": "Shopper", "tasks": 1, "hours": 1.0}],
        "checks": [{"check": "Basic DBS", "verified_on": "2026-01-02", "valid_until": None}],
        "badges": [
            {
                "milestone": "tasks_completed",
                "tier": "bronze",
                "threshold": 1,
                "awarded_on": "2026-02-01",
            }
        ],
        "thanks_received": 1,
        "ratings": 1,
        "average_rating": 5.0,
    }
