from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.safeguarding import services
from nyby.safeguarding.access import get_concern_or_404
from nyby.safeguarding.schemas import (
    ConcernCreateSchema,
    ConcernNoteCreateSchema,
    ConcernNoteSchema,
    ConcernQuerySchema,
    ConcernSchema,
    ConcernUpdateSchema,
)
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "safeguarding",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Safeguarding concerns: raised by anyone, read only by the safeguarding leads.",
)


@blp.route("/concerns")
class ConcernList(MethodView):
    @blp.arguments(ConcernQuerySchema, location="query")
    @blp.response(200, ConcernSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """Safeguarding leads: every concern, newest first. Anyone else: those they raised."""
        return services.list_concerns(current_actor(), **query)

    @allowed_to(Action.RAISE_CONCERNS)
    @blp.arguments(ConcernCreateSchema)
    @blp.response(201, ConcernSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Raise a concern about a task or a client. Every safeguarding lead is told at
        once (a notice with a link; never the concern's words)."""
        actor = current_actor()
        return services.present(actor, services.raise_concern(actor, data))


@blp.route("/concerns/<uuid:concern_id>")
class ConcernDetail(MethodView):
    @blp.etag
    @blp.response(200, ConcernSchema)
    def get(self, concern_id: uuid.UUID) -> dict[str, Any]:
        """A concern: whole for the leads; its words and status for whoever raised it."""
        actor = current_actor()
        return services.present(actor, get_concern_or_404(actor, concern_id))

    @blp.etag
    @blp.arguments(ConcernUpdateSchema)
    @blp.response(200, ConcernSchema)
    @blp.alt_response(403, description="Not a safeguarding lead")
    def patch(self, changes: dict[str, Any], concern_id: uuid.UUID) -> dict[str, Any]:
        """Record the status and outcome (safeguarding leads); closing needs an outcome."""
        actor = current_actor()
        concern = get_concern_or_404(actor, concern_id)
        blp.check_etag(services.present(actor, concern), ConcernSchema)
        return services.present(actor, services.update_concern(actor, concern, changes))


@blp.route("/concerns/<uuid:concern_id>/notes")
class ConcernNotes(MethodView):
    @blp.response(200, ConcernNoteSchema(many=True))
    @blp.paginate()
    def get(self, concern_id: uuid.UUID) -> Any:
        """The leads' notes on a concern, oldest first (safeguarding leads)."""
        actor = current_actor()
        return services.list_notes(actor, get_concern_or_404(actor, concern_id))

    @blp.arguments(ConcernNoteCreateSchema)
    @blp.response(201, ConcernNoteSchema)
    def post(self, body: dict[str, Any], concern_id: uuid.UUID) -> dict[str, Any]:
        """Add a note (safeguarding leads): calls made, who was told, what next."""
        actor = current_actor()
        concern = get_concern_or_404(actor, concern_id)
        note = services.add_note(actor, concern, body["body"])
        return {
            "id": note.id,
            "author_id": note.author_id,
            "author_name": actor.membership.account.name,
            "body": note.body,
            "created_at": note.created_at,
        }
