from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.core.db import db
from nyby.core.errors import Forbidden, NotFound
from nyby.safeguarding.models import SafeguardingConcern
from nyby.tenancy.resolution import Actor


def is_lead(actor: Actor) -> bool:
    """A safeguarding lead: a flag an admin sets on a membership, whatever its roles."""
    return actor.membership.is_safeguarding_lead and actor.membership.is_active


def get_concern_or_404(actor: Actor, concern_id: uuid.UUID) -> SafeguardingConcern:
    """The leads see every concern; whoever raised one sees their own. Anyone else,
    admins and coordinators included, gets the same 404 as for a concern that does not
    exist: a concern is not listed or shown anywhere for them."""
    concern = db.session.scalar(
        select(SafeguardingConcern).where(SafeguardingConcern.id == concern_id)
    )
    if concern is None or not (is_lead(actor) or concern.raised_by == actor.membership.id):
        raise NotFound("No such concern.")
    return concern


def require_lead(actor: Actor) -> None:
    """The raiser may see their concern but not work on it (403, not 404)."""
    if not is_lead(actor):
        raise Forbidden("Only the safeguarding leads can do this.")
