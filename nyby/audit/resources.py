from __future__ import annotations

from typing import Any

from flask.views import MethodView

from nyby.audit import services
from nyby.audit.schemas import AuditEntrySchema, AuditQuerySchema
from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="The audit trail: every change, and every read of a client record (admins).",
)


@blp.route("/audit")
class AuditTrail(MethodView):
    @allowed_to(Action.VIEW_AUDIT)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """Who changed or read what, newest first; each filter narrows it (admins)."""
        return services.audit_trail(current_actor(), **query)
