"""Resolve and authorise success criteria in one call."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.reporting.models import SuccessCriterion
from nyby.tenancy.resolution import Actor


def get_criterion_or_404(
    actor: Actor, criterion_id: uuid.UUID, action: Action | None = None
) -> SuccessCriterion:
    """The tenant's criterion with this id, for those who read reports (coordinators
    and admins); then check ``action``. Missing, another tenant's, or not for the actor
    to see: the same 404."""
    if not actor.can(Action.VIEW_REPORTS):
        raise NotFound("No such success criterion.")
    criterion = db.session.scalar(
        select(SuccessCriterion).where(SuccessCriterion.id == criterion_id)
    )
    if criterion is None:
        raise NotFound("No such success criterion.")
    if action is not None:
        actor.require(action)
    return criterion
