"""Recruitment campaigns: the business rules.

A campaign is set up in the tenant file or through the API (``tenants apply`` then
overwrites what the API changed, as for roles), shared as a public landing page, and
judged by its funnel: visits, sign-ups, approved, first task done, still active after
90 days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from sqlalchemy import Select, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import selectinload

from nyby.auth.permissions import Action
from nyby.campaigns.models import Campaign, CampaignRole
from nyby.campaigns.tenant_file import (
    CAMPAIGN_FIELDS,
    column_value,
    file_value,
    replace_roles,
    role_ids_by_campaign,
)
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db, utcnow
from nyby.core.errors import Conflict, Gone, NotFound, Unprocessable
from nyby.members.models import Membership
from nyby.onboarding.models import AssignmentStatus, RoleAssignment
from nyby.tasks.models import Task, TaskStatus
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor

# "Still active": signed up at least this long ago, and did a task within it.
ACTIVE_AFTER = timedelta(days=90)


class CampaignEnded(Gone):
    """A link of a campaign that has ended; ``ended_on`` says when."""

    def __init__(self, ended_on: date) -> None:
        super().__init__(
            f"This campaign ended on {ended_on.isoformat()}; you can still sign up as a volunteer."
        )
        self.ended_on = ended_on


def find_open_campaign(key: str, today: date) -> Campaign:
    """The campaign a link names, if people may sign up through it today.

    Unknown, deactivated or not yet started: 404. Ended: 410. Both say when, so the
    person can still sign up without it.
    """
    campaign = db.session.scalar(
        select(Campaign).where(Campaign.key == key, Campaign.is_active.is_(True))
    )
    if campaign is None:
        raise NotFound("No such campaign.")
    if today < campaign.starts_on:
        raise NotFound(f"This campaign opens on {campaign.starts_on.isoformat()}.")
    if campaign.ends_on is not None and today > campaign.ends_on:
        raise CampaignEnded(campaign.ends_on)
    return campaign


def tenant_today(tenant: Tenant) -> date:
    """Today where the tenant's people live: a campaign ends at their midnight."""
    return utcnow().astimezone(ZoneInfo(tenant.timezone)).date()


def status_of(campaign: Campaign, today: date) -> str:
    if not campaign.is_active:
        return "inactive"
    if today < campaign.starts_on:
        return "upcoming"
    if campaign.ends_on is not None and today > campaign.ends_on:
        return "ended"
    return "open"


def sign_up_url(tenant: Tenant, campaign: Campaign, *, external: bool = False) -> str:
    """Where the landing page's "Sign up" button leads: the sign-up page, told the campaign."""
    for endpoint in ("web.sign_up", "web.join"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, tenant=tenant.slug, campaign=campaign.key, _external=external)
    # The sign-up page is built alongside; until it is registered, its address.
    path = f"/t/{tenant.slug}/join?{urlencode({'campaign': campaign.key})}"
    return request.host_url.rstrip("/") + path if external else path


def landing_url(tenant: Tenant, campaign: Campaign, *, external: bool = True) -> str:
    """The campaign's public link, to share."""
    return url_for("web.campaign_landing", tenant=tenant.slug, key=campaign.key, _external=external)


# -- coordinators' set-up --------------------------------------------------------------


def may_see_campaigns(actor: Actor) -> bool:
    return actor.can(Action.VIEW_MEMBERS) or actor.can(Action.VERIFY_VOLUNTEERS)


def list_campaigns(actor: Actor, *, include_inactive: bool = False) -> Select[tuple[Campaign]]:
    """The tenant's campaigns in the file's order, with the roles each offers."""
    if not may_see_campaigns(actor):
        actor.require(Action.MANAGE_CAMPAIGNS)
    statement = (
        select(Campaign)
        .options(selectinload(Campaign.roles))
        .order_by(Campaign.is_active.desc(), Campaign.position, Campaign.key)
    )
    if not include_inactive:
        statement = statement.where(Campaign.is_active)
    return statement


