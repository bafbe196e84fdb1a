"""The web app's escalation pages: the coordinators' queue (failed contact and push
tasks nobody took, in one list), one escalation with the task's history and its
actions, and the holder's "could not reach them" form. Same services as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from nyby.auth.permissions import Action
from nyby.core.api import read_page
from nyby.core.errors import DomainError
from nyby.escalations import services
from nyby.escalations.access import get_escalation_or_404
from nyby.escalations.models import ContactMethod, EscalationStatus, Resolution
from nyby.escalations.schemas import ClientContactSchema, FailedContactCreateSchema
from nyby.tasks.access import get_task_or_404
from nyby.tasks.schemas import ReasonSchema
from nyby.tenancy.resolution import current_actor
from nyby.web.forms import Form, read_form
from nyby.web.views import act, web

SHOWN = 50
METHODS = {
    ContactMethod.DOOR: lazy_gettext("No answer at the door"),
    ContactMethod.PHONE: lazy_gettext("No answer on the phone"),
}
COORDINATOR_METHODS = {
    ContactMethod.PHONE: lazy_gettext("By phone"),
    ContactMethod.DOOR: lazy_gettext("At the door"),
}
REASONS = {
    "no_taker": lazy_gettext("Nobody took it after every wave of offers"),
    "failed_contact": lazy_gettext("The client could not be reached"),
}
RESOLUTIONS = {
    Resolution.REASSIGNED: lazy_gettext("Given to someone else"),
    Resolution.CLIENT_CONTACTED: lazy_gettext("A coordinator reached the client"),
    Resolution.CLOSED_UNMET: lazy_gettext("Closed as unmet"),
    Resolution.TAKEN: lazy_gettext("Someone took the task"),
    Resolution.TASK_ENDED: lazy_gettext("The task ended"),
}


def _pages() -> dict[str, Any]:
    return {"methods": METHODS, "reasons": REASONS, "resolutions": RESOLUTIONS}


@web.post("/t/<tenant>/tasks/<uuid:task_id>/contact-attempts")
def record_failed_contact(task_id: uuid.UUID) -> Response:
    """The holder's "could not reach them" button."""
    actor = current_actor()
    task = get_task_or_404(actor, task_id)
    data, _form = read_form(FailedContactCreateSchema(), request.form, actor.tenant.timezone)
    back = url_for("web.task_page", task_id=task_id, _anchor="contact")
    if data is None:
        flash(_("Say what happened: no answer at the door, or on the phone."), "error")
        return redirect(back, 303)
    return act(
        lambda: services.record_failed_contact(actor, task, data),
        _("Recorded. Thank you for trying; the coordinators are told when it keeps happening."),
        back,
    )


@web.get("/t/<tenant>/escalations")
def escalations() -> Any:
    """Tasks the coordinators must act on, open ones (or resolved ones) newest first."""
    actor = current_actor()
    actor.require(Action.HANDLE_ESCALATIONS)
    status = request.args.get("status", EscalationStatus.OPEN.value)
    if status not in {s.value for s in EscalationStatus}:
        status = EscalationStatus.OPEN.value
    rows, total = read_page(services.queue(actor, status), 0, SHOWN)
    return render_template(
        "web/escalations/queue.html", escalated=rows, total=total, status=status, **_pages()
    )


@web.get("/t/<tenant>/escalations/<uuid:escalation_id>")
def escalation_page(
    escalation_id: uuid.UUID, contact: Form | None = None, closing: Form | None = None
) -> Any:
    from nyby.tasks.views import STATUS_NAMES

    actor = current_actor()
    actor.require(Action.HANDLE_ESCALATIONS)
    escalation, task = get_escalation_or_404(actor, escalation_id)
    is_open = escalation.status == EscalationStatus.OPEN
    return render_template(
        "web/escalations/escalation.html",
        one=services.detail(actor, escalation, task),
        is_open=is_open,
        candidates=services.candidates(actor, task) if is_open else [],
        contact=contact or Form(),
        closing=closing or Form(),
        coordinator_methods=COORDINATOR_METHODS,
        status_names=STATUS_NAMES,
        **_pages(),
    ), (422 if (contact and contact.errors) or (closing and closing.errors) else 200)


def _back(escalation_id: uuid.UUID) -> str:
    return url_for("web.escalation_page", escalation_id=escalation_id)


@web.post("/t/<tenant>/escalations/<uuid:escalation_id>/reassign")
def reassign(escalation_id: uuid.UUID) -> Response:
    actor = current_actor()
    escalation, task = get_escalation_or_404(actor, escalation_id)
    try:
        member_id = uuid.UUID(request.form.get("membership_id", ""))
    except ValueError:
        member_id = uuid.UUID(int=0)  # nobody: the service says to choose someone
    note = request.form.get("note", "")[:2000]
    return act(
        lambda: services.reassign(actor, escalation, task, member_id, note),
        _("The task is given to them, and they are told."),
        _back(escalation_id),
    )


@web.post("/t/<tenant>/escalations/<uuid:escalation_id>/contact-client")
def contact_client(escalation_id: uuid.UUID) -> Any:
    actor = current_actor()
    escalation, task = get_escalation_or_404(actor, escalation_id)
    data, form = read_form(ClientContactSchema(), request.form, actor.tenant.timezone)
    if data is None:
        return escalation_page(escalation_id, contact=form)
    done = (
        _("Recorded: the escalation is resolved and the task goes on.")
        if data["reached"]
        else _("Recorded: the escalation stays open.")
    )
    return act(lambda: services.contact_client(actor, escalation, task, data), done,
               _back(escalation_id))  # fmt: skip


@web.post("/t/<tenant>/escalations/<uuid:escalation_id>/close-unmet")
def close_unmet(escalation_id: uuid.UUID) -> Any:
    actor = current_actor()
    escalation, task = get_escalation_or_404(actor, escalation_id)
    data, form = read_form(ReasonSchema(), request.form, actor.tenant.timezone)
    if data is None:
        return escalation_page(escalation_id, closing=form)
    return act(
        lambda: services.close_unmet(actor, escalation, task, data["reason"]),
        _("The task is closed as unmet."),
        _back(escalation_id),
    )


def contact_for(actor: Any, task: Any) -> dict[str, Any] | None:
    """The contact attempts on a task's page (care team and holder), and whether the
    holder may record one now."""
    try:
        attempts, _total = read_page(services.contact_attempts(actor, task), 0, SHOWN)
    except DomainError:
        return None
    holds = task.assignee_id == actor.membership.id and task.status in services.HELD
    return {
        "attempts": attempts,
        "may_record": holds,
        "pending": services.failed_since_escalation(task) if holds else 0,
        "limit": services.task_support(actor.tenant)["failed_contacts_to_escalate"],
        "methods": METHODS,
    }
