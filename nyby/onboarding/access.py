"""Resolve and authorise onboarding objects in one call (the same 404 for missing and
not-yours)."""

from __future__ import annotations

import uuid

from flask_babel import gettext
from sqlalchemy import select

from nyby.auth.permissions import Action
from nyby.configuration.models import CheckType
from nyby.core.db import db
from nyby.core.errors import NotFound
from nyby.onboarding.models import CheckRecord
from nyby.tenancy.resolution import Actor


def get_check_type_or_404(actor: Actor, check_type_id: uuid.UUID) -> CheckType:
    """A check type of this tenant: every member may see what a check asks for."""
    check_type = db.session.scalar(select(CheckType).where(CheckType.id == check_type_id))
    if check_type is None:
        raise NotFound(gettext("No such check."))
    return check_type


def get_check_record_or_404(actor: Actor, check_id: uuid.UUID) -> CheckRecord:
    """A member's check, with its evidence: for the tenant's coordinators only. The
    volunteer who sent it never reads it back (routes refuse them with 403 first)."""
    if not actor.can(Action.VERIFY_VOLUNTEERS):
        raise NotFound(gettext("No such check."))
    record = db.session.scalar(select(CheckRecord).where(CheckRecord.id == check_id))
    if record is None:
        raise NotFound(gettext("No such check."))
    return record
