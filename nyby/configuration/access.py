"""Resolve and authorise configuration objects in one call."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.configuration.models import VolunteerRole
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.tenancy.models import Tenant
from nyby.tenancy.resolution import Actor


def get_configuration(actor: Actor, action: Action = Action.VIEW_CONFIGURATION) -> Tenant:
    """The actor's tenant, as the owner of its configuration, if ``action`` is allowed."""
    actor.require(action)
    return actor.tenant


def get_role_or_404(
    actor: Actor, role_id: uuid.UUID, action: Action = Action.VIEW_CONFIGURATION
) -> VolunteerRole:
    """The tenant's role with this id, if the actor may see it; then check ``action``.

    Missing, another tenant's, or not visible to the actor: 404 alike, so ids cannot
    be probed. Visible but not changeable by the actor: 403.
    """
    if not actor.can(Action.VIEW_CONFIGURATION):
        raise NotFound("No such role.")
    role = db.session.scalar(select(VolunteerRole).where(VolunteerRole.id == role_id))
    if role is None:
        raise NotFound("No such role.")
    actor.require(action)
    return role
