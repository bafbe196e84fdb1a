"""Campaigns in the tenant file: compared, planned and applied by key with the rest of
the file (``configuration.services._Sync`` calls ``sync_campaigns``), and exported in
the file's shape.

Like roles, a campaign the file leaves out is deactivated, never deleted: sign-ups keep
the campaign they came through. Landing page visits are never touched by a file.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nyby.campaigns.models import Campaign, CampaignRole
from nyby.configuration.models import VolunteerRole
from nyby.core.db import utcnow

# What the file says about a campaign besides its key and roles.
CAMPAIGN_FIELDS = ("name", "message", "target_group", "starts_on", "ends_on", "target_sign_ups")
DATES = ("starts_on", "ends_on")

Note = Callable[[Literal["+", "~", "-"], str | None, str], None]  # op, key, detail


def file_value(campaign: Campaign, field: str) -> Any:
    """A column as the file writes it: dates as ISO text."""
    value = getattr(campaign, field)
    if isinstance(value, date):
        return value.isoformat()
    if field == "target_group":
        return copy.deepcopy(value or {})
    return value


def column_value(field: str, value: Any) -> Any:
    if field in DATES and isinstance(value, str):
        return date.fromisoformat(value)
    if field == "target_group":
        return copy.deepcopy(value)
    return value


def role_ids_by_campaign(session: Session) -> dict[uuid.UUID, set[uuid.UUID]]:
    found: dict[uuid.UUID, set[uuid.UUID]] = {}
    for campaign_id, role_id in session.execute(
        select(CampaignRole.campaign_id, CampaignRole.role_id)
    ).tuples():
        found.setdefault(campaign_id, set()).add(role_id)
    return found


def replace_roles(
    session: Session, campaign_id: uuid.UUID, current: set[uuid.UUID], wanted: set[uuid.UUID]
) -> bool:
    """Make a campaign's role links match ``wanted``; True when anything changed."""
    if removed := current - wanted:
        session.execute(
            delete(CampaignRole).where(
                CampaignRole.campaign_id == campaign_id, CampaignRole.role_id.in_(removed)
            )
        )
    for role_id in sorted(wanted - current):
        session.add(CampaignRole(campaign_id=campaign_id, role_id=role_id))
    return bool(removed or wanted - current)


def export_campaigns(session: Session) -> list[dict[str, Any]]:
    """The current tenant's active campaigns in the file's shape and order."""
    campaigns = session.scalars(
        select(Campaign).where(Campaign.is_active).order_by(Campaign.position, Campaign.key)
    ).all()
    keys: dict[uuid.UUID, list[str]] = {}
    rows = session.execute(
        select(CampaignRole.campaign_id, VolunteerRole.key)
        .join(VolunteerRole, VolunteerRole.id == CampaignRole.role_id)
        .order_by(VolunteerRole.position, VolunteerRole.key)
    ).tuples()
    for campaign_id, role_key in rows:
        keys.setdefault(campaign_id, []).append(role_key)
    return [
        {
            "key": campaign.key,
            **{field: file_value(campaign, field) for field in CAMPAIGN_FIELDS},
            "roles": keys.get(campaign.id, []),
        }
        for campaign in campaigns
    ]


def sync_campaigns(
    session: Session,
    items: list[dict[str, Any]],
    roles: Mapping[str, VolunteerRole],
    *,
    write: bool,
    is_new: bool,
    note: Note,
    show: Callable[[Any], str],
) -> None:
    """Match the tenant's campaigns to the file's (``roles``: every role by key, with
    ids once written). Only differences are written, so a second apply writes nothing."""
    if is_new and not write:
        current: dict[str, Campaign] = {}
        links: dict[uuid.UUID, set[uuid.UUID]] = {}
    else:
        current = {row.key: row for row in session.scalars(select(Campaign))}
        links = role_ids_by_campaign(session)
    key_of = {role.id: key for key, role in roles.items()}
    position_of = {key: role.position for key, role in roles.items()}
    for position, item in enumerate(items):
        key = item["key"]
        campaign = current.get(key)
        if campaign is None:
            note("+", key, "")
            if write:
                campaign = Campaign(
                    key=key,
                    position=position,
                    **{field: column_value(field, item[field]) for field in CAMPAIGN_FIELDS},
                )
                session.add(campaign)
                session.flush()
                replace_roles(session, campaign.id, set(), {roles[k].id for k in item["roles"]})
            continue
        touched = False
        if not campaign.is_active:
            note("~", key, "reactivated")
            touched = True
            if write:
                campaign.is_active = True
        for field in (*CAMPAIGN_FIELDS, "position"):
            new = position if field == "position" else item[field]
            old = campaign.position if field == "position" else file_value(campaign, field)
            if old != new:
                note("~", key, f"{field} {show(old)} -> {show(new)}")
                touched = True
                if write:
                    setattr(campaign, field, column_value(field, new))
        current_ids = links.get(campaign.id, set())
        current_keys = {key_of[role_id] for role_id in current_ids if role_id in key_of}
        if current_keys != set(item["roles"]):
            old_keys = sorted(current_keys, key=lambda k: (position_of.get(k, 0), k))
            note("~", key, f"roles {show(old_keys)} -> {show(item['roles'])}")
            if write:
                wanted = {roles[k].id for k in item["roles"]}
                replace_roles(session, campaign.id, current_ids, wanted)
                if not touched:
                    campaign.updated_at = utcnow()  # bumps version_id: what it offers changed
    in_file = {item["key"] for item in items}
    for key, campaign in current.items():
        if key not in in_file and campaign.is_active:
            note("-", key, "(deactivated)")
            if write:
                campaign.is_active = False
    if write:
        session.flush()
