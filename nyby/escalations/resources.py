from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.escalations import services
from nyby.escalations.access import get_escalation_or_404
from nyby.escalations.schemas import (
    CandidateSchema,
    ClientContactSchema,
    ContactAttemptSchema,
    EscalationDetailSchema,
    EscalationQuerySchema,
    EscalationSchema,
    FailedContactCreateSchema,
    ReassignSchema,
)
from nyby.tasks.access import get_task_or_404
from nyby.tasks.schemas import ReasonSchema
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "escalations",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Failed contact with a client, and the coordinators' escalation queue.",
)


@blp.route("/tasks/<uuid:task_id>/contact-attempts")
class ContactAttempts(MethodView):
    @blp.response(200, ContactAttemptSchema(many=True))
    @blp.paginate()
    def get(self, task_id: uuid.UUID) -> Any:
        """Attempts to reach the task's client, oldest first (care team and holder)."""
        actor = current_actor()
        return services.contact_attempts(actor, get_task_or_404(actor, task_id))

    @blp.arguments(FailedContactCreateSchema)
    @blp.response(201, ContactAttemptSchema)
    @blp.alt_response(403, description="Only the task's holder records a failed contact")
    @blp.alt_response(409, description="The task is not held now (open, or ended)")
    def post(self, body: dict[str, Any], task_id: uuid.UUID) -> Any:
        """The holder could not reach the client ("no answer at the door / on the
        phone"). The tenant's Nth attempt escalates the task to the coordinators."""
        actor = current_actor()
        attempt = services.record_failed_contact(actor, get_task_or_404(actor, task_id), body)
        return services.present_attempts([attempt])[0]


@blp.route("/escalations")
class Escalations(MethodView):
    @allowed_to(Action.HANDLE_ESCALATIONS)
    @blp.arguments(EscalationQuerySchema, location="query")
    @blp.response(200, EscalationSchema(many=True))
    @blp.paginate()
    def get(self, query: dict[str, Any]) -> Any:
        """The coordinators' queue, most recent first: tasks nobody took after the last
        wave of offers, and tasks whose client could not be reached."""
        return services.queue(current_actor(), query["status"])


@blp.route("/escalations/<uuid:escalation_id>")
class EscalationDetail(MethodView):
    @allowed_to(Action.HANDLE_ESCALATIONS)
    @blp.response(200, EscalationDetailSchema)
    def get(self, escalation_id: uuid.UUID) -> Any:
        """An escalation with the task's history: contact attempts, status changes, offers."""
        actor = current_actor()
        return services.detail(actor, *get_escalation_or_404(actor, escalation_id))


@blp.route("/escalations/<uuid:escalation_id>/candidates")
class Candidates(MethodView):
    @allowed_to(Action.HANDLE_ESCALATIONS)
    @blp.response(200, CandidateSchema(many=True))
    @blp.paginate()
    def get(self, escalation_id: uuid.UUID) -> Any:
        """Members who may take the task now, by name: whom it can be given to."""
        actor = current_actor()
        _escalation, task = get_escalation_or_404(actor, escalation_id)
        return services.candidates(actor, task)


@blp.route("/escalations/<uuid:escalation_id>/reassign")
class Reassign(MethodView):
    @allowed_to(Action.HANDLE_ESCALATIONS)
    @blp.arguments(ReassignSchema)
    @blp.response(200, EscalationDetailSchema)
    @blp.alt_response(409, description="Already resolved, or the task moved on")
    def post(self, body: dict[str, Any], escalation_id: uuid.UUID) -> Any:
        """Give the task to a qualified member; the escalation is resolved."""
        actor = current_actor()
        escalation, task = get_escalation_or_404(actor, escalation_id)
        services.reassign(actor, escalation, task, body["membership_id"], body["note"])
        return services.detail(actor, escalation, task)


@blp.route("/escalations/<uuid:escalation_id>/contact-client")
class ContactClient(MethodView):
    @allowed_to(Action.HANDLE_ESCALATIONS)
    @blp.arguments(ClientContactSchema)
    @blp.response(200, EscalationDetailSchema)
    @blp.alt_response(409, description="Already resolved")
    def post(self, body: dict[str, Any], escalation_id: uuid.UUID) -> Any:
        """Record a coordinator's call or visit to the client; reached, it resolves the
        escalation and the task goes on as it was."""
        actor = current_actor()
        escalation, task = get_escalation_or_404(actor, escalation_id)
        services.contact_client(actor, escalation, task, body)
        return services.detail(actor, escalation, task)


@blp.route("/escalations/<uuid:escalation_id>/close-unmet")
class CloseUnmet(MethodView):
    @allowed_to(Action.HANDLE_ESCALATIONS)
    @blp.arguments(ReasonSchema)
    @blp.response(200, EscalationDetailSchema)
    @blp.alt_response(409, description="Already resolved, or the task has ended")
    def post(self, body: dict[str, Any], escalation_id: uuid.UUID) -> Any:
        """Nobody can do it: close the task as unmet, with the reason."""
        actor = current_actor()
        escalation, task = get_escalation_or_404(actor, escalation_id)
        services.close_unmet(actor, escalation, task, body["reason"])
        return services.detail(actor, escalation, task)