def create_campaign(actor: Actor, data: Mapping[str, Any]) -> Campaign:
    """A new campaign (data from ``CampaignCreateSchema``); the key must be new here.

    It lasts until the next ``tenants apply`` of a file without it, which deactivates
    it: export the file to keep it.
    """
    actor.require(Action.MANAGE_CAMPAIGNS)
    existing = db.session.scalar(select(Campaign).where(Campaign.key == data["key"]))
    if existing is not None:
        hint = " It is deactivated: reactivate it instead." if not existing.is_active else ""
        raise Conflict(
            f"A campaign with key {data['key']!r} already exists.{hint}",
            errors={"key": [f"A campaign with this key already exists.{hint}"]},
        )
    role_ids = _offered_role_ids(data["roles"])
    last = db.session.scalar(select(func.max(Campaign.position)))
    campaign = Campaign(
        key=data["key"],
        position=0 if last is None else last + 1,  # new campaigns go last
        **{field: column_value(field, data[field]) for field in CAMPAIGN_FIELDS if field in data},
    )
    db.session.add(campaign)
    db.session.flush()
    replace_roles(db.session(), campaign.id, set(), set(role_ids))
    db.session.flush()
    db.session.expire(campaign, ["roles"])
    return campaign


def update_campaign(actor: Actor, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    """Change the fields given (``CampaignUpdateSchema``); unchanged values write nothing.
    ``is_active: false`` deactivates it: its link answers 404, its funnel stays."""
    actor.require(Action.MANAGE_CAMPAIGNS)
    role_ids = _offered_role_ids(data["roles"]) if "roles" in data else None
    starts_on = data.get("starts_on", file_value(campaign, "starts_on"))
    ends_on = data["ends_on"] if "ends_on" in data else file_value(campaign, "ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise Unprocessable(
            "A campaign cannot end before it starts.",
            errors={"ends_on": ["Must not be before starts_on."]},
        )
    changed = False
    for field in (*CAMPAIGN_FIELDS, "is_active"):
        if field in data and file_value(campaign, field) != data[field]:
            setattr(campaign, field, column_value(field, data[field]))
            changed = True
    if role_ids is not None:
        current = role_ids_by_campaign(db.session()).get(campaign.id, set())
        if replace_roles(db.session(), campaign.id, current, set(role_ids)):
            if not changed:
                campaign.updated_at = utcnow()  # bumps version_id: a stale If-Match fails
            db.session.flush()
            db.session.expire(campaign, ["roles"])
    db.session.flush()
    return campaign


def _offered_role_ids(keys: Sequence[str]) -> list[uuid.UUID]:
    """Role keys a campaign may offer: the tenant's active volunteer roles."""
    rows = db.session.execute(
        select(
            VolunteerRole.key, VolunteerRole.id, VolunteerRole.is_active, VolunteerRole.staff_only
        ).where(VolunteerRole.key.in_(keys))
    ).tuples()
    found = {key: (role_id, active, staff_only) for key, role_id, active, staff_only in rows}
    problems: dict[int, list[str]] = {}
    for index, key in enumerate(keys):
        if key not in found:
            problems[index] = [f"Unknown role {key!r}."]
        elif not found[key][1]:
            problems[index] = [f"The role {key!r} is deactivated."]
        elif found[key][2]:
            problems[index] = [f"The role {key!r} is for staff; campaigns recruit volunteers."]
    if problems:
        raise Unprocessable("The campaign offers roles it cannot.", errors={"roles": problems})
    return [found[key][0] for key in keys]


# -- the public landing page -----------------------------------------------------------


def open_landing(tenant: Tenant, key: str, *, viewer: Actor | None) -> Campaign:
    """The campaign behind a public link, counting the visit.

    Ended: 410 saying when; unknown, deactivated or not started: 404. A visit is one
    atomic ``visits = visits + 1``, so visits at the same moment are all counted.
    The tenant's own campaign managers previewing their page are not visitors.
    """
    campaign = find_open_campaign(key, tenant_today(tenant))
    if viewer is None or not viewer.can(Action.MANAGE_CAMPAIGNS):
        db.session.execute(
            update(Campaign)
            .where(Campaign.id == campaign.id)
            # Setting updated_at to itself keeps its onupdate away: a visit is not an
            # edit, so a coordinator's ETag stays valid.
            .values(visits=Campaign.visits + 1, updated_at=Campaign.updated_at)
            .execution_options(synchronize_session=False)
        )
    return campaign


def landing(tenant: Tenant, key: str, *, viewer: Actor | None) -> dict[str, Any]:
    """The public landing page's content (``LandingSchema``), counting the visit."""
    campaign = open_landing(tenant, key, viewer=viewer)
    return {
        "key": campaign.key,
        "name": campaign.name,
        "message": campaign.message,
        "tenant_name": tenant.name,
        "roles": offered_roles(campaign),
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "sign_up_url": sign_up_url(tenant, campaign, external=True),
    }


def offered_roles(campaign: Campaign) -> list[VolunteerRole]:
    """The roles a landing page describes, with the checks each needs (two queries)."""
    return list(
        db.session.scalars(
            select(VolunteerRole)
            .join(CampaignRole, CampaignRole.role_id == VolunteerRole.id)
            .where(CampaignRole.campaign_id == campaign.id, VolunteerRole.is_active)
            .options(selectinload(VolunteerRole.check_types))
            .order_by(VolunteerRole.position, VolunteerRole.key)
        )
    )


# -- the funnel ------------------------------------------------------------------------


@dataclass(frozen=True)
class Funnel:
    """How far the people a campaign brought have come; each stage is part of the last.

    - sign_ups: memberships that came through the campaign's link;
    - approved: of those, approved in a role at least once;
    - first_task_done: of those, the assignee of at least one completed task;
    - active_after_90_days: of those who signed up 90 or more days ago (``judged``),
      still a member and with a task completed in the last 90 days.
    """

    campaign_id: uuid.UUID
    visits: int
    sign_ups: int
    approved: int
    first_task_done: int
    judged_after_90_days: int
    active_after_90_days: int
    target_sign_ups: int | None

    @property
    def progress(self) -> float | None:
        """Sign-ups as a fraction of the target (above 1 when it is beaten)."""
        if not self.target_sign_ups:
            return None
        return round(self.sign_ups / self.target_sign_ups, 4)


def funnels(campaigns: Iterable[Campaign]) -> dict[uuid.UUID, Funnel]:
    """Every stage for each campaign in one grouped query, whatever the number of members."""
    campaigns = list(campaigns)
    if not campaigns:
        return {}
    now = utcnow()
    cutoff = now - ACTIVE_AFTER
    member = Membership
    approved = or_(
        member.first_approved_at.is_not(None),
        exists().where(
            RoleAssignment.tenant_id == member.tenant_id,
            RoleAssignment.membership_id == member.id,
            or_(
                RoleAssignment.approved_at.is_not(None),
                RoleAssignment.status == AssignmentStatus.APPROVED.value,
            ),
        ),
    )
    completed = and_(
        Task.tenant_id == member.tenant_id,
        Task.assignee_id == member.id,
        Task.status == TaskStatus.COMPLETED.value,
    )
    did_a_task = and_(approved, exists().where(completed))
    judged = member.created_at <= cutoff
    still_active = and_(
        did_a_task,
        judged,
        member.is_active,
        exists().where(completed, Task.completed_at >= cutoff),
    )

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            member.campaign_id,
            func.count(),
            count(approved),
            count(did_a_task),
            count(judged),
            count(still_active),
        )
        .where(member.campaign_id.in_([campaign.id for campaign in campaigns]))
        .group_by(member.campaign_id)
    ).tuples()
    by_campaign = {row[0]: row[1:] for row in rows}
    result = {}
    for campaign in campaigns:
        sign_ups, approved_, first_task, judged_, active = by_campaign.get(
            campaign.id, (0, 0, 0, 0, 0)
        )
        result[campaign.id] = Funnel(
            campaign_id=campaign.id,
            visits=campaign.visits,
            sign_ups=int(sign_ups),
            approved=int(approved_),
            first_task_done=int(first_task),
            judged_after_90_days=int(judged_),
            active_after_90_days=int(active),
            target_sign_ups=campaign.target_sign_ups,
        )
    return result


def funnel(actor: Actor, campaign: Campaign) -> Funnel:
    if not may_see_campaigns(actor):
        actor.require(Action.MANAGE_CAMPAIGNS)
    db.session.refresh(campaign, ["visits"])  # counted by UPDATEs the session did not see
    return funnels([campaign])[campaign.id]
