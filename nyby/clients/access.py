from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.audit.trail import record_read
from nyby.auth.permissions import Action
from nyby.clients.models import Client
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.tenancy.resolution import Actor


def get_client_or_404(actor: Actor, client_id: uuid.UUID, action: Action) -> Client:
    """Resolve and authorise in one call: the care team sees the tenant's clients.

    Anyone else gets the same 404 as for a client that does not exist. Whoever gets
    the record has read it: that is in the audit trail (once per request).
    """
    if not actor.can(Action.VIEW_CLIENTS):
        raise NotFound("No such client.")
    client = db.session.scalar(select(Client).where(Client.id == client_id))
    if client is None:
        raise NotFound("No such client.")
    actor.require(action)
    record_read(client)
    return client
