from __future__ import annotations

import uuid

from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.escalations.models import Escalation
from nyby.tasks.models import Task
from nyby.tenancy.resolution import Actor


def get_escalation_or_404(actor: Actor, escalation_id: uuid.UUID) -> tuple[Escalation, Task]:
    """An escalation of this tenant, with its task, for a coordinator (403 for anyone
    else, before this is called: ``@allowed_to``)."""
    actor.require(Action.HANDLE_ESCALATIONS)
    escalation = db.session.scalar(select(Escalation).where(Escalation.id == escalation_id))
    if escalation is None:
        raise NotFound("No such escalation.")
    task = db.session.scalars(select(Task).where(Task.id == escalation.task_id)).one()
    return escalation, task
