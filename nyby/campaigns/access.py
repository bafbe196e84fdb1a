"""Resolve and authorise campaigns in one call."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.campaigns.models import Campaign
from nyby.campaigns.services import may_see_campaigns
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.tenancy.resolution import Actor


def get_campaign_or_404(
    actor: Actor, campaign_id: uuid.UUID, action: Action | None = None
) -> Campaign:
    """The tenant's campaign with this id, if the actor may see campaigns (coordinators
    and admins); then check ``action``. Missing, another tenant's, or not for the actor
    to see: the same 404."""
    if not may_see_campaigns(actor):
        raise NotFound("No such campaign.")
    campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id))
    if campaign is None:
        raise NotFound("No such campaign.")
    if action is not None:
        actor.require(action)
    return campaign
