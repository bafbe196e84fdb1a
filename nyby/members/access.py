from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.members.models import Membership
from nyby.tenancy.resolution import Actor


def get_member_or_404(actor: Actor, membership_id: uuid.UUID, action: Action) -> Membership:
    """Resolve and authorise in one call.

    Everyone sees their own membership; seeing others needs VIEW_MEMBERS. Whoever
    may not see a membership gets the same 404 as for one that does not exist.
    """
    own = membership_id == actor.membership.id
    if not own and not actor.can(Action.VIEW_MEMBERS):
        raise NotFound("No such member.")
    member = db.session.scalar(select(Membership).where(Membership.id == membership_id))
    if member is None:
        raise NotFound("No such member.")
    if action is not Action.VIEW_MEMBERS:
        actor.require(action)
    return member
