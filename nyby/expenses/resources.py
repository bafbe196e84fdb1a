from __future__ import annotations

import uuid
from typing import Any

from flask import Response
from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.core.pipeline import accepts_files
from nyby.expenses import services
from nyby.expenses.access import get_claim_or_404
from nyby.expenses.schemas import (
    ClaimCreateSchema,
    ClaimQuerySchema,
    ClaimSchema,
    ExportQuerySchema,
    ReceiptLinkSchema,
    RejectionSchema,
)
from nyby.integrations.storage import attachment
from nyby.tasks.access import get_task_or_404
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "expenses",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Volunteers' out-of-pocket costs: claims, decisions, the export for finance.",
)


@blp.route("/tasks/<uuid:task_id>/expenses")
@accepts_files
class TaskExpenses(MethodView):
    @allowed_to(Action.CLAIM_EXPENSES)
    @blp.arguments(ClaimCreateSchema, location="upload")
    @blp.response(201, ClaimSchema)
    @blp.alt_response(403, description="Not a task you hold or have done")
    @blp.alt_response(413, description="The receipt is larger than the limit")
    def post(self, data: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
        """Claim a cost of a task you hold or have done: mileage (km x the tenant's
        rate), shopping paid upfront (with its receipt), parking, public transport or
        other. Over the tenant's limit per claim, or a receipt that is not a JPEG, PNG or
        PDF by its content: 422 and nothing is stored."""
        actor = current_actor()
        task = get_task_or_404(actor, task_id)
        receipt = data.pop("receipt", None)
        return services.present(services.claim_expense(actor, task, data, receipt))


@blp.route("/expenses")
class ClaimList(MethodView):
    @blp.arguments(ClaimQuerySchema, location="query")
    @blp.response(200, ClaimSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """Coordinators and admins: every claim (``status=claimed``: the queue, oldest
        first). Volunteers: their own."""
        return services.list_claims(current_actor(), **query)


@blp.route("/expenses/export")
class ClaimExport(MethodView):
    @allowed_to(Action.DECIDE_EXPENSES)
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.response(200, content_type="text/csv", description="Approved claims as CSV")
    def get(self, period: dict[str, Any]) -> Response:
        """Approved claims for finance, by the day they were approved (tenant's time)."""
        body = services.export_csv(current_actor(), period.get("start"), period.get("end"))
        return attachment(body, "expenses.csv", "text/csv")


@blp.route("/expenses/<uuid:claim_id>")
class ClaimDetail(MethodView):
    @blp.response(200, ClaimSchema)
    def get(self, claim_id: uuid.UUID) -> dict[str, Any]:
        return services.present(get_claim_or_404(current_actor(), claim_id))


@blp.route("/expenses/<uuid:claim_id>/receipt")
class ClaimReceipt(MethodView):
    @blp.response(200, ReceiptLinkSchema)
    def get(self, claim_id: uuid.UUID) -> dict[str, Any]:
        """A link that downloads the receipt for the next few minutes."""
        actor = current_actor()
        return services.receipt_link(actor, get_claim_or_404(actor, claim_id))


@blp.route("/expenses/<uuid:claim_id>/approve")
class ClaimApprove(MethodView):
    @allowed_to(Action.DECIDE_EXPENSES)
    @blp.response(200, ClaimSchema)
    @blp.alt_response(409, description="Already decided (by someone else, a moment ago)")
    def post(self, claim_id: uuid.UUID) -> dict[str, Any]:
        actor = current_actor()
        claim = get_claim_or_404(actor, claim_id)
        return services.present(services.decide(actor, claim, approve=True))


@blp.route("/expenses/<uuid:claim_id>/reject")
class ClaimReject(MethodView):
    @allowed_to(Action.DECIDE_EXPENSES)
    @blp.arguments(RejectionSchema)
    @blp.response(200, ClaimSchema)
    @blp.alt_response(409, description="Already decided (by someone else, a moment ago)")
    def post(self, body: dict[str, Any], claim_id: uuid.UUID) -> dict[str, Any]:
        """Reject with a reason, which the volunteer sees."""
        actor = current_actor()
        claim = get_claim_or_404(actor, claim_id)
        return services.present(services.decide(actor, claim, False, body["reason"]))
