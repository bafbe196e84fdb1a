"""The web app's onboarding pages: my roles and checks, and a coordinator's view of a
member's, where roles are approved and checks recorded. The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.errors import Unprocessable
from nyby.members.access import get_member_or_404
from nyby.onboarding import services
from nyby.onboarding.schemas import CheckOutcomeSchema, RoleDecisionSchema
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import read_form
from nyby.web.views import act, web

STATES = {
    None: lazy_gettext("Not applied"),
    "applied": lazy_gettext("Waiting for approval"),
    "approved": lazy_gettext("Approved"),
    "rejected": lazy_gettext("Not approved"),
    "suspended": lazy_gettext("Paused"),
    "pending": lazy_gettext("Waiting to be checked"),
    "verified": lazy_gettext("Verified"),
}


@web.get("/t/<tenant>/waiting")
def waiting() -> str:
    """The approval queue: who applied for a role, whose checks wait to be verified."""
    queue = services.waiting_for_decision(current_actor())
    return render_template("web/onboarding/waiting.html", queue=queue)


@web.get("/t/<tenant>/me/roles")
def my_roles() -> str:
    actor = current_actor()
    found = services.qualifications(actor, actor.membership)
    return render_template("web/onboarding/roles.html", member=None, found=found, states=STATES)


@web.get("/t/<tenant>/volunteers/<uuid:member_id>")
def member_roles(member_id: uuid.UUID) -> str:
    actor = current_actor()
    member = get_member_or_404(actor, member_id, Action.VIEW_MEMBERS)
    return render_template(
        "web/onboarding/roles.html",
        member=member,
        found=services.qualifications(actor, member),
        states=STATES,
        may_decide=actor.can(Action.VERIFY_VOLUNTEERS),
    )


def _decision(member_id: uuid.UUID, schema: Any, apply: Any, done: str) -> Response:
    actor = current_actor()
    back = url_for("web.member_roles", member_id=member_id)
    body, form = read_form(schema, request.form, actor.tenant.timezone)

    def decide() -> None:
        member = get_member_or_404(actor, member_id, Action.VERIFY_VOLUNTEERS)
        if body is None:
            messages = " ".join(m for ms in form.errors.values() for m in ms)
            raise Unprocessable(messages, errors=form.errors)
        apply(actor, member, body)

    return act(decide, done, back)


@web.post("/t/<tenant>/volunteers/<uuid:member_id>/roles")
def decide_role(member_id: uuid.UUID) -> Response:
    return _decision(
        member_id,
        RoleDecisionSchema(),
        lambda actor, member, body: services.decide_role(
            actor, member, body["role"], body["status"]
        ),
        _("The role decision is saved."),
    )


@web.post("/t/<tenant>/volunteers/<uuid:member_id>/checks")
def record_check(member_id: uuid.UUID) -> Response:
    return _decision(
        member_id,
        CheckOutcomeSchema(),
        lambda actor, member, body: services.record_check(
            actor, member, body["check_type"], body["status"], body.get("expires_at")
        ),
        _("The check is recorded."),
    )
