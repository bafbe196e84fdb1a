"""The web app's feedback pages: the feedback form on a completed task, the task's
timeline, and on a member's page the thumbs-up (coordinators) and the safeguarding-lead
switch (admins). The same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.core.errors import DomainError, Unprocessable
from nyby.feedback import services
from nyby.feedback.access import get_task_history_or_404
from nyby.feedback.schemas import FeedbackCreateSchema, ThanksCreateSchema
from nyby.members import services as members
from nyby.members.access import get_member_or_404
from nyby.members.models import Membership
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import act, web

KIND_NAMES = {
    "posted": lazy_gettext("Posted"),
    "offered": lazy_gettext("Offered"),
    "accepted": lazy_gettext("Taken"),
    "given_back": lazy_gettext("Given back, open again"),
    "started": lazy_gettext("Started"),
    "completed": lazy_gettext("Completed"),
    "cancelled": lazy_gettext("Cancelled"),
    "expired": lazy_gettext("Expired"),
    "unmet": lazy_gettext("Closed as unmet"),
    "feedback": lazy_gettext("Feedback"),
    "thanks": lazy_gettext("Thumbs-up"),
}
SIDE_NAMES = {
    "volunteer": lazy_gettext("from the volunteer"),
    "poster": lazy_gettext("from the poster"),
}


@web.route("/t/<tenant>/tasks/<uuid:task_id>/feedback", methods=["GET", "POST"])
def task_feedback(task_id: uuid.UUID) -> Any:
    """Both sides' feedback on a task, and the form for mine once it is completed."""
    actor = current_actor()
    task = get_task_history_or_404(actor, task_id)
    form, status = Form(), 200
    if request.method == "POST":
        body, form = read_form(FeedbackCreateSchema(), request.form, actor.tenant.timezone)
        if body is not None:
            try:
                services.leave_feedback(actor, task, body["rating"], body["comment"])
            except DomainError as error:
                form.refuse(error)
            else:
                flash(_("Thank you for your feedback."), "success")
                return redirect(url_for("web.task_feedback", task_id=task.id), 303)
        status = 422
    given = services.list_feedback(actor, task)
    side = services.side_of(actor, task)
    return render_template(
        "web/feedback/feedback.html",
        task=task,
        given=given,
        may_give=side is not None
        and task.status == "completed"
        and all(f["side"] != side for f in given),
        form=form,
        sides=SIDE_NAMES,
    ), status


@web.get("/t/<tenant>/tasks/<uuid:task_id>/timeline")
def task_timeline(task_id: uuid.UUID) -> str:
    actor = current_actor()
    task = get_task_history_or_404(actor, task_id)
    return render_template(
        "web/feedback/timeline.html",
        task=task,
        entries=services.timeline(actor, task),
        kinds=KIND_NAMES,
        sides=SIDE_NAMES,
    )


@web.post("/t/<tenant>/volunteers/<uuid:member_id>/thanks")
def send_thanks(member_id: uuid.UUID) -> Response:
    actor = current_actor()
    body, form = read_form(ThanksCreateSchema(), request.form, actor.tenant.timezone)

    def send() -> None:
        member = get_member_or_404(actor, member_id, Action.SEND_THANKS)
        if body is None:
            raise Unprocessable(" ".join(m for ms in form.errors.values() for m in ms))
        services.send_thanks(actor, member, body["note"], body.get("task_id"))

    return act(
        send,
        _("Your thumbs-up is sent."),
        url_for("web.member_roles", member_id=member_id),
    )


@web.post("/t/<tenant>/volunteers/<uuid:member_id>/safeguarding-lead")
def set_safeguarding_lead(member_id: uuid.UUID) -> Response:
    """Admins name (or stop naming) a member as a safeguarding lead."""
    actor = current_actor()
    lead = request.form.get("is_safeguarding_lead") == "yes"
    return act(
        lambda: members.update_member(
            actor,
            get_member_or_404(actor, member_id, Action.CHANGE_MEMBERS),
            {"is_safeguarding_lead": lead},
        ),
        _("Saved: this person is a safeguarding lead.")
        if lead
        else _("Saved: this person is no longer a safeguarding lead."),
        url_for("web.member_roles", member_id=member_id),
    )


@web.app_template_global()
def thanks_received(member: Membership) -> list[dict[str, Any]]:
    """For the member's page: the latest thanks they received."""
    actor = current_actor()
    rows, _total = read_page(services.list_thanks(actor, member), 0, 10)
    return services.present_thanks(rows)
