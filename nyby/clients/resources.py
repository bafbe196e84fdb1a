from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.clients import services
from nyby.clients.access import get_client_or_404
from nyby.clients.models import Client
from nyby.clients.schemas import (
    ClientChangesSchema,
    ClientCreateSchema,
    ClientQuerySchema,
    ClientSchema,
)
from nyby.core.api import Blueprint
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "clients",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="The people the tenant supports (care team only).",
)


@blp.route("/clients")
class ClientList(MethodView):
    @blp.arguments(ClientQuerySchema, location="query")
    @blp.response(200, ClientSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """The tenant's clients, by name (admins, coordinators, professionals)."""
        return services.list_clients(current_actor(), **query)

    @allowed_to(Action.CHANGE_CLIENTS)
    @blp.arguments(ClientCreateSchema)
    @blp.response(201, ClientSchema)
    def post(self, data: dict[str, Any]) -> Client:
        """Add a client; the caller is their responsible professional unless others are named."""
        return services.create_client(current_actor(), data)


@blp.route("/clients/<uuid:client_id>")
class ClientDetail(MethodView):
    @blp.etag
    @blp.response(200, ClientSchema)
    def get(self, client_id: uuid.UUID) -> Client:
        return get_client_or_404(current_actor(), client_id, Action.VIEW_CLIENTS)

    @allowed_to(Action.CHANGE_CLIENTS)
    @blp.etag
    @blp.arguments(ClientChangesSchema, required=False)
    @blp.response(200, ClientSchema)
    def patch(self, data: dict[str, Any], client_id: uuid.UUID) -> Client:
        """Change a client's record; pausing or ending support needs a reason."""
        actor = current_actor()
        client = get_client_or_404(actor, client_id, Action.CHANGE_CLIENTS)
        blp.check_etag(client, ClientSchema)
        return services.update_client(actor, client, data)
