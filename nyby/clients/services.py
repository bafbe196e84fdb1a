"""Client records: creating, changing, pausing and ending support."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select

from nyby.auth.permissions import Action
from nyby.clients.models import NEED_FLAGS, Client, ClientProfessional, ClientStatus
from nyby.core.db import db, utcnow
from nyby.core.errors import Unprocessable
from nyby.geo import Place, locate
from nyby.members.models import Membership
from nyby.tasks.services import cancel_open_tasks_of
from nyby.tenancy.resolution import Actor

PLAIN_FIELDS = (
    "name",
    "phone",
    "email",
    "address",
    "postcode",
    *NEED_FLAGS,
    "interpreter_language",
    "risk_assessment",
    "consent_note",
)


def list_clients(actor: Actor, status: str | None = None, name: str | None = None) -> Select[Any]:
    actor.require(Action.VIEW_CLIENTS)
    statement = select(Client).order_by(Client.name, Client.id)
    if status is not None:
        statement = statement.where(Client.status == status)
    if name is not None:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(Client.name.ilike(f"%{escaped}%", escape="\\"))
    return statement


def create_client(actor: Actor, data: dict[str, Any]) -> Client:
    actor.require(Action.CHANGE_CLIENTS)
    professionals = _care_team_members(data.get("professionals", [actor.membership.id]))
    client = Client(name=data["name"])
    _apply(actor, client, data)
    db.session.add(client)
    db.session.flush()
    _set_professionals(client, professionals)
    return client


def update_client(actor: Actor, client: Client, data: dict[str, Any]) -> Client:
    actor.require(Action.CHANGE_CLIENTS)
    professionals = _care_team_members(data["professionals"]) if "professionals" in data else None
    if "status" in data and data["status"] != client.status:
        if data["status"] != ClientStatus.ACTIVE and not data.get("status_reason", "").strip():
            raise Unprocessable(
                "Say why support is paused or ended.",
                errors={"status_reason": ["Required when pausing or ending support."]},
            )
        client.status = data["status"]
        client.status_reason = data.get("status_reason", "")
        if client.status == ClientStatus.ENDED:
            cancel_open_tasks_of(actor, client, f"Support ended: {client.status_reason}")
    _apply(actor, client, data)
    if professionals is not None:
        _set_professionals(client, professionals)
    db.session.flush()
    return client


def _apply(actor: Actor, client: Client, data: dict[str, Any]) -> None:
    for field in PLAIN_FIELDS:
        if field in data and getattr(client, field) != data[field]:
            setattr(client, field, data[field])
    if "latitude" in data:
        locate(client, Place(data["latitude"], data["longitude"]))
    if "consent_given" in data:
        given = data["consent_given"]
        if given and client.consent_given_at is None:
            client.consent_given_at, client.consent_recorded_by = utcnow(), actor.membership.id
        elif not given and client.consent_given_at is not None:
            client.consent_given_at, client.consent_recorded_by = None, actor.membership.id


def _care_team_members(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Responsible professionals must be active care-team members of this tenant."""
    wanted = list(dict.fromkeys(ids))
    found = set(
        db.session.scalars(
            select(Membership.id).where(
                Membership.id.in_(wanted),
                Membership.is_active,
                Membership.is_professional | Membership.is_coordinator | Membership.is_admin,
            )
        )
    )
    unknown = [str(i) for i in wanted if i not in found]
    if unknown:
        raise Unprocessable(
            "Responsible professionals must be care-team members of this tenant.",
            errors={"professionals": [f"Not a care-team member here: {', '.join(unknown)}"]},
        )
    return wanted


def _set_professionals(client: Client, membership_ids: list[uuid.UUID]) -> None:
    current = {link.membership_id for link in client.professional_links}
    wanted = set(membership_ids)
    if current == wanted:
        return
    db.session.execute(
        delete(ClientProfessional).where(
            ClientProfessional.client_id == client.id,
            ClientProfessional.membership_id.in_(current - wanted),
        )
    )
    db.session.add_all(
        ClientProfessional(client_id=client.id, membership_id=m) for m in wanted - current
    )
    # A change of who is responsible is a change to the record: a stale If-Match fails.
    client.updated_at = utcnow()
    db.session.flush()
    db.session.expire(client, ["professional_links"])
