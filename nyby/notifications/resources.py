from __future__ import annotations

from typing import Any

from flask.views import MethodView

from nyby.core.api import Blueprint
from nyby.notifications import services
from nyby.notifications.schemas import (
    InboxQuerySchema,
    MarkedSchema,
    MarkReadSchema,
    NotificationSchema,
)
from nyby.tenancy.resolution import current_actor

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="My in-app inbox: what happened to my tasks.",
)


@blp.route("/notifications")
class Inbox(MethodView):
    @blp.arguments(InboxQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """My notifications, newest first (``unread=true``: the unread count is the total)."""
        return services.inbox(current_actor(), **query)


@blp.route("/notifications/read")
class MarkRead(MethodView):
    @blp.arguments(MarkReadSchema, required=False)
    @blp.response(200, MarkedSchema)
    def post(self, body: dict[str, Any]) -> dict[str, int]:
        """Mark some (or all) of my notifications read."""
        return {"marked": services.mark_read(current_actor(), body.get("ids"))}
