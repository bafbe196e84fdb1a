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
from nyby.core.api import read_page
from nyby.core.errors import DomainError, Unprocessable
from nyby.core.pipeline import accepts_files
from nyby.members.access import get_member_or_404
from nyby.onboarding import checks, passport_views, services
from nyby.onboarding.access import get_check_type_or_404
from nyby.onboarding.schemas import CheckOutcomeSchema, RoleDecisionSchema
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import act, web

STATES = {
    None: lazy_gettext("Not applied"),
    "applied": lazy_gettext("Waiting for approval"),
    "approved": lazy_gettext("Approved"),
    "rejected": lazy_gettext("Not approved"),
    "suspended": lazy_gettext("Paused"),
    "pending": lazy_gettext("Waiting to be checked"),
    "verified": lazy_gettext("Verified"),
    "expired": lazy_gettext("Expired"),
}


QUEUE_PAGE = 50


@web.get("/t/<tenant>/waiting")
def waiting() -> str:
    """The approval queue, oldest sign-up first, with what each applicant still needs,
    and how long approval takes."""
    actor = current_actor()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    queue, total = read_page(
        services.waiting_for_decision(actor), (page - 1) * QUEUE_PAGE, QUEUE_PAGE
    )
    return render_template(
        "web/onboarding/waiting.html",
        queue=queue,
        page=page,
        pages=max(1, -(-total // QUEUE_PAGE)),
        times=services.approval_times(actor),
        describe=services.describe_missing,
    )


@web.get("/t/<tenant>/me/roles")
def my_roles() -> str:
    actor = current_actor()
    found = services.qualifications(actor, actor.membership)
    return render_template(
        "web/onboarding/roles.html",
        member=None,
        found=found,
        states=STATES,
        my_checks=checks.my_checks(actor),
        accept=ACCEPTED_FILES,
        passport=passport_views.sharing(actor),
    )


@web.get("/t/<tenant>/volunteers/<uuid:member_id>")
def member_roles(member_id: uuid.UUID) -> str:
    actor = current_actor()
    member = get_member_or_404(actor, member_id, Action.VIEW_MEMBERS)
    may_decide = actor.can(Action.VERIFY_VOLUNTEERS)
    return render_template(
        "web/onboarding/roles.html",
        member=member,
        found=services.qualifications(actor, member),
        states=STATES,
        may_decide=may_decide,
        evidence=checks.evidence_of_member(actor, member) if may_decide else {},
        missing=services.missing_by_role(actor, member) if may_decide else {},
        describe=services.describe_missing,
        passport=passport_views.received(actor, member),
    )


# Phone photos and scans, as the upload check accepts them (the picker's hint only).
ACCEPTED_FILES = "image/jpeg,image/png,image/heic,image/heif,image/webp,application/pdf,.heic"


@web.post("/t/<tenant>/me/checks/<uuid:check_type_id>/evidence")
@accepts_files  # type: ignore[arg-type]
def send_evidence(check_type_id: uuid.UUID) -> Response:
    actor = current_actor()

    def send() -> None:
        check_type = get_check_type_or_404(actor, check_type_id)
        number = request.form.get("number", "").strip() or None
        checks.submit_evidence(actor, check_type, request.files.get("file"), number)

    return act(send, _("Sent. A coordinator will check it."), url_for("web.my_roles"))


@web.route("/t/<tenant>/me/checks/<uuid:check_type_id>/training", methods=["GET", "POST"])
def training(check_type_id: uuid.UUID) -> str | tuple[str, int]:
    """The online module: each question a group of radio buttons; the result after."""
    actor = current_actor()
    check_type = get_check_type_or_404(actor, check_type_id)
    module = checks.training_module(actor, check_type)
    form = Form(values=dict(request.form))
    result = None
    if request.method == "POST":
        answers = []
        for question in module["questions"]:
            name = f"q{question['number']}"
            chosen = request.form.get(name, "")
            if not chosen.isdigit():
                form.errors[name] = [_("Choose an answer.")]
            else:
                answers.append(int(chosen))
        if not form.errors:
            try:
                result = checks.take_training(actor, check_type, answers)
            except DomainError as error:
                form.refuse(error)
        if result is None:
            return render_template(
                "web/onboarding/training.html", module=module, form=form, result=None
            ), 422
    return render_template("web/onboarding/training.html", module=module, form=form, result=result)


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
            actor, member, body["role"], body["status"], body["reason"], body["version"]
        ),
        _("The role decision is saved."),
    )


@web.post("/t/<tenant>/volunteers/<uuid:member_id>/checks")
def record_check(member_id: uuid.UUID) -> Response:
    return _decision(
        member_id,
        CheckOutcomeSchema(),
        lambda actor, member, body: services.record_check(
            actor,
            member,
            body["check_type"],
            body["status"],
            body.get("expires_at"),
            body["reason"],
            body["version"],
        ),
        _("The check is recorded."),
    )
