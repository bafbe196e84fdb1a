from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.exports.models import Export
from nyby.tenancy.resolution import Actor


def get_export_or_404(actor: Actor, export_id: uuid.UUID) -> Export:
    """Admins see every export of their tenant; anyone else gets the same 404 as for an
    export that does not exist."""
    export = db.session.scalar(select(Export).where(Export.id == export_id))
    if export is None or not actor.can(Action.EXPORT_DATA):
        raise NotFound("No such export.")
    return export
