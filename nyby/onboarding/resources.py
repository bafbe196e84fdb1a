from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from nyby.auth.permissions import Action
from nyby.core.api import Blueprint
from nyby.members.access import get_member_or_404
from nyby.onboarding import services
from nyby.onboarding.schemas import CheckOutcomeSchema, QualificationsSchema, RoleDecisionSchema
from nyby.tenancy.resolution import allowed_to, current_actor

blp = Blueprint(
    "onboarding",
    __name__,
    url_prefix="/api/v1/tenants/<tenant>",
    description="Roles and checks: who may take which tasks.",
)


@blp.route("/members/<uuid:member_id>/qualifications")
class Qualifications(MethodView):
    @blp.response(200, QualificationsSchema)
    def get(self, member_id: uuid.UUID) -> dict[str, Any]:
        """A member's roles and checks, and what is missing for each role (coordinators,
        and the member themself)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VIEW_MEMBERS)
        return services.qualifications(actor, member)


@blp.route("/members/<uuid:member_id>/role-decisions")
class RoleDecision(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.arguments(RoleDecisionSchema)
    @blp.response(200, QualificationsSchema)
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> dict[str, Any]:
        """Approve, reject or suspend a member in a role (coordinators)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        services.decide_role(actor, member, body["role"], body["status"])
        return services.qualifications(actor, member)


@blp.route("/members/<uuid:member_id>/check-outcomes")
class CheckOutcome(MethodView):
    @allowed_to(Action.VERIFY_VOLUNTEERS)
    @blp.arguments(CheckOutcomeSchema)
    @blp.response(200, QualificationsSchema)
    def post(self, body: dict[str, Any], member_id: uuid.UUID) -> dict[str, Any]:
        """Record a check as verified (with its expiry) or rejected (coordinators)."""
        actor = current_actor()
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        services.record_check(
            actor, member, body["check_type"], body["status"], body.get("expires_at")
        )
        return services.qualifications(actor, member)
