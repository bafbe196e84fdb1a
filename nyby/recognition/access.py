from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.recognition.models import ActivityRecord
from nyby.tenancy.resolution import Actor


def get_record_or_404(actor: Actor, record_id: uuid.UUID) -> ActivityRecord:
    """An issued activity record: its volunteer's, and readable by coordinators and
    admins (it holds no client data); anyone else gets the same 404 as for none."""
    record = db.session.scalar(select(ActivityRecord).where(ActivityRecord.id == record_id))
    if record is None or (
        record.member_id != actor.membership.id and not actor.can(Action.VIEW_MEMBERS)
    ):
        raise NotFound("No such activity record.")
    return record
