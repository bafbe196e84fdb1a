from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.expenses.models import ExpenseClaim
from nyby.tenancy.resolution import Actor


def get_claim_or_404(actor: Actor, claim_id: uuid.UUID) -> ExpenseClaim:
    """Coordinators and admins see every claim; a volunteer sees their own. Anything
    else is the same 404 as a claim that does not exist."""
    claim = db.session.scalar(select(ExpenseClaim).where(ExpenseClaim.id == claim_id))
    if claim is None or not (
        actor.can(Action.DECIDE_EXPENSES) or claim.claimant_id == actor.membership.id
    ):
        raise NotFound("No such expense claim.")
    return claim
