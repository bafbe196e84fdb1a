from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.exports import services
from nyby.exports.access import get_export_or_404
from nyby.exports.schemas import ExportCreateSchema, ExportSchema
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "exports",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Admins' CSV exports of tasks, volunteers and metrics, made by a job.",
)


@blp.route("/exports")
class ExportList(MethodView):
    @allowed_to(Action.EXPORT_DATA)
    @blp.response(200, ExportSchema(many=True))
    @blp.paginate()
    def get(self) -> Any:
        """The tenant's exports, newest first."""
        return services.list_exports(current_actor())

    @allowed_to(Action.EXPORT_DATA)
    @blp.arguments(ExportCreateSchema)
    @blp.response(201, ExportSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Ask for an export. A job writes the CSV in the background: follow its progress
        with GET until ``status`` is ``done`` (then ``download_url``) or ``failed``
        (then ``error`` says why). Send an ``Idempotency-Key`` so a retry asks once."""
        return services.present(services.request_export(current_actor(), data))


@blp.route("/exports/<uuid:export_id>")
class ExportDetail(MethodView):
    @blp.response(200, ExportSchema)
    def get(self, export_id: uuid.UUID) -> dict[str, Any]:
        """Status and progress (rows done of the total, percent); when done, a link that
        downloads the file for the next few minutes."""
        return services.present(get_export_or_404(current_actor(), export_id))
