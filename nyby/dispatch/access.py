from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.dispatch.models import Offer
from nyby.tenancy.resolution import Actor


def get_offer_or_404(actor: Actor, offer_id: uuid.UUID) -> Offer:
    """One of my own offers; anyone else's (or another tenant's) is the same 404 as none."""
    offer = db.session.scalar(
        select(Offer).where(Offer.id == offer_id, Offer.membership_id == actor.membership.id)
    )
    if offer is None:
        raise NotFound("No such offer.")
    return offer
