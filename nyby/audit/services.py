"""Reading the audit trail (admins). Writing it is ``trail.py``'s alone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from nyby.audit.models import AuditEntry
from nyby.auth.models import Account
from nyby.auth.permissions import Action
from nyby.core.api import Rows
from nyby.core.db import db
from nyby.tenancy.resolution import Actor


def audit_trail(
    actor: Actor,
    object_type: str | None = None,
    object_id: str | None = None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Rows:
    """The tenant's audit rows, newest first, narrowed by any of the filters."""
    actor.require(Action.VIEW_AUDIT)
    statement = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if object_type is not None:
        statement = statement.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        statement = statement.where(AuditEntry.object_id == object_id)
    if actor_id is not None:
        statement = statement.where(AuditEntry.actor_membership_id == actor_id)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.at < until)
    return Rows(statement, lambda page: present([row[0] for row in page]))


def present(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    """A page of rows with who acted by name, the names read in one query."""
    accounts = {e.actor_account_id for e in entries if e.actor_account_id is not None}
    names: dict[uuid.UUID, str] = {}
    if accounts:
        found = db.session.execute(select(Account.id, Account.name).where(Account.id.in_(accounts)))
        names = {account_id: name for account_id, name in found}
    return [
        {
            **{column.key: getattr(entry, column.key) for column in AuditEntry.__table__.columns},
            "actor_name": names.get(entry.actor_account_id),  # type: ignore[arg-type]
            "changes": [
                {"field": field, "before": before, "after": after}
                for field, (before, after) in sorted(entry.changes.items())
            ],
        }
        for entry in entries
    ]
